/// A condition on one key, etcd's `Compare`. A missing key has version, create revision and mod revision
/// 0 and no lease; a value compare against a missing key is false.
public struct Compare: Equatable, Sendable {
    public var key: [UInt8]
    public var target: Target
    public var relation: Relation

    public init(key: [UInt8], _ target: Target, _ relation: Relation) {
        self.key = key
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
