// Goal: show the connection understands a real gRPC client's bytes, not just our own encoder's. Method: octets
// captured off the wire from `etcdctl get foo` (etcdctl 3.4.23, grpc-go 1.33.3) against a throwaway socket
// harness around `HTTP2Connection`, replayed here whole and in random chunkings; the request, its body, the
// SETTINGS acknowledgement and the BDP PING reply are checked.
import HPACK
import Testing
@testable import HTTP2
import Raft

/// The client's octets in the order they arrived: preface, SETTINGS, then SETTINGS ACK + HEADERS + DATA, then
/// WINDOW_UPDATE + PING (grpc-go's bandwidth-delay probe).
let etcdctlGetCapture = [
    "505249202a20485454502f322e300d0a0d0a534d0d0a0d0a",
    "000000040000000000",
    "00000004010000000000006b0104000000018386459060a924882d9dcb6571af9b8b1b4754c5418b089d5c0b8170dc132ebee75f8b1d"
        + "75d0620d263d4c4d65647a8b9acac8b4c7602bb2caecff40027465864d833505b11f40899acac8b24d494f6a7f8669f7de7002b740"
        + "8d25062d495875996ee5b1063d5f03332e3400000a00010000000100000000050a03666f6f",
    "0000040800000000000000000500000806000000000002041010090e0707",
].joined()

func bytes(hex: String) -> [UInt8] {
    var result: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        result.append(UInt8(hex[index..<next], radix: 16) ?? 0)
        index = next
    }
    return result
}

@Suite("HTTP/2 with a real client's bytes")
struct RealClientTests {
    @Test("etcdctl's Range call decodes into the request and body, whatever the chunking", arguments: [0, 1, 2, 3])
    func etcdctlGet(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var client = TestClient()
        client.server = HTTP2Connection()
        _ = client.readFrames()
        let capture = bytes(hex: etcdctlGetCapture)
        var events: [HTTP2Event] = []
        for chunk in seed == 0 ? [capture[...]] : randomChunks(capture, &random) {
            events += client.server.receive(chunk)
        }
        let expectedFields = [
            HeaderField(":method", "POST"), HeaderField(":scheme", "http"),
            HeaderField(":path", "/etcdserverpb.KV/Range"), HeaderField(":authority", "127.0.0.1:23796"),
            HeaderField("content-type", "application/grpc"), HeaderField("user-agent", "grpc-go/1.33.3"),
            HeaderField("te", "trailers"), HeaderField("grpc-timeout", "4998602u"),
            HeaderField("client-api-version", "3.4"),
        ]
        // The RangeRequest {key: "foo"} in a 5-octet gRPC message frame.
        #expect(events == [.requestHeaders(1, expectedFields, endStream: false),
                           .data(1, [0, 0, 0, 0, 5, 10, 3, 102, 111, 111], endStream: true)])
        #expect(client.read() == ["SETTINGS ACK", "PING ACK \(UInt64(0x0204_1010_090E_0707))"])
        try client.server.sendHeaders(responseFields, on: 1)
        try client.server.sendData([0, 0, 0, 0, 0], on: 1)
        try client.server.sendTrailers([HeaderField("grpc-status", "0")], on: 1)
        #expect(client.read().count == 3)
        #expect(client.server.activeStreamCount == 0)
    }
}
