/// A Raft term: a logical clock that increases with every election (Raft §5.1).
public struct Term: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static let zero = Term(0)
    /// The largest term a decoder accepts from a file or a peer (2^62; see `LogIndex.largestDecodable`).
    public static let largestDecodable = Term(1 << 62)
    public static func < (lhs: Term, rhs: Term) -> Bool { lhs.rawValue < rhs.rawValue }
    public var next: Term { Term(rawValue + 1) }
    public var description: String { "\(rawValue)" }
}

/// A position in the replicated log; 1 is the first entry, 0 means "before the first entry".
public struct LogIndex: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static let zero = LogIndex(0)
    /// The largest index a decoder accepts from a file or a peer: 2^62, which a log taking a million entries a second
    /// reaches in 146,000 years. Why a bound at all: the core counts on `next` and on an index plus a count of entries
    /// never overflowing, and a forged or corrupt value near 2^64 would trap the process (a peer's append with
    /// `prevLogIndex` 2^64−1 did, found by `scripts/fuzz`).
    public static let largestDecodable = LogIndex(1 << 62)
    public static func < (lhs: LogIndex, rhs: LogIndex) -> Bool { lhs.rawValue < rhs.rawValue }
    public var next: LogIndex { LogIndex(rawValue + 1) }
    public var previous: LogIndex {
        precondition(rawValue > 0, "no index before 0")
        return LogIndex(rawValue - 1)
    }
    public static func + (lhs: LogIndex, rhs: UInt64) -> LogIndex { LogIndex(lhs.rawValue + rhs) }
    public var description: String { "\(rawValue)" }
}

/// The identity of a cluster member. Never 0: 0 is reserved so that "no node" cannot be confused with one.
public struct NodeID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) {
        precondition(rawValue != 0, "NodeID 0 is reserved")
        self.rawValue = rawValue
    }
    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "\(rawValue)" }
}
