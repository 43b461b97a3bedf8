/// A 31-bit HTTP/2 stream identifier; 0 names the connection itself.
public struct StreamID: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByIntegerLiteral,
    CustomStringConvertible
{
    public let rawValue: UInt32

    /// Creates an identifier; the reserved high bit must already be clear.
    public init(rawValue: UInt32) {
        precondition(rawValue <= StreamID.maximum.rawValue, "stream id \(rawValue) exceeds 2^31-1")
        self.rawValue = rawValue
    }

    public init(integerLiteral value: UInt32) { self.init(rawValue: value) }

    /// Stream 0: frames that concern the whole connection.
    public static let connection = StreamID(rawValue: 0)
    /// The largest identifier, 2^31-1.
    public static let maximum = StreamID(rawValue: 0x7FFF_FFFF)

    /// True for odd identifiers, the ones clients open (RFC 9113 §5.1.1).
    public var isClientInitiated: Bool { rawValue & 1 == 1 }

    public static func < (lhs: StreamID, rhs: StreamID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { String(rawValue) }
}
