import Codec

/// The registry's global modification counter, etcd's `revision`.
///
/// Every committed command that changes the key space bumps it by exactly one (a transaction or a lease
/// revoke that deletes many keys bumps it once), so a revision names one atomic state of the key space.
/// Signed like etcd's, so that a negative revision in a request can be represented and rejected rather
/// than wrap around.
public struct Revision: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible,
    ExpressibleByIntegerLiteral
{
    public var rawValue: Int64

    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public init(integerLiteral value: Int64) { self.rawValue = value }

    /// The revision of the empty registry, before any write.
    public static let zero = Revision(0)

    public static func < (lhs: Revision, rhs: Revision) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The revision that follows this one.
    public var next: Revision { Revision(rawValue + 1) }

    public var description: String { "r\(rawValue)" }
}

/// The identifier of a lease. Zero is reserved to mean "no lease" in every encoding, as in etcd.
public struct LeaseID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible,
    ExpressibleByIntegerLiteral
{
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt64) { self.rawValue = value }

    public static func < (lhs: LeaseID, rhs: LeaseID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The lease table is looked up on every put with a lease and every keepalive: no SipHash per lookup
    /// (`SeededMix`).
    public func _rawHashValue(seed: Int) -> Int { SeededMix.hash(rawValue, seed: seed) }

    public var description: String { "lease \(rawValue)" }
}
