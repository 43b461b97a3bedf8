/// A SETTINGS parameter identifier (RFC 9113 §6.5.2); a struct so unknown identifiers (such as gRPC C-core's
/// 0xFE03) pass through the decoder and are ignored by the connection.
public struct SettingsIdentifier: RawRepresentable, Hashable, Sendable {
    /// The 16-bit identifier as sent on the wire.
    public let rawValue: UInt16
    /// Wraps any identifier, known or not.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// SETTINGS_HEADER_TABLE_SIZE: the HPACK table the sender's decoder allows.
    public static let headerTableSize = SettingsIdentifier(rawValue: 0x1)
    /// SETTINGS_ENABLE_PUSH: whether server push is allowed (0 or 1).
    public static let enablePush = SettingsIdentifier(rawValue: 0x2)
    /// SETTINGS_MAX_CONCURRENT_STREAMS: how many streams the sender lets its peer open.
    public static let maxConcurrentStreams = SettingsIdentifier(rawValue: 0x3)
    /// SETTINGS_INITIAL_WINDOW_SIZE: the sender's initial per-stream receive window.
    public static let initialWindowSize = SettingsIdentifier(rawValue: 0x4)
    /// SETTINGS_MAX_FRAME_SIZE: the largest frame payload the sender accepts.
    public static let maxFrameSize = SettingsIdentifier(rawValue: 0x5)
    /// SETTINGS_MAX_HEADER_LIST_SIZE: the largest header list the sender accepts (advisory).
    public static let maxHeaderListSize = SettingsIdentifier(rawValue: 0x6)
}

/// One SETTINGS parameter.
public struct SettingsParameter: Hashable, Sendable {
    /// Which setting.
    public var identifier: SettingsIdentifier
    /// Its value.
    public var value: UInt32

    /// Creates a parameter.
    public init(_ identifier: SettingsIdentifier, _ value: UInt32) {
        self.identifier = identifier
        self.value = value
    }
}

/// Protocol constants shared by the codec and the connection.
public enum HTTP2Constants {
    /// The client connection preface, `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` (RFC 9113 §3.4).
    public static let clientPreface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    /// The initial flow-control window of every stream and of the connection (RFC 9113 §6.9.2).
    public static let defaultWindowSize = 65_535
    /// The largest flow-control window, 2^31-1 (RFC 9113 §6.9.1).
    public static let maximumWindowSize = 0x7FFF_FFFF
    /// The default and smallest SETTINGS_MAX_FRAME_SIZE.
    public static let defaultMaxFrameSize = 16_384
    /// The largest SETTINGS_MAX_FRAME_SIZE, 2^24-1.
    public static let maximumMaxFrameSize = (1 << 24) - 1
}

/// The settings a peer has sent us, with RFC defaults until it sends them.
struct PeerSettings: Sendable {
    var headerTableSize = 4096
    var maxConcurrentStreams: Int?
    var initialWindowSize = HTTP2Constants.defaultWindowSize
    var maxFrameSize = HTTP2Constants.defaultMaxFrameSize
    var maxHeaderListSize: Int?
}
