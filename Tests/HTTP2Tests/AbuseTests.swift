// Goal: show each protocol violation and each abuse pattern ends the way RFC 9113 (and the CVE write-ups behind
// our limits) prescribe: the right code, stream error vs connection error, and HPACK kept in step whenever the
// connection survives. Method: a scripted client commits one violation or flood per test; the server's frames
// are read back and the GOAWAY or RST_STREAM code checked.
import HPACK
import Testing
@testable import HTTP2

@Suite("HTTP/2 protocol violations and abuse")
struct AbuseTests {
    @Test("a connection that does not start with the preface fails with PROTOCOL_ERROR")
    func badPreface() throws {
        var server = HTTP2Connection()
        _ = server.takeOutbound()
        let events = server.receive(Array("GET / HTTP/1.1\r\n".utf8))
        #expect(events.count == 1)
        #expect(server.isFinished)
        var decoder = FrameDecoder()
        decoder.append(server.takeOutbound())
        #expect(goAwayCode([try decoder.nextFrame()].compactMap { $0 }) == .protocolError)
        #expect(server.receive(HTTP2Constants.clientPreface).isEmpty)
    }

    @Test("the first frame after the preface must be SETTINGS")
    func settingsFirst() {
        var server = HTTP2Connection()
        _ = server.takeOutbound()
        _ = server.receive(HTTP2Constants.clientPreface + Frame.ping(ack: false, opaque: 1).encoded)
        var decoder = FrameDecoder()
        decoder.append(server.takeOutbound())
        #expect(goAwayCode([try? decoder.nextFrame()].compactMap { $0 }) == .protocolError)
    }

    @Test("connection-level violations end the connection with the RFC's code", arguments: [
        ("PUSH_PROMISE from a client", Frame.pushPromise(stream: 1, promised: 2, fragment: [], endHeaders: true,
                                                         padding: nil), HTTP2ErrorCode.protocolError),
        ("HEADERS on an even stream", .headers(stream: 2, fragment: [0x82], endStream: true, endHeaders: true,
                                               priority: nil, padding: nil), .protocolError),
        ("DATA on an idle stream", .data(stream: 5, payload: [1], endStream: false, padding: nil), .protocolError),
        ("RST_STREAM on an idle stream", .rstStream(stream: 5, code: .cancel), .protocolError),
        ("WINDOW_UPDATE on an idle stream", .windowUpdate(stream: 5, increment: 1), .protocolError),
        ("CONTINUATION without HEADERS", .continuation(stream: 1, fragment: [], endHeaders: true), .protocolError),
        ("a block that breaks HPACK", .headers(stream: 3, fragment: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F],
                                               endStream: true, endHeaders: true, priority: nil, padding: nil),
         .compressionError),
        ("an HPACK table size above our setting", .headers(stream: 3, fragment: [0x3F, 0xE2, 0x1F, 0x82],
                                                           endStream: true, endHeaders: true, priority: nil,
                                                           padding: nil), .compressionError),
    ] as [(String, Frame, HTTP2ErrorCode)])
    func connectionErrors(name: String, frame: Frame, code: HTTP2ErrorCode) {
        var client = TestClient()
        client.openRequest(1)
        let events = client.send(frame)
        #expect(events.count == 1, "\(name)")
        #expect(goAwayCode(client.readFrames()) == code, "\(name)")
        #expect(client.server.isFinished)
    }

    @Test("HEADERS on a stream that closed normally is a connection STREAM_CLOSED error")
    func headersOnClosedStream() throws {
        var client = TestClient()
        client.openRequest(1, endStream: true)
        try client.server.sendTrailersOnly([HeaderField(":status", "200")], on: 1)
        _ = client.read()
        client.openRequest(1, endStream: true)
        #expect(client.read() == ["GOAWAY 1 STREAM_CLOSED"])
    }

    @Test("a new stream id not above the previous one is a PROTOCOL_ERROR")
    func decreasingStreamID() {
        var client = TestClient()
        client.openRequest(5)
        client.openRequest(3)
        #expect(client.read() == ["GOAWAY 5 PROTOCOL_ERROR"])
    }

    @Test("an empty END_STREAM DATA frame goes out even when the stream window is negative")
    func emptyEndStreamWithNegativeWindow() throws {
        var client = TestClient(settings: [SettingsParameter(.initialWindowSize, 10)])
        client.openRequest(1, endStream: true)
        try client.server.sendHeaders(responseFields, on: 1)
        try client.server.sendData([UInt8](repeating: 0, count: 10), on: 1)
        _ = client.read()
        client.send(.settings(ack: false, parameters: [SettingsParameter(.initialWindowSize, 0)]))
        try client.server.sendData([], on: 1, endStream: true)
        #expect(client.read() == ["SETTINGS ACK", "DATA 1 len=0 END_STREAM"])
        #expect(client.server.activeStreamCount == 0)
    }

    @Test("a request whose names and values use every allowed octet class is accepted")
    func wellFormedFieldSyntax() {
        var client = TestClient()
        let fields = [
            HeaderField(":method", "POST"), HeaderField(":scheme", "http"), HeaderField(":path", "/a b"),
            HeaderField("x-!#$%&'*+.^_`|~09az", "in\tside spaces and \u{7F}\u{E9}"),
        ]
        let events = client.send(client.headers(1, fields, endStream: true))
        #expect(events.count == 1)
        #expect(client.read().isEmpty)
    }

    @Test("DATA after the client ended the stream is a stream STREAM_CLOSED error")
    func dataAfterEndStream() {
        var client = TestClient()
        client.openRequest(1, endStream: true)
        client.send(.data(stream: 1, payload: [1], endStream: false, padding: nil))
        #expect(client.read() == ["RST_STREAM 1 STREAM_CLOSED"])
    }

    @Test("malformed requests are reset with PROTOCOL_ERROR and never reach the application", arguments: [
        [HeaderField(":method", "POST"), HeaderField(":path", "/")],
        [HeaderField(":method", "POST"), HeaderField(":scheme", "http"), HeaderField(":path", "/"),
         HeaderField("Content-Type", "x")],
        [HeaderField(":method", "POST"), HeaderField("a", "b"), HeaderField(":scheme", "http"),
         HeaderField(":path", "/")],
        [HeaderField(":method", "POST"), HeaderField(":scheme", "http"), HeaderField(":path", "/"),
         HeaderField("connection", "keep-alive")],
        [HeaderField(":method", "POST"), HeaderField(":scheme", "http"), HeaderField(":path", "/"),
         HeaderField("te", "gzip")],
        [HeaderField(":method", "POST"), HeaderField(":scheme", "http"), HeaderField(":path", "/"),
         HeaderField(":status", "200")],
        [HeaderField(":method", "POST"), HeaderField(":method", "GET"), HeaderField(":scheme", "http"),
         HeaderField(":path", "/")],
        [HeaderField(":method", "POST"), HeaderField(":scheme", "http"), HeaderField(":path", "/"),
         HeaderField("x", " padded")],
        // Field syntax (RFC 9113 §8.2.1), octet by octet: each name or value breaks one rule.
        [HeaderField(":method", "POST"), HeaderField(":scheme", "http"), HeaderField(":path", "/"),
         HeaderField("x-Upper", "v")],
        [HeaderField(":method", "POST"), HeaderField(":scheme", "http"), HeaderField(":path", "/"),
         HeaderField("x y", "v")],
        [HeaderField(":method", "POST"), HeaderField(":scheme", "http"), HeaderField(":path", "/"),
         HeaderField("x:y", "v")],
        [HeaderField(":method", "POST"), HeaderField(":scheme", "http"), HeaderField(":path", "/"),
         HeaderField(name: [0x78, 0x80], value: Array("v".utf8))],
        [HeaderField(":method", "POST"), HeaderField(":scheme", "http"), HeaderField(":path", "/"),
         HeaderField(name: [0x78, 0x7F], value: Array("v".utf8))],
        [HeaderField(":method", "POST"), HeaderField(":scheme", "http"), HeaderField(":path", "/"),
         HeaderField(name: [], value: Array("v".utf8))],
        [HeaderField(":method", "POST"), HeaderField(":scheme", "http"), HeaderField(":path", "/"),
         HeaderField("x", "a\u{0}b")],
        [HeaderField(":method", "POST"), HeaderField(":scheme", "http"), HeaderField(":path", "/"),
         HeaderField("x", "a\rb")],
        [HeaderField(":method", "POST"), HeaderField(":scheme", "http"), HeaderField(":path", "/"),
         HeaderField("x", "a\nb")],
        [HeaderField(":method", "POST"), HeaderField(":scheme", "http"), HeaderField(":path", "/"),
         HeaderField("x", "padded\t")],
    ])
    func malformedRequests(fields: [HeaderField]) {
        var client = TestClient()
        let frame = client.headers(1, fields, endStream: true)
        #expect(client.send(frame).isEmpty)
        #expect(client.read() == ["RST_STREAM 1 PROTOCOL_ERROR"])
        #expect(client.openRequest(3).count == 1)  // the connection and its HPACK context survive
    }

    @Test("trailers with pseudo-headers or without END_STREAM abort the stream")
    func badTrailers() {
        var client = TestClient()
        client.openRequest(1)
        let trailers = client.headers(1, [HeaderField(":path", "/")], endStream: true)
        guard case .streamAborted(1, let error) = client.send(trailers).first else {
            Issue.record("expected streamAborted")
            return
        }
        #expect(error.code == .protocolError)
        client.openRequest(3)
        let second = client.headers(3, [HeaderField("x", "y")], endStream: false)
        #expect(client.send(second).count == 1)
        #expect(client.read() == ["RST_STREAM 1 PROTOCOL_ERROR", "RST_STREAM 3 PROTOCOL_ERROR"])
    }

    @Test("streams over SETTINGS_MAX_CONCURRENT_STREAMS are refused and HPACK stays in step")
    func concurrencyLimit() {
        var limits = HTTP2Limits()
        limits.maxConcurrentStreams = 2
        var client = TestClient(limits: limits)
        client.openRequest(1)
        client.openRequest(3)
        #expect(client.openRequest(5, path: "/refused").isEmpty)
        #expect(client.read() == ["RST_STREAM 5 REFUSED_STREAM"])
        client.send(.rstStream(stream: 1, code: .cancel))
        // Stream 7's block refers to table entries the refused block added; decoding proves the table is in step.
        #expect(client.openRequest(7, path: "/refused") == [.requestHeaders(7, requestFields(path: "/refused"),
                                                                             endStream: false)])
    }

    @Test("a HEADERS flood of refused streams exhausts the reset budget: ENHANCE_YOUR_CALM")
    func refusedStreamFlood() {
        var limits = HTTP2Limits()
        limits.maxConcurrentStreams = 1
        limits.streamResetBudget = 5
        var client = TestClient(limits: limits)
        client.openRequest(1)
        for stream in stride(from: UInt32(3), through: 11, by: 2) { client.openRequest(StreamID(rawValue: stream)) }
        // Late DATA on a refused stream is ignored, not punished.
        client.send(.data(stream: 3, payload: [1], endStream: false, padding: nil))
        #expect(client.read() == (3...11).filter { $0 % 2 == 1 }.map { "RST_STREAM \($0) REFUSED_STREAM" })
        client.openRequest(13)
        #expect(client.read() == ["RST_STREAM 13 REFUSED_STREAM", "GOAWAY 13 ENHANCE_YOUR_CALM"])
    }

    @Test("a HEADERS that depends on its own stream is reset, and HPACK stays in step")
    func selfDependency() {
        var client = TestClient()
        let block = client.encoder.encode(requestFields())
        client.send(.headers(stream: 1, fragment: block, endStream: true, endHeaders: true,
                             priority: PriorityInfo(exclusive: false, dependency: 1, weight: 1), padding: nil))
        #expect(client.read() == ["RST_STREAM 1 PROTOCOL_ERROR"])
        #expect(client.openRequest(3).count == 1)
    }

    @Test("a header list over SETTINGS_MAX_HEADER_LIST_SIZE gets 431 and the connection continues")
    func oversizedHeaderList() {
        var limits = HTTP2Limits()
        limits.maxHeaderListSize = 400  // the plain request is 303 octets as SETTINGS_MAX_HEADER_LIST_SIZE counts
        var client = TestClient(limits: limits)
        let big = HeaderField("x-big", String(repeating: "v", count: 200), indexing: .incremental)
        let fields = requestFields() + [big]
        let frame = client.headers(1, fields, endStream: false)
        #expect(client.send(frame).isEmpty)
        #expect(client.read() == ["HEADERS 1 END_STREAM [:status: 431]", "RST_STREAM 1 NO_ERROR"])
        #expect(client.openRequest(3).count == 1)
    }

    @Test("a CONTINUATION flood is refused with ENHANCE_YOUR_CALM")
    func continuationFlood() {
        var limits = HTTP2Limits()
        limits.maxContinuationFrames = 5
        var client = TestClient(limits: limits)
        client.send(.headers(stream: 1, fragment: [0x82], endStream: true, endHeaders: false, priority: nil,
                             padding: nil))
        for _ in 0..<6 { client.send(.continuation(stream: 1, fragment: [], endHeaders: false)) }
        #expect(client.read() == ["GOAWAY 0 ENHANCE_YOUR_CALM"])
    }

    @Test("a header block larger than the assembly bound is refused with ENHANCE_YOUR_CALM")
    func headerBlockBound() {
        var limits = HTTP2Limits()
        limits.maxHeaderBlockBytes = 20_000
        var client = TestClient(limits: limits)
        let fragment = [UInt8](repeating: 0x82, count: 16_000)
        client.send(.headers(stream: 1, fragment: fragment, endStream: true, endHeaders: false, priority: nil,
                             padding: nil), .continuation(stream: 1, fragment: fragment, endHeaders: true))
        #expect(client.read() == ["GOAWAY 0 ENHANCE_YOUR_CALM"])
    }

    @Test("any frame between HEADERS and its CONTINUATION is a PROTOCOL_ERROR")
    func interleavedContinuation() {
        var client = TestClient()
        client.send(.headers(stream: 1, fragment: [0x82], endStream: true, endHeaders: false, priority: nil,
                             padding: nil), .ping(ack: false, opaque: 1))
        #expect(client.read() == ["GOAWAY 0 PROTOCOL_ERROR"])
    }

    @Test("header blocks split over CONTINUATION frames are assembled")
    func continuationIn() {
        var client = TestClient()
        let block = client.encoder.encode(requestFields())
        let events = client.send(
            .headers(stream: 1, fragment: Array(block[..<3]), endStream: true, endHeaders: false, priority: nil,
                     padding: 5),
            .continuation(stream: 1, fragment: Array(block[3..<6]), endHeaders: false),
            .continuation(stream: 1, fragment: Array(block[6...]), endHeaders: true))
        #expect(events == [.requestHeaders(1, requestFields(), endStream: true)])
    }

    @Test("rapid reset: opening and cancelling streams past the budget is ENHANCE_YOUR_CALM")
    func rapidReset() {
        var limits = HTTP2Limits()
        limits.streamResetBudget = 10
        var client = TestClient(limits: limits)
        var stream: UInt32 = 1
        for _ in 0..<10 {
            client.openRequest(StreamID(rawValue: stream))
            client.send(.rstStream(stream: StreamID(rawValue: stream), code: .cancel))
            stream += 2
        }
        #expect(!client.server.isFinished)
        client.openRequest(StreamID(rawValue: stream))
        client.send(.rstStream(stream: StreamID(rawValue: stream), code: .cancel))
        #expect(goAwayCode(client.readFrames()) == .enhanceYourCalm)
    }

    @Test("normally completed streams earn back the reset budget")
    func resetBudgetRefills() throws {
        var limits = HTTP2Limits()
        limits.streamResetBudget = 3
        var client = TestClient(limits: limits)
        var stream: UInt32 = 1
        for round in 0..<20 {
            let id = StreamID(rawValue: stream)
            client.openRequest(id, endStream: true)
            if round % 2 == 0 {
                client.send(.rstStream(stream: id, code: .cancel))
            } else {
                try client.server.sendTrailersOnly([HeaderField(":status", "200")], on: id)
            }
            stream += 2
        }
        #expect(!client.server.isFinished)
    }

    @Test("pings from a client that never reads are bounded with ENHANCE_YOUR_CALM")
    func unreadPings() {
        var limits = HTTP2Limits()
        limits.maxPendingControlBytes = 1700
        var client = TestClient(limits: limits)
        for round in 0..<200 { client.send(.ping(ack: false, opaque: UInt64(round))) }  // 17 octets per ACK
        #expect(goAwayCode(client.readFrames()) == .enhanceYourCalm)
    }

    @Test("too many empty DATA frames are refused")
    func emptyDataFlood() {
        var limits = HTTP2Limits()
        limits.maxEmptyDataFrames = 10
        var client = TestClient(limits: limits)
        client.openRequest(1)
        for _ in 0..<11 { client.send(.data(stream: 1, payload: [], endStream: false, padding: nil)) }
        #expect(goAwayCode(client.readFrames()) == .enhanceYourCalm)
    }

    @Test("a huge client HPACK table setting is capped by our encoder's ceiling")
    func encoderTableCeiling() throws {
        var client = TestClient(settings: [SettingsParameter(.headerTableSize, 1 << 30)])
        client.openRequest(1)
        try client.server.sendHeaders(responseFields, on: 1)
        #expect(client.server.headerEncoder.table.maxSize == 4096)
        #expect(client.read().count == 1)
    }
}
