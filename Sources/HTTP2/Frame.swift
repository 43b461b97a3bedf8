/// One HTTP/2 frame with its payload parsed (RFC 9113 §6). Padding is removed on decoding but its length is kept,
/// because padding counts against flow control and because encoding must round-trip.
public enum Frame: Hashable, Sendable {
    /// DATA: request or response body octets. `padding` is nil without the PADDED flag.
    case data(stream: StreamID, payload: [UInt8], endStream: Bool, padding: Int?)
    /// HEADERS: the first fragment of a header block; `priority` is the deprecated priority block, if flagged.
    case headers(stream: StreamID, fragment: [UInt8], endStream: Bool, endHeaders: Bool, priority: PriorityInfo?,
                 padding: Int?)
    /// PRIORITY: parsed for its size and self-dependency rules, otherwise ignored (RFC 9113 §5.3.2).
    case priority(stream: StreamID, PriorityInfo)
    /// RST_STREAM: the sender abandons the stream.
    case rstStream(stream: StreamID, code: HTTP2ErrorCode)
    /// SETTINGS, or its acknowledgement (no parameters).
    case settings(ack: Bool, parameters: [SettingsParameter])
    /// PUSH_PROMISE: servers only; a client sending one is a protocol error.
    case pushPromise(stream: StreamID, promised: StreamID, fragment: [UInt8], endHeaders: Bool, padding: Int?)
    /// PING with its 8 opaque octets as a big-endian integer.
    case ping(ack: Bool, opaque: UInt64)
    /// GOAWAY: the last stream the sender processed, why, and optional diagnostic octets.
    case goAway(lastStream: StreamID, code: HTTP2ErrorCode, debugData: [UInt8])
    /// WINDOW_UPDATE for a stream, or for the connection on stream 0.
    case windowUpdate(stream: StreamID, increment: UInt32)
    /// CONTINUATION: the next fragment of a header block.
    case continuation(stream: StreamID, fragment: [UInt8], endHeaders: Bool)
    /// A frame type this module does not know; receivers ignore it (RFC 9113 §4.1, §5.5).
    case unknown(type: UInt8, flags: UInt8, stream: StreamID, payload: [UInt8])

    /// The stream the frame travels on.
    public var stream: StreamID {
        switch self {
        case .data(let stream, _, _, _), .headers(let stream, _, _, _, _, _), .priority(let stream, _),
            .rstStream(let stream, _), .pushPromise(let stream, _, _, _, _), .windowUpdate(let stream, _),
            .continuation(let stream, _, _), .unknown(_, _, let stream, _):
            stream
        case .settings, .ping, .goAway:
            .connection
        }
    }
}

/// The priority fields of HEADERS and PRIORITY frames, kept only for validation and round trips.
public struct PriorityInfo: Hashable, Sendable {
    /// Whether the dependency is exclusive.
    public var exclusive: Bool
    /// The stream this one depends on.
    public var dependency: StreamID
    /// Weight minus one, as sent (0-255).
    public var weight: UInt8

    /// Creates priority fields.
    public init(exclusive: Bool, dependency: StreamID, weight: UInt8) {
        self.exclusive = exclusive
        self.dependency = dependency
        self.weight = weight
    }
}

/// Frame type codes (RFC 9113 §6).
enum FrameType {
    static let data: UInt8 = 0x0
    static let headers: UInt8 = 0x1
    static let priority: UInt8 = 0x2
    static let rstStream: UInt8 = 0x3
    static let settings: UInt8 = 0x4
    static let pushPromise: UInt8 = 0x5
    static let ping: UInt8 = 0x6
    static let goAway: UInt8 = 0x7
    static let windowUpdate: UInt8 = 0x8
    static let continuation: UInt8 = 0x9
}

/// Frame flag bits; each frame type defines which of them mean something.
enum FrameFlags {
    static let endStream: UInt8 = 0x1
    static let ack: UInt8 = 0x1
    static let endHeaders: UInt8 = 0x4
    static let padded: UInt8 = 0x8
    static let priority: UInt8 = 0x20
}

/// The 9-octet frame header (RFC 9113 §4.1).
struct FrameHeader: Hashable, Sendable {
    static let size = 9
    /// The largest payload length the 24-bit field can carry.
    static let maximumLength = (1 << 24) - 1

    var length: Int
    var type: UInt8
    var flags: UInt8
    var stream: StreamID

    /// Parses the header at `bytes[offset..<offset + 9]`; the reserved bit of the stream id is ignored.
    init(_ bytes: [UInt8], at offset: Int) {
        length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
        type = bytes[offset + 3]
        flags = bytes[offset + 4]
        let raw = UInt32(bytes[offset + 5]) << 24 | UInt32(bytes[offset + 6]) << 16
            | UInt32(bytes[offset + 7]) << 8 | UInt32(bytes[offset + 8])
        stream = StreamID(rawValue: raw & 0x7FFF_FFFF)
    }

    init(length: Int, type: UInt8, flags: UInt8, stream: StreamID) {
        self.length = length
        self.type = type
        self.flags = flags
        self.stream = stream
    }

    /// Appends the 9 octets.
    func encode(into output: inout [UInt8]) {
        precondition(length >= 0 && length <= Self.maximumLength, "frame length \(length) does not fit 24 bits")
        output.append(UInt8(truncatingIfNeeded: length >> 16))
        output.append(UInt8(truncatingIfNeeded: length >> 8))
        output.append(UInt8(truncatingIfNeeded: length))
        output.append(type)
        output.append(flags)
        appendUInt32(stream.rawValue, to: &output)
    }
}

/// Appends a big-endian 32-bit integer.
func appendUInt32(_ value: UInt32, to output: inout [UInt8]) {
    output.append(UInt8(truncatingIfNeeded: value >> 24))
    output.append(UInt8(truncatingIfNeeded: value >> 16))
    output.append(UInt8(truncatingIfNeeded: value >> 8))
    output.append(UInt8(truncatingIfNeeded: value))
}

/// Reads a big-endian 32-bit integer at `offset`.
func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
        | UInt32(bytes[offset + 3])
}
