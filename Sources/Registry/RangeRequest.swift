/// A read of keys: etcd's `RangeRequest` at the current revision.
public struct RangeRequest: Equatable, Sendable {
    public var range: KeyRange
    /// Most keys returned; 0 means no limit. `count` still counts every match.
    public var limit: Int
    /// Return only the count.
    public var countOnly: Bool
    /// Return keys with empty values.
    public var keysOnly: Bool

    public init(_ range: KeyRange, limit: Int = 0, countOnly: Bool = false, keysOnly: Bool = false) {
        self.range = range
        self.limit = limit
        self.countOnly = countOnly
        self.keysOnly = keysOnly
    }
}

/// A read's answer.
public struct RangeResult: Equatable, Sendable {
    /// Matches in key order, at most `limit`.
    public var keyValues: [KeyValue]
    /// Number of matches, whatever the limit.
    public var count: Int
    /// Whether matches were left out because of the limit.
    public var more: Bool
    /// The revision the answer reflects.
    public var revision: Revision
}
