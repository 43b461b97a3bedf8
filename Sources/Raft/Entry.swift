/// One record of the replicated log.
public struct Entry: Hashable, Sendable, CustomStringConvertible {
    public var term: Term
    public var index: LogIndex
    public var payload: EntryPayload

    public init(term: Term, index: LogIndex, payload: EntryPayload) {
        self.term = term
        self.index = index
        self.payload = payload
    }

    /// Bytes this entry counts against the in-flight and uncommitted limits.
    public var sizeBytes: Int {
        switch payload {
        case .noop: 16
        case .command(let data): 16 + data.count
        case .membership: 32
        }
    }

    public var description: String { "\(index)@\(term) \(payload)" }
}

/// What an entry carries.
public enum EntryPayload: Hashable, Sendable, CustomStringConvertible {
    /// Appended by every new leader so it can commit entries of earlier terms (Raft §5.4.2) and serve
    /// ReadIndex reads (thesis §6.4).
    case noop
    /// An application command, opaque to Raft.
    case command([UInt8])
    /// A single-member configuration change (thesis §4.1).
    case membership(MembershipChange)

    public var description: String {
        switch self {
        case .noop: "noop"
        case .command(let data): "cmd(\(data.count)B)"
        case .membership(let change): "\(change)"
        }
    }
}

/// One step of single-server membership change (thesis §4.1, §4.2.1).
///
/// A configuration takes effect on a node when the entry carrying it is committed there (as in
/// etcd), and a leader proposes at most one change at a time, and only after it has committed an
/// entry of its own term: the fix for the single-server change bug reported on raft-dev in 2015.
public enum MembershipChange: Hashable, Sendable, CustomStringConvertible {
    /// Adds a non-voting member that receives the log but counts toward no quorum.
    case addLearner(NodeID)
    /// Turns a learner into a voter.
    case promoteLearner(NodeID)
    /// Removes a voter or learner; removing the leader makes it step down once committed.
    case remove(NodeID)

    public var node: NodeID {
        switch self {
        case .addLearner(let id), .promoteLearner(let id), .remove(let id): id
        }
    }

    public var description: String {
        switch self {
        case .addLearner(let id): "add-learner(\(id))"
        case .promoteLearner(let id): "promote(\(id))"
        case .remove(let id): "remove(\(id))"
        }
    }
}
