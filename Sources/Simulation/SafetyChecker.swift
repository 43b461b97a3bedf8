import Raft

/// A broken safety or liveness property, with the step at which it was seen.
public struct Violation: Error, CustomStringConvertible, Sendable {
    public var step: Int
    public var property: String
    public var detail: String
    public var description: String { "step \(step): \(property) violated: \(detail)" }
}

/// The cluster-wide checks that run after every simulated step (Raft Figure 3's properties plus the
/// durability and read promises Roster makes to its clients).
///
/// It keeps one canonical history, as TigerBeetle's state checker does: the first node to apply an
/// index defines it, and every other node must apply the same entry and reach the same hash chain.
struct SafetyChecker {
    /// Election Safety: at most one leader per term.
    private var leaderOfTerm: [Term: NodeID] = [:]
    /// State Machine Safety: index → (term, chain hash after applying it).
    private(set) var canonical: [LogIndex: (term: Term, chain: UInt64)] = [:]
    /// Committed entries as observed on any node: index → term. Never changes once set.
    private(set) var committed: [LogIndex: Term] = [:]
    private(set) var highestCommitted: LogIndex = .zero
    /// Log Matching: (index, term) → (payload hash, term of the previous entry).
    private var entryIdentity: [LogIndex: [Term: (payload: UInt64, previousTerm: Term)]] = [:]
    /// Writes acknowledged to clients: index → term.
    private(set) var acknowledged: [LogIndex: Term] = [:]
    private(set) var highestAcknowledged: LogIndex = .zero
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
            let identity = (payload: SimStateMachine.payloadHash(entry.payload), previousTerm: previousTerm)
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

    /// State Machine Safety: every node applies the same entry at each index.
    mutating func recordApply(node: NodeID, entry: Entry, chain: UInt64) throws(Violation) {
        if let known = canonical[entry.index] {
            guard known.term == entry.term, known.chain == chain else {
                throw violation(
                    "state machine safety",
                    "node \(node) applied \(entry.index)@\(entry.term), canonical \(entry.index)@\(known.term)")
            }
        } else {
            canonical[entry.index] = (entry.term, chain)
        }
        if let ackedTerm = acknowledged[entry.index], ackedTerm != entry.term {
            throw violation("durability", "node \(node) applied \(entry.index)@\(entry.term) over acknowledged @\(ackedTerm)")
        }
    }

    /// A snapshot install must land on the canonical chain.
    func checkSnapshot(node: NodeID, index: LogIndex, chain: UInt64) throws(Violation) {
        guard index > .zero else { return }
        guard let known = canonical[index] else {
            throw violation("snapshot safety", "node \(node) installed a snapshot at \(index) that no node applied")
        }
        guard known.chain == chain else {
            throw violation("snapshot safety", "node \(node) installed a snapshot at \(index) off the canonical history")
        }
    }

    mutating func acknowledge(index: LogIndex, term: Term) throws(Violation) {
        guard canonical[index]?.term == term else {
            throw violation("durability", "acknowledged \(index)@\(term) is not the canonical entry")
        }
        acknowledged[index] = term
        highestAcknowledged = max(highestAcknowledged, index)
    }
}
