// Goal: show a whole server conversation frame by frame, as an etcd gRPC client would drive it: preface and
// SETTINGS exchange, PING, a unary call, a streaming call with trailers, GOAWAY in both directions.
// Method: scripts of client frames, each step followed by the exact server frames expected (one-line
// descriptions with header blocks decoded by the test client's own HPACK decoder) and the events delivered.
import HPACK
import Testing
@testable import HTTP2

@Suite("HTTP/2 connection conversations")
struct ConnectionConversationTests {
    @Test("server preface is SETTINGS then the connection WINDOW_UPDATE; client SETTINGS are acknowledged")
    func prefaceAndSettings() {
        var client = TestClient()
        client.server = HTTP2Connection()
        #expect(client.read() == ["SETTINGS 3=100 4=1048576 5=16384 6=16384", "WINDOW_UPDATE 0 4128769"])
        // The preface split across reads, then SETTINGS with gRPC C-core's unknown 0xFE03 parameter.
        let preface = HTTP2Constants.clientPreface
        #expect(client.server.receive(preface[..<10]).isEmpty)
        #expect(client.server.receive(preface[10...]).isEmpty)
        let settings = Frame.settings(ack: false, parameters: [
            SettingsParameter(.initialWindowSize, 1 << 20), SettingsParameter(SettingsIdentifier(rawValue: 0xFE03), 1),
        ])
        #expect(client.send(settings).isEmpty)
        #expect(client.read() == ["SETTINGS ACK"])
        #expect(client.send(.settings(ack: true, parameters: [])).isEmpty)
        #expect(client.read() == [])
    }

    @Test("PING is answered with the same opaque data, however often")
    func pings() {
        var client = TestClient()
        for round in 0..<1000 {
            client.send(.ping(ack: false, opaque: UInt64(round)))
            #expect(client.read() == ["PING ACK \(round)"])
        }
        #expect(client.send(.ping(ack: true, opaque: 9)).isEmpty)
        #expect(client.read() == [])
        #expect(!client.server.isFinished)
    }

    @Test("PING acknowledgements alone may wait for an answer, and lead the write that carries it")
    func pingAcknowledgementsRideWithTheAnswer() throws {
        var client = TestClient()
        #expect(!client.server.outboundIsOnlyPingAcknowledgements)  // nothing queued
        client.openRequest(1)
        // grpc-go's request: WINDOW_UPDATE, its bandwidth-delay PING, then the call's body in one write.
        client.send(.windowUpdate(stream: 0, increment: 10), .ping(ack: false, opaque: 7),
                    .data(stream: 1, payload: [0, 0, 0, 0, 0], endStream: true, padding: nil))
        client.send(.ping(ack: false, opaque: 8))
        #expect(client.server.outboundIsOnlyPingAcknowledgements)
        try client.server.sendHeaders(responseFields, on: 1)
        #expect(!client.server.outboundIsOnlyPingAcknowledgements)
        try client.server.sendData([0, 0, 0, 0, 0], on: 1)
        try client.server.sendTrailers([HeaderField("grpc-status", "0")], on: 1)
        #expect(client.read() == [
            "PING ACK 7", "PING ACK 8", "HEADERS 1 [:status: 200, content-type: application/grpc]", "DATA 1 len=5",
            "HEADERS 1 END_STREAM [grpc-status: 0]",
        ])
        #expect(!client.server.outboundIsOnlyPingAcknowledgements)
        // Anything else queued first (a SETTINGS acknowledgement) must go now, with the PING answered behind it.
        client.send(.settings(ack: false, parameters: []), .ping(ack: false, opaque: 9))
        #expect(!client.server.outboundIsOnlyPingAcknowledgements)
        #expect(client.read() == ["SETTINGS ACK", "PING ACK 9"])
        // Data waiting only for the client's window does not make the acknowledgement urgent.
        client.openRequest(3)
        try client.server.sendHeaders(responseFields, on: 3)
        _ = client.read()
        client.send(.settings(ack: false, parameters: [SettingsParameter(.initialWindowSize, 0)]))
        _ = client.read()
        try client.server.sendData([1, 2, 3], on: 3)
        client.send(.ping(ack: false, opaque: 10))
        #expect(client.server.outboundIsOnlyPingAcknowledgements)
        #expect(client.read() == ["PING ACK 10"])
    }

    @Test("a unary call: request headers and body in, headers, data and trailers out, stream closed")
    func unaryCall() throws {
        var client = TestClient()
        #expect(client.openRequest(1) == [.requestHeaders(1, requestFields(), endStream: false)])
        let events = client.send(.data(stream: 1, payload: [0, 0, 0, 0, 2, 8, 1], endStream: true, padding: nil))
        #expect(events == [.data(1, [0, 0, 0, 0, 2, 8, 1], endStream: true)])
        try client.server.sendHeaders(responseFields, on: 1)
        try client.server.sendData([0, 0, 0, 0, 3, 1, 2, 3], on: 1)
        try client.server.sendTrailers([HeaderField("grpc-status", "0")], on: 1)
        #expect(client.read() == [
            "HEADERS 1 [:status: 200, content-type: application/grpc]",
            "DATA 1 len=8",
            "HEADERS 1 END_STREAM [grpc-status: 0]",
        ])
        #expect(client.server.activeStreamCount == 0)
        #expect(throws: HTTP2SendError.unknownStream(1)) { try client.server.sendData([1], on: 1) }
    }

    @Test("a trailers-only error reply is one HEADERS with END_STREAM")
    func trailersOnly() throws {
        var client = TestClient()
        client.openRequest(1, endStream: true)
        try client.server.sendTrailersOnly([HeaderField(":status", "200"), HeaderField("grpc-status", "12")], on: 1)
        #expect(client.read() == ["HEADERS 1 END_STREAM [:status: 200, grpc-status: 12]"])
        #expect(client.server.activeStreamCount == 0)
    }

    @Test("a streaming call: client trailers end the request, data flows both ways, streams interleave")
    func streamingCall() throws {
        var client = TestClient()
        client.openRequest(1, path: "/etcdserverpb.Watch/Watch")
        client.openRequest(3)
        let padded = Frame.data(stream: 1, payload: [1], endStream: false, padding: 4)
        #expect(client.send(padded) == [.data(1, [1], endStream: false)])
        let trailers = client.headers(1, [HeaderField("x-trailer", "yes")], endStream: true)
        #expect(client.send(trailers) == [.trailers(1, [HeaderField("x-trailer", "yes")])])
        try client.server.sendHeaders(responseFields, on: 1)
        try client.server.sendHeaders(responseFields, on: 3)
        try client.server.sendData([1, 2], on: 1)
        try client.server.sendData([3], on: 3, endStream: true)
        #expect(client.read() == [
            "HEADERS 1 [:status: 200, content-type: application/grpc]",
            "HEADERS 3 [:status: 200, content-type: application/grpc]",
            "DATA 1 len=2",
            "DATA 3 len=1 END_STREAM",
        ])
        // Stream 1 is half-closed (remote) until we end it; stream 3 half-closed (local) until the client does.
        #expect(client.server.activeStreamCount == 2)
        #expect(throws: HTTP2SendError.streamEnded(3)) { try client.server.sendData([4], on: 3) }
    }

    @Test("headers queued behind data keep their order, and HPACK sees blocks in wire order")
    func headersAfterQueuedData() throws {
        var client = TestClient(settings: [SettingsParameter(.initialWindowSize, 1)])
        client.openRequest(1)
        try client.server.sendHeaders(responseFields, on: 1)
        try client.server.sendData([1, 2, 3], on: 1)
        try client.server.sendTrailers([HeaderField("grpc-status", "0")], on: 1)
        #expect(client.read() == ["HEADERS 1 [:status: 200, content-type: application/grpc]", "DATA 1 len=1"])
        client.send(.windowUpdate(stream: 1, increment: 10))
        #expect(client.read() == ["DATA 1 len=2", "HEADERS 1 END_STREAM [grpc-status: 0]"])
    }

    @Test("large response headers are split into HEADERS and CONTINUATION at the client's frame size")
    func continuationOut() throws {
        var client = TestClient()
        client.openRequest(1)
        // '~' has a 13-bit Huffman code, so the value is sent raw and the block stays over 32 KiB.
        let big = HeaderField("x-big", String(repeating: "~", count: 40_000), indexing: .withoutIndexing)
        try client.server.sendHeaders([HeaderField(":status", "200"), big], on: 1, endStream: true)
        let frames = client.readFrames()
        #expect(frames.count == 3)
        guard case .headers(_, let first, _, false, _, _) = frames[0],
              case .continuation(_, let second, false) = frames[1],
              case .continuation(_, let third, true) = frames[2] else {
            Issue.record("expected HEADERS, CONTINUATION, CONTINUATION(END_HEADERS): \(frames)")
            return
        }
        #expect(first.count == 16384 && second.count == 16384)
        #expect(try client.decoder.decode(first + second + third) == [HeaderField(":status", "200"),
                                                                      HeaderField(name: big.name, value: big.value)])
    }

    @Test("client GOAWAY is reported and the connection finishes once streams end")
    func clientGoAway() throws {
        var client = TestClient()
        client.openRequest(1, endStream: true)
        let events = client.send(.goAway(lastStream: 0, code: .noError, debugData: []))
        #expect(events == [.goAway(lastStream: 0, code: .noError, debugData: [])])
        #expect(!client.server.isFinished)
        try client.server.sendTrailersOnly([HeaderField(":status", "200"), HeaderField("grpc-status", "0")], on: 1)
        #expect(client.server.isFinished)
    }

    @Test("graceful shutdown: GOAWAY names the last stream, later streams are ignored, finish after the last")
    func gracefulShutdown() throws {
        var client = TestClient()
        client.openRequest(1, endStream: true)
        client.server.beginGracefulShutdown()
        #expect(client.read() == ["GOAWAY 1 NO_ERROR"])
        #expect(client.openRequest(3).isEmpty)
        #expect(client.read() == [])
        #expect(!client.server.isFinished)
        try client.server.sendTrailersOnly([HeaderField(":status", "200"), HeaderField("grpc-status", "0")], on: 1)
        _ = client.read()
        #expect(client.server.isFinished)
        // Stream 3's block was still decoded, so HPACK state is intact for the (hypothetical) next block.
        #expect(client.server.headerDecoder.table == client.encoder.table)
    }

    @Test("client reset of a known stream is reported and drops its queue")
    func clientReset() throws {
        var client = TestClient(settings: [SettingsParameter(.initialWindowSize, 0)])
        client.openRequest(1)
        try client.server.sendHeaders(responseFields, on: 1)
        try client.server.sendData([UInt8](repeating: 1, count: 100), on: 1)
        #expect(client.server.queuedBytes(on: 1) == 100)
        #expect(client.send(.rstStream(stream: 1, code: .cancel)) == [.streamReset(1, .cancel)])
        #expect(client.server.queuedBytes == 0)
        #expect(client.send(.data(stream: 1, payload: [1], endStream: false, padding: nil)).isEmpty)
        #expect(client.send(.windowUpdate(stream: 1, increment: 5)).isEmpty)
        #expect(client.read() == ["HEADERS 1 [:status: 200, content-type: application/grpc]"])
    }

    @Test("application reset sends RST_STREAM and late client frames on it are ignored")
    func applicationReset() {
        var client = TestClient()
        client.openRequest(1)
        client.server.resetStream(1, code: .cancel)
        #expect(client.read() == ["RST_STREAM 1 CANCEL"])
        #expect(client.send(.data(stream: 1, payload: [1], endStream: true, padding: nil)).isEmpty)
        #expect(client.read() == [])
    }

    @Test("unknown frame types and PRIORITY frames are ignored")
    func ignoredFrames() {
        var client = TestClient()
        let events = client.send(.unknown(type: 0xF0, flags: 0, stream: 0, payload: [1, 2]),
                                 .priority(stream: 9, PriorityInfo(exclusive: false, dependency: 0, weight: 1)))
        #expect(events.isEmpty)
        #expect(client.read() == [])
        #expect(client.openRequest(1).count == 1)
    }
}
