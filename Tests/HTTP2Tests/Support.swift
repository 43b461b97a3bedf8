// Shared helpers for the HTTP/2 tests: a scripted client (its own HPACK contexts and a frame decoder for the
// server's output), one-line frame descriptions for readable conversation scripts, and a seeded generator.
import HPACK
@testable import HTTP2
import Raft  // SplitMix64: the project's one seeded generator


/// The client half of a test conversation: encodes requests with its own HPACK encoder and decodes the
/// server's frames (and their header blocks) with its own decoder, as a real client would.
struct TestClient {
    var server: HTTP2Connection
    var encoder = HPACKEncoder()
    var decoder = HPACKDecoder(maxHeaderListSize: 1 << 20, maxStringLength: 1 << 20)
    var frameDecoder = FrameDecoder(maxFrameSize: HTTP2Constants.maximumMaxFrameSize)

    /// A server that has received the preface and an empty SETTINGS, with its output so far discarded.
    init(limits: HTTP2Limits = HTTP2Limits(), settings: [SettingsParameter] = []) {
        server = HTTP2Connection(limits: limits)
        _ = server.receive(HTTP2Constants.clientPreface + Frame.settings(ack: false, parameters: settings).encoded)
        _ = readFrames()
    }

    /// Sends frames to the server and returns its events.
    @discardableResult
    mutating func send(_ frames: Frame...) -> [HTTP2Event] {
        server.receive(frames.flatMap(\.encoded))
    }

    /// A HEADERS frame carrying `fields`, encoded with this client's HPACK context.
    mutating func headers(_ stream: StreamID, _ fields: [HeaderField], endStream: Bool = false) -> Frame {
        .headers(stream: stream, fragment: encoder.encode(fields), endStream: endStream, endHeaders: true,
                 priority: nil, padding: nil)
    }

    /// Sends a gRPC-style POST request's headers.
    @discardableResult
    mutating func openRequest(_ stream: StreamID, path: String = "/etcdserverpb.KV/Range",
                              endStream: Bool = false) -> [HTTP2Event] {
        let frame = headers(stream, requestFields(path: path), endStream: endStream)
        return send(frame)
    }

    /// Everything the server wants to write now, as frames.
    mutating func readFrames(maxBytes: Int = 1 << 30) -> [Frame] {
        frameDecoder.append(server.takeOutbound(maxBytes: maxBytes))
        var frames: [Frame] = []
        while let frame = try? frameDecoder.nextFrame() { frames.append(frame) }
        return frames
    }

    /// The server's frames as one-line descriptions, header blocks decoded.
    mutating func read(maxBytes: Int = 1 << 30) -> [String] {
        readFrames(maxBytes: maxBytes).map { describe($0) }
    }

    /// One line per frame, e.g. `HEADERS 1 END_STREAM [:status: 200]`, `DATA 3 len=10`, `GOAWAY 0 PROTOCOL_ERROR`.
    mutating func describe(_ frame: Frame) -> String {
        switch frame {
        case .data(let stream, let payload, let endStream, _):
            return "DATA \(stream) len=\(payload.count)" + (endStream ? " END_STREAM" : "")
        case .headers(let stream, let fragment, let endStream, let endHeaders, _, _):
            let fields = endHeaders ? ((try? decoder.decode(fragment))?.map(\.description) ?? ["<undecodable>"]) : []
            return "HEADERS \(stream)" + (endStream ? " END_STREAM" : "") + (endHeaders ? "" : " (continued)")
                + (fields.isEmpty ? "" : " [\(fields.joined(separator: ", "))]")
        case .continuation(let stream, let fragment, let endHeaders):
            return "CONTINUATION \(stream) len=\(fragment.count)" + (endHeaders ? " END_HEADERS" : "")
        case .rstStream(let stream, let code):
            return "RST_STREAM \(stream) \(code)"
        case .settings(let ack, let parameters):
            return ack ? "SETTINGS ACK" : "SETTINGS " + parameters.map { "\($0.identifier.rawValue)=\($0.value)" }
                .joined(separator: " ")
        case .ping(let ack, let opaque):
            return "PING" + (ack ? " ACK" : "") + " \(opaque)"
        case .goAway(let lastStream, let code, _):
            return "GOAWAY \(lastStream) \(code)"
        case .windowUpdate(let stream, let increment):
            return "WINDOW_UPDATE \(stream) \(increment)"
        case .priority, .pushPromise, .unknown:
            return "\(frame)"
        }
    }
}

/// The header list of a gRPC unary call.
func requestFields(path: String = "/etcdserverpb.KV/Range") -> [HeaderField] {
    [HeaderField(":method", "POST"), HeaderField(":scheme", "http"), HeaderField(":path", path),
     HeaderField(":authority", "localhost:2379"), HeaderField("content-type", "application/grpc"),
     HeaderField("te", "trailers")]
}

/// Response headers of a gRPC call.
let responseFields = [HeaderField(":status", "200"), HeaderField("content-type", "application/grpc")]

/// The GOAWAY code among frames, if any.
func goAwayCode(_ frames: [Frame]) -> HTTP2ErrorCode? {
    for case .goAway(_, let code, _) in frames { return code }
    return nil
}

/// Total DATA payload per stream among frames.
func dataBytes(_ frames: [Frame]) -> [StreamID: Int] {
    var totals: [StreamID: Int] = [:]
    for case .data(let stream, let payload, _, _) in frames { totals[stream, default: 0] += payload.count }
    return totals
}
