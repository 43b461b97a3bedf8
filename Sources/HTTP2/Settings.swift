/// A SETTINGS parameter identifier (RFC 9113 §6.5.2); a struct so unknown identifiers (such as gRPC C-core's
/// 0xFE03) pass through the decoder and are ignored by the connection.
public struct SettingsIdentifier: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let headerTableSize = SettingsIdentifier(rawValue: 0x1)
    public static let enablePush = SettingsIdentifier(rawValue: 0x2)
    public static let maxConcurrentStreams = SettingsIdentifier(rawValue: 0x3)
    public static let initialWindowSize = SettingsIdentifier(rawValue: 0x4)
    public static let maxFrameSize = SettingsIdentifier(rawValue: 0x5)
    public static let maxHeaderListSize = SettingsIdentifier(rawValue: 0x6)
}

/// One SETTINGS parameter.
public struct SettingsParameter: Hashable, Sendable {
    public var identifier: SettingsIdentifier
    public var value: UInt32

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
