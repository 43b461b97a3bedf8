// Goal: show every frame type survives encode/decode unchanged whatever the input chunking, and that each
// size, stream-id and field rule of RFC 9113 §4-§6 rejects with the exact error code and scope.
// Method: a table of frames (one or more per type, with and without padding and flags) round-tripped whole and
// byte by byte; a table of hand-built raw frames, each with the code and scope the RFC prescribes.
import HPACK
import Testing
@testable import HTTP2

let sampleFrames: [Frame] = [
    .data(stream: 1, payload: [1, 2, 3], endStream: false, padding: nil),
    .data(stream: 3, payload: [], endStream: true, padding: 7),
    .headers(stream: 1, fragment: [0x82, 0x86], endStream: true, endHeaders: true, priority: nil, padding: nil),
    .headers(stream: 5, fragment: [0x82], endStream: false, endHeaders: false,
             priority: PriorityInfo(exclusive: true, dependency: 3, weight: 15), padding: 2),
    .priority(stream: 7, PriorityInfo(exclusive: false, dependency: 0, weight: 255)),
    .rstStream(stream: 9, code: .cancel),
    .rstStream(stream: 9, code: HTTP2ErrorCode(rawValue: 0xABCD)),
    .settings(ack: false, parameters: [SettingsParameter(.maxFrameSize, 16384),
                                       SettingsParameter(SettingsIdentifier(rawValue: 0xFE03), 1)]),
    .settings(ack: true, parameters: []),
    .pushPromise(stream: 1, promised: 2, fragment: [0x82], endHeaders: true, padding: 1),
    .ping(ack: false, opaque: 0x0102_0304_0506_0708),
    .ping(ack: true, opaque: 0),
    .goAway(lastStream: 11, code: .enhanceYourCalm, debugData: Array("calm".utf8)),
    .windowUpdate(stream: 0, increment: 0x7FFF_FFFF),
    .windowUpdate(stream: 13, increment: 1),
    .continuation(stream: 5, fragment: [0x84], endHeaders: true),
    .unknown(type: 0xFA, flags: 0x3, stream: 17, payload: [9, 9]),
]

struct RejectedFrame: Sendable, CustomTestStringConvertible {
    let name: String
    let raw: [UInt8]
    let code: HTTP2ErrorCode
    let stream: StreamID?
    var testDescription: String { name }
}

/// A raw frame: 9-octet header then payload, with the length taken from the payload unless given.
func rawFrame(type: UInt8, flags: UInt8 = 0, stream: UInt32, payload: [UInt8], length: Int? = nil) -> [UInt8] {
    var bytes: [UInt8] = []
    FrameHeader(length: length ?? payload.count, type: type, flags: flags, stream: StreamID(rawValue: stream))
        .encode(into: &bytes)
    return bytes + payload
}

let rejectedFrames: [RejectedFrame] = [
    .init(name: "DATA on stream 0", raw: rawFrame(type: 0, stream: 0, payload: [1]), code: .protocolError, stream: nil),
    .init(name: "DATA padding longer than payload", raw: rawFrame(type: 0, flags: 0x8, stream: 1, payload: [5, 1, 2]),
          code: .protocolError, stream: nil),
    .init(name: "DATA padded without pad length", raw: rawFrame(type: 0, flags: 0x8, stream: 1, payload: []),
          code: .frameSizeError, stream: nil),
    .init(name: "HEADERS on stream 0", raw: rawFrame(type: 1, flags: 0x4, stream: 0, payload: [0x82]),
          code: .protocolError, stream: nil),
    .init(name: "HEADERS too short for priority", raw: rawFrame(type: 1, flags: 0x24, stream: 1, payload: [0, 0]),
          code: .frameSizeError, stream: nil),
    .init(name: "PRIORITY of 4 octets", raw: rawFrame(type: 2, stream: 3, payload: [0, 0, 0, 1]),
          code: .frameSizeError, stream: 3),
    .init(name: "PRIORITY on itself", raw: rawFrame(type: 2, stream: 3, payload: [0, 0, 0, 3, 16]),
          code: .protocolError, stream: 3),
    .init(name: "PRIORITY on stream 0", raw: rawFrame(type: 2, stream: 0, payload: [0, 0, 0, 1, 16]),
          code: .protocolError, stream: nil),
    .init(name: "RST_STREAM of 3 octets", raw: rawFrame(type: 3, stream: 1, payload: [0, 0, 8]),
          code: .frameSizeError, stream: nil),
    .init(name: "RST_STREAM on stream 0", raw: rawFrame(type: 3, stream: 0, payload: [0, 0, 0, 8]),
          code: .protocolError, stream: nil),
    .init(name: "SETTINGS on a stream", raw: rawFrame(type: 4, stream: 1, payload: []), code: .protocolError,
          stream: nil),
    .init(name: "SETTINGS of 5 octets", raw: rawFrame(type: 4, stream: 0, payload: [0, 4, 0, 0, 1]),
          code: .frameSizeError, stream: nil),
    .init(name: "SETTINGS ACK with payload", raw: rawFrame(type: 4, flags: 1, stream: 0, payload: [0, 4, 0, 0, 0, 1]),
          code: .frameSizeError, stream: nil),
    .init(name: "ENABLE_PUSH of 2", raw: rawFrame(type: 4, stream: 0, payload: [0, 2, 0, 0, 0, 2]),
          code: .protocolError, stream: nil),
    .init(name: "INITIAL_WINDOW_SIZE of 2^31", raw: rawFrame(type: 4, stream: 0, payload: [0, 4, 0x80, 0, 0, 0]),
          code: .flowControlError, stream: nil),
    .init(name: "MAX_FRAME_SIZE below 16384", raw: rawFrame(type: 4, stream: 0, payload: [0, 5, 0, 0, 0x3F, 0xFF]),
          code: .protocolError, stream: nil),
    .init(name: "MAX_FRAME_SIZE above 2^24-1", raw: rawFrame(type: 4, stream: 0, payload: [0, 5, 1, 0, 0, 0]),
          code: .protocolError, stream: nil),
    .init(name: "PING of 7 octets", raw: rawFrame(type: 6, stream: 0, payload: [UInt8](repeating: 0, count: 7)),
          code: .frameSizeError, stream: nil),
    .init(name: "PING on a stream", raw: rawFrame(type: 6, stream: 1, payload: [UInt8](repeating: 0, count: 8)),
          code: .protocolError, stream: nil),
    .init(name: "GOAWAY of 7 octets", raw: rawFrame(type: 7, stream: 0, payload: [UInt8](repeating: 0, count: 7)),
          code: .frameSizeError, stream: nil),
    .init(name: "GOAWAY on a stream", raw: rawFrame(type: 7, stream: 1, payload: [UInt8](repeating: 0, count: 8)),
          code: .protocolError, stream: nil),
    .init(name: "WINDOW_UPDATE of 3 octets", raw: rawFrame(type: 8, stream: 1, payload: [0, 0, 1]),
          code: .frameSizeError, stream: nil),
    .init(name: "WINDOW_UPDATE of 0 on a stream", raw: rawFrame(type: 8, stream: 1, payload: [0, 0, 0, 0]),
          code: .protocolError, stream: 1),
    .init(name: "WINDOW_UPDATE of 0 on the connection", raw: rawFrame(type: 8, stream: 0, payload: [0, 0, 0, 0]),
          code: .protocolError, stream: nil),
    .init(name: "CONTINUATION on stream 0", raw: rawFrame(type: 9, flags: 4, stream: 0, payload: [0x82]),
          code: .protocolError, stream: nil),
    .init(name: "frame over SETTINGS_MAX_FRAME_SIZE",
          raw: rawFrame(type: 0, stream: 1, payload: [], length: 16385), code: .frameSizeError, stream: nil),
]

@Suite("HTTP/2 frame codec")
struct FrameCodecTests {
    @Test("every frame type round-trips whole", arguments: sampleFrames)
    func roundTrip(frame: Frame) throws {
        var decoder = FrameDecoder()
        decoder.append(frame.encoded)
        #expect(try decoder.nextFrame() == frame)
        #expect(try decoder.nextFrame() == nil)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test("all frames fed one octet at a time come out whole and in order")
    func byteByByte() throws {
        var decoder = FrameDecoder()
        var decoded: [Frame] = []
        for byte in sampleFrames.flatMap(\.encoded) {
            decoder.append([byte])
            if let frame = try decoder.nextFrame() { decoded.append(frame) }
        }
        #expect(decoded == sampleFrames)
    }

    @Test("each rule rejects with the RFC's code and scope", arguments: rejectedFrames)
    func rejects(case rejected: RejectedFrame) {
        var decoder = FrameDecoder()
        decoder.append(rejected.raw)
        let error = #expect(throws: HTTP2Error.self) { try decoder.nextFrame() }
        #expect(error?.code == rejected.code)
        #expect(error?.stream == rejected.stream)
    }

    @Test("an oversized frame is refused from its header alone, before its payload arrives")
    func oversizedRefusedEarly() {
        var decoder = FrameDecoder(maxFrameSize: 16384)
        decoder.append(rawFrame(type: 0, stream: 1, payload: [], length: 1 << 20))
        #expect(throws: HTTP2Error.connection(.frameSizeError,
                                              "frame of 1048576 octets exceeds SETTINGS_MAX_FRAME_SIZE 16384")) {
            try decoder.nextFrame()
        }
    }

    @Test("after a stream error the decoder continues with the next frame")
    func continuesAfterStreamError() throws {
        var decoder = FrameDecoder()
        decoder.append(rawFrame(type: 2, stream: 3, payload: [0, 0, 0, 1]) + Frame.ping(ack: false, opaque: 5).encoded)
        #expect(throws: HTTP2Error.self) { try decoder.nextFrame() }
        #expect(try decoder.nextFrame() == .ping(ack: false, opaque: 5))
    }

    @Test("the reserved stream-id bit is ignored")
    func reservedBit() throws {
        var raw = Frame.rstStream(stream: 5, code: .cancel).encoded
        raw[5] |= 0x80
        var decoder = FrameDecoder()
        decoder.append(raw)
        #expect(try decoder.nextFrame() == .rstStream(stream: 5, code: .cancel))
    }

    @Test("padding counts toward the declared length")
    func paddingLength() {
        let frame = Frame.data(stream: 1, payload: [1, 2], endStream: false, padding: 3)
        #expect(frame.encoded.count == 9 + 1 + 2 + 3)
        #expect(frame.encoded[2] == 6)
    }
}
