/// A condition on one key or on every key of a range, etcd's `Compare`. A missing key has version, create
/// revision and mod revision 0 and no lease; a value compare against a missing key is false.
///
/// A range compare (etcd's `range_end`) holds when it holds for every key in the range; over an empty range
/// it is evaluated as for one missing key, so a value compare is false and `version = 0` is true (etcd's
/// `applyCompare`).
public struct Compare: Equatable, Sendable {
    /// The key compared, or the first key of `range`.
    public var key: [UInt8]
    /// Every key compared, when the compare covers a range; nil for the single `key`.
    public var range: KeyRange?
    public var target: Target
    public var relation: Relation

    public init(key: [UInt8], _ target: Target, _ relation: Relation) {
        self.key = key
        self.range = nil
        self.target = target
        self.relation = relation
    }

    /// A compare over every key of `range`.
    public init(range: KeyRange, _ target: Target, _ relation: Relation) {
        self.key = range.lowerBound
        self.range = range
        self.target = target
        self.relation = relation
    }

    /// What of the key is compared, and with which value.
    public enum Target: Equatable, Sendable {
        case value([UInt8])
        case version(Int64)
        case createRevision(Revision)
        case modRevision(Revision)
        /// nil means "no lease"; compares by lease ID.
        case lease(LeaseID?)
    }

    /// How the key's value relates to the target (`less`: the key's is smaller).
    public enum Relation: UInt8, Sendable, CaseIterable {
        case equal = 1
        case notEqual = 2
        case less = 3
        case greater = 4
    }
}
