import Raft

/// A broken safety or liveness property, with the step at which it was seen.
public struct Violation: Error, CustomStringConvertible, Sendable {
    public var step: Int
    public var property: String
    public var detail: String
    public var description: String { "step \(step): \(property) violated: \(detail)" }
}

/// The Raft-level checks that run after every input to a node (Raft Figure 3's properties); the
/// registry, client and lease promises are `NodeChecker`'s.
struct SafetyChecker {
    /// Election Safety: at most one leader per term.
    private var leaderOfTerm: [Term: NodeID] = [:]
    /// Committed entries as observed on any node: index → term. Never changes once set.
    private(set) var committed: [LogIndex: Term] = [:]
    private(set) var highestCommitted: LogIndex = .zero
    /// Log Matching: (index, term) → (payload hash, term of the previous entry).
    private var entryIdentity: [LogIndex: [Term: (payload: UInt64, previousTerm: Term)]] = [:]
    /// Per node, the commit index already recorded, so each step only looks at what is new.
    private var recordedCommit: [NodeID: LogIndex] = [:]
    var step = 0

    /// Forgets per-node progress after a crash: the restarted node's commit index may be lower.
    mutating func forget(_ node: NodeID) {
        recordedCommit[node] = nil
    }

    func violation(_ property: String, _ detail: String) -> Violation {
        Violation(step: step, property: property, detail: detail)
    }

    /// Checks what one node's current state says about the cluster.
    mutating func observe(_ node: RaftNode) throws(Violation) {
        if let broken = node.brokenInvariant { throw violation("raft invariant", broken) }
        node.checkInvariants()
        if node.role == .leader {
            if let existing = leaderOfTerm[node.term], existing != node.id {
                throw violation("election safety", "nodes \(existing) and \(node.id) both lead term \(node.term)")
            }
            if leaderOfTerm[node.term] == nil {
                leaderOfTerm[node.term] = node.id
                try checkLeaderCompleteness(node)
            }
        }
        try checkLogMatching(node)
        try recordCommitted(node)
    }

    /// Leader Completeness (§5.4): a new leader holds every entry committed before its term.
    private func checkLeaderCompleteness(_ leader: RaftNode) throws(Violation) {
        let base = leader.snapshotMetadata.index
        for index in committed.keys.sorted() where index > base {
            let term = committed[index]!
            let position = Int(index.rawValue - base.rawValue - 1)
            guard position < leader.entries.count, leader.entries[position].term == term else {
                throw violation(
                    "leader completeness",
                    "leader \(leader.id) of term \(leader.term) lacks committed entry \(index)@\(term)")
            }
        }
    }

    private mutating func checkLogMatching(_ node: RaftNode) throws(Violation) {
        var previousTerm = node.snapshotMetadata.term
        for entry in node.entries {
            let identity = (payload: Self.payloadHash(entry.payload), previousTerm: previousTerm)
            if let known = entryIdentity[entry.index]?[entry.term] {
                guard known.payload == identity.payload, known.previousTerm == identity.previousTerm else {
                    throw violation(
                        "log matching",
                        "node \(node.id) holds \(entry.index)@\(entry.term) differing from another node's")
                }
            } else {
                entryIdentity[entry.index, default: [:]][entry.term] = identity
            }
            previousTerm = entry.term
        }
    }

    private mutating func recordCommitted(_ node: RaftNode) throws(Violation) {
        let base = node.snapshotMetadata.index
        var index = max(base.next, (recordedCommit[node.id] ?? .zero).next)
        defer { recordedCommit[node.id] = node.commitIndex }
        while index <= node.commitIndex {
            let term = node.entries[Int(index.rawValue - base.rawValue - 1)].term
            if let known = committed[index] {
                guard known == term else {
                    throw violation("commit safety", "node \(node.id) committed \(index)@\(term), earlier \(index)@\(known)")
                }
            } else {
                committed[index] = term
                highestCommitted = max(highestCommitted, index)
            }
            index = index.next
        }
    }

    static func payloadHash(_ payload: EntryPayload) -> UInt64 {
        switch payload {
        case .noop: return 1
        case .command(let bytes): return bytes.reduce(UInt64(7)) { ($0 &* 31) &+ UInt64($1) }
        case .membership(let change):
            switch change {
            case .addLearner(let id): return 11 &* id.rawValue
            case .promoteLearner(let id): return 13 &* id.rawValue
            case .remove(let id): return 17 &* id.rawValue
            }
        }
    }
}
