import Raft

/// One simulated member: its Raft core (absent while crashed), its disk and its application, plus
/// the client requests waiting on it.
struct SimNode {
    let id: NodeID
    var raft: RaftNode?
    var disk: SimDisk
    var app: SimStateMachine
    var restarts = 0
    /// Proposals accepted by this node as leader, waiting to be applied: index → (term, operation).
    var pendingProposals: [LogIndex: (term: Term, operation: UInt64)] = [:]
    /// Reads asked of this node: request → highest write acknowledged before the read began.
    var pendingReads: [UInt64: LogIndex] = [:]
    /// Reads with a confirmed read index, waiting for the application to catch up.
    var readsToServe: [(requestID: UInt64, index: LogIndex, mustSee: LogIndex)] = []
    /// Durable term and commit never go back, across restarts too.
    var durableTerm: Term = .zero
    var durableCommit: LogIndex = .zero
    /// In-memory commit and applied never go back within one run of the process.
    var runCommit: LogIndex = .zero
    var runApplied: LogIndex = .zero
    /// The highest index this node ever applied, across restarts: a restarted node must rebuild its
    /// state at least that far from what it persisted, or it would serve older state than before.
    var appliedEver: LogIndex = .zero

    var isUp: Bool { raft != nil }

    init(id: NodeID, persisted: PersistentState, options: RaftOptions, seed: UInt64, useStorage: Bool) throws(Violation) {
        self.id = id
        self.disk = try SimDisk(node: id, initial: persisted, useStorage: useStorage)
        self.app = SimStateMachine(snapshotData: persisted.snapshot.data)
        self.raft = RaftNode(id: id, options: options, persisted: persisted, randomSeed: seed)
    }

    /// Loses everything not on disk; `seed` decides how much of an unsynced write survives, torn.
    mutating func crash(seed: UInt64) {
        disk.crash(seed: seed)
        raft = nil
        pendingProposals = [:]
        pendingReads = [:]
        readsToServe = []
    }

    mutating func restart(options: RaftOptions, seed: UInt64) throws(Violation) {
        precondition(raft == nil, "restart of a running node \(id)")
        restarts += 1
        let persisted = try disk.recover()
        app = SimStateMachine(snapshotData: persisted.snapshot.data)
        raft = RaftNode(id: id, options: options, persisted: persisted, randomSeed: seed &+ UInt64(restarts))
        runCommit = .zero
        runApplied = .zero
    }
}
