/// A 31-bit HTTP/2 stream identifier; 0 names the connection itself.
public struct StreamID: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByIntegerLiteral,
    CustomStringConvertible
{
    /// The identifier, reserved bit clear.
    public let rawValue: UInt32

    /// Creates an identifier; the reserved high bit must already be clear.
    public init(rawValue: UInt32) {
        // A literal, not `StreamID.maximum`: that static is built with this initializer.
        precondition(rawValue <= 0x7FFF_FFFF, "stream id \(rawValue) exceeds 2^31-1")
        self.rawValue = rawValue
    }

    /// Allows `1` for `StreamID(rawValue: 1)`.
    public init(integerLiteral value: UInt32) { self.init(rawValue: value) }

    /// Stream 0: frames that concern the whole connection.
    public static let connection = StreamID(rawValue: 0)
    /// The largest identifier, 2^31-1.
    public static let maximum = StreamID(rawValue: 0x7FFF_FFFF)

    /// True for odd identifiers, the ones clients open (RFC 9113 §5.1.1).
    public var isClientInitiated: Bool { rawValue & 1 == 1 }

    /// Orders by identifier; newer client streams have larger ones.
    public static func < (lhs: StreamID, rhs: StreamID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The decimal identifier.
    public var description: String { String(rawValue) }
}
