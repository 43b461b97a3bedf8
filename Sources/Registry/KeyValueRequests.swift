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

/// A write of one key.
public struct PutRequest: Equatable, Sendable {
    public var key: [UInt8]
    public var value: [UInt8]
    /// Attach the key to this lease (detaching it from any other); nil detaches.
    public var lease: LeaseID?
    /// Return the key as it was before.
    public var returnPrevious: Bool

    public init(key: [UInt8], value: [UInt8], lease: LeaseID? = nil, returnPrevious: Bool = false) {
        self.key = key
        self.value = value
        self.lease = lease
        self.returnPrevious = returnPrevious
    }
}

/// A delete of every key in a range.
public struct DeleteRangeRequest: Equatable, Sendable {
    public var range: KeyRange
    /// Return the deleted keys.
    public var returnPrevious: Bool

    public init(_ range: KeyRange, returnPrevious: Bool = false) {
        self.range = range
        self.returnPrevious = returnPrevious
    }
}

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

/// One operation inside a transaction branch.
public enum TransactionOperation: Equatable, Sendable {
    /// A read; it sees the branch's earlier writes.
    case range(RangeRequest)
    case put(PutRequest)
    case deleteRange(DeleteRangeRequest)
}

/// An etcd transaction: if every compare holds, run `success`, else `failure`; all at one revision.
public struct TransactionRequest: Equatable, Sendable {
    public var compares: [Compare]
    public var success: [TransactionOperation]
    public var failure: [TransactionOperation]

    public init(compares: [Compare], success: [TransactionOperation], failure: [TransactionOperation] = []) {
        self.compares = compares
        self.success = success
        self.failure = failure
    }
}

/// The answer to one transaction operation.
public enum OperationResponse: Equatable, Sendable {
    /// A read's answer, at the transaction's revision.
    case range(RangeResult)
    case put(previous: KeyValue?)
    case deleteRange(deleted: Int, previous: [KeyValue])
}
