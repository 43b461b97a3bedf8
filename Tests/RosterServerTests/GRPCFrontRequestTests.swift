// Goal: the I/O loop answers an etcd call itself only when it is exactly a plain `KV.Range` whose whole request is in
// hand, and leaves every other shape to the gateway untouched: which headers qualify (path, gRPC content type, no
// compression, no `hasleader`), and which runs of events hold exactly one whole message (split over DATA frames,
// ended by END_STREAM) rather than none, two, part of one, or one the client reset or the connection lost.
// Also: `PrefaceProbe` tells h2c from HTTP/1.1 whatever the first reads' sizes.
// Method: the pure pieces (`GRPCFront.isPlainRange`, `GRPCFront.wholeMessage`, `PrefaceProbe`) on built inputs.
import HPACK
import HTTP2
@testable import RosterServer
import Testing

@Suite("etcd calls the I/O loop may answer itself")
struct GRPCFrontRequestTests {
    static func headers(_ path: String = "/etcdserverpb.KV/Range", extra: [(String, String)] = []) -> [HeaderField] {
        ([(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "x"), ("content-type", "application/grpc"),
            ("te", "trailers")] + extra).map { HeaderField(name: Array($0.0.utf8), value: Array($0.1.utf8)) }
    }

    static func framed(_ payload: [UInt8]) -> [UInt8] {
        let count = UInt32(payload.count)
        return [0, UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)] + payload
    }

    @Test("a plain Range qualifies; other methods, content types, compression and hasleader do not")
    func plainRange() {
        #expect(GRPCFront.isPlainRange(Self.headers()))
        #expect(GRPCFront.isPlainRange(Self.headers(extra: [("grpc-encoding", "identity"), ("hasleader", "false")])))
        #expect(GRPCFront.isPlainRange(Self.headers().map {
            $0.name == Array("content-type".utf8) ? HeaderField(name: $0.name, value: Array("application/grpc+proto".utf8)) : $0
        }))
        #expect(!GRPCFront.isPlainRange(Self.headers("/etcdserverpb.KV/Put")))
        #expect(!GRPCFront.isPlainRange(Self.headers("/etcdserverpb.KV/Range/")))
        #expect(!GRPCFront.isPlainRange(Self.headers(extra: [("grpc-encoding", "gzip")])))
        #expect(!GRPCFront.isPlainRange(Self.headers(extra: [("hasleader", "true")])))
        #expect(!GRPCFront.isPlainRange(Self.headers().filter { $0.name != Array("content-type".utf8) }))
        #expect(!GRPCFront.isPlainRange(Self.headers().map {
            $0.name == Array("content-type".utf8) ? HeaderField(name: $0.name, value: Array("application/json".utf8)) : $0
        }))
    }

    @Test("one whole message, also split over DATA frames and interleaved with other streams")
    func wholeMessage() {
        let message: [UInt8] = [0x0A, 0x03, 0x61, 0x62, 0x63]
        let bytes = Self.framed(message)
        let stream: StreamID = 5
        #expect(GRPCFront.wholeMessage(on: stream, in: [.data(stream, bytes, endStream: true)][...]) == message)
        let split: [HTTP2Event] = [
            .data(stream, Array(bytes[0..<2]), endStream: false), .data(7, [1, 2, 3], endStream: false),
            .data(stream, Array(bytes[2...]), endStream: false), .windowOpened(stream), .data(stream, [], endStream: true),
        ]
        #expect(GRPCFront.wholeMessage(on: stream, in: split[...]) == message)
        #expect(GRPCFront.wholeMessage(on: stream, in: [.data(stream, Self.framed([]), endStream: true)][...]) == [])
    }

    @Test("no message, two, part of one, no END_STREAM, a reset, trailers or a failed connection: the gateway's")
    func notWhole() {
        let stream: StreamID = 5
        let one = Self.framed([1, 2, 3])
        let cases: [[HTTP2Event]] = [
            [],
            [.data(stream, [], endStream: true)],
            [.data(stream, one + one, endStream: true)],
            [.data(stream, Array(one.dropLast()), endStream: true)],
            [.data(stream, one, endStream: false)],
            [.data(stream, one, endStream: false), .streamReset(stream, .cancel)],
            [.data(stream, one, endStream: false), .trailers(stream, [])],
            [.data(stream, one, endStream: false), .connectionFailed(.connection(.protocolError, "x"))],
            [.data(7, one, endStream: true)],
            [.data(stream, [1] + Array(one.dropFirst()), endStream: true)],  // the compressed flag
        ]
        for events in cases {
            #expect(GRPCFront.wholeMessage(on: stream, in: events[...]) == nil, "\(events)")
        }
    }

    @Test("the preface probe tells h2c from HTTP/1.1 across reads of any size")
    func prefaceProbe() {
        func verdicts(_ reads: [String]) -> [String] {
            var probe = PrefaceProbe()
            return reads.map { read in
                Array(read.utf8).withUnsafeBytes { bytes in
                    switch probe.inspect(bytes) {
                    case .undecided: "undecided"
                    case .http2(let early): "http2 \(String(decoding: early, as: UTF8.self))"
                    case .http1(let early): "http1 \(String(decoding: early, as: UTF8.self))"
                    case .alreadyDecided: "decided"
                    }
                }
            }
        }
        #expect(verdicts(["PRI * HTTP/2.0", "x"]) == ["http2 ", "decided"])
        #expect(verdicts(["P", "R", "I", " * HTTP"]) == ["undecided", "undecided", "undecided", "http2 PRI"])
        #expect(verdicts(["PR", "OPFIND"]) == ["undecided", "http1 PR"])
        #expect(verdicts(["GET / HTTP/1.1"]) == ["http1 "])
        #expect(verdicts(["P", "UT /"]) == ["undecided", "http1 P"])
    }
}
