import Raft
import Registry

/// Settings of one node's driver.
public struct NodeOptions: Sendable {
    public var id: NodeID
    public var raft: RaftOptions
    /// Real time per Raft tick; lease deadlines and grace are in milliseconds of the shell's clock.
    public var tickMilliseconds: UInt64
    public var registryLimits: RegistryLimits
    /// The framework layouts the registry pairs with native instances (none unless set; see `FrameworkLayout`).
    /// Every member must use the same.
    public var registryLayouts: [FrameworkLayout] = []
    /// Applied entries after the last snapshot before the node takes a new one and compacts its log.
    public var snapshotEveryEntries: UInt64 = 10_000
    /// A state over `snapshotLogShareFloorBytes` also waits until the commands applied since the last snapshot add up
    /// to at least `1/snapshotLogShare` of that snapshot's bytes (0: no such wait), or to `snapshotLogCapBytes`.
    /// Encoding and writing a snapshot costs time in proportion to the state, so a fixed entry count makes a large
    /// state snapshot without pause: measured with 1,000,000 instances (2026-12-04), every 10,000 entries meant a
    /// snapshot every 3 s that took 3.6 s of a core on every member. A mid-size state paid too: at 64,000 keys
    /// (20 MB snapshots) under 64 clients, every 10,000 entries meant a snapshot every 1.5 s on every member, a
    /// quarter of the servers' CPU (2026-12-05, 64 etcd-API clients: 15,380 and 16,784 puts/s with 50,000 entries
    /// against 12,982–14,400 with 10,000, and 0.060–0.068 against 0.076–0.088 s of CPU per 1,000 puts; a repeat in
    /// a slower hour showed no difference in rate). With the share, the snapshot's cost per applied byte is bounded
    /// by a constant, and the log a restart replays stays within half the state; the cap bounds the memory that log
    /// holds for a very large state. Small states snapshot by the entry count alone: encoding them is cheap.
    public var snapshotLogShare = 2
    /// The snapshot size below which `snapshotLogShare` does not apply.
    public var snapshotLogShareFloorBytes = 1 << 20
    /// Applied command bytes after which a snapshot is due whatever the share says (with the entry count met).
    public var snapshotLogCapBytes = 64 << 20
    /// Requests waiting on this node (writes, reads, keepalives) before new ones are refused.
    public var maxPendingRequests: Int = 100_000
    /// Learners the configuration may hold at once; more are refused (`AdminRefusal.tooManyLearners`). One, as
    /// etcd 3.4 allows: a learner is a member on its way to voting, and each one adds replication load.
    public var maxLearners: Int = 1
    /// The members this node knows from its configuration; later members come from the replicated
    /// member directory.
    public var initialMembers: [Member]
    /// Testing only, loses data: answer a write as soon as the leader appends it, with the result it
    /// would have if it committed. Lets the chaos suite prove its checker catches lost writes.
    public var unsafeAcknowledgeBeforeCommit = false
    /// Testing only: rules deliberately broken so the simulator can show it catches them. Empty in production.
    public var faults: Set<NodeFault> = []

    public init(id: NodeID, raft: RaftOptions, tickMilliseconds: UInt64, initialMembers: [Member]) {
        self.id = id
        self.raft = raft
        self.tickMilliseconds = tickMilliseconds
        self.initialMembers = initialMembers
        self.registryLimits = RegistryLimits(electionTimeoutMilliseconds: Int64(tickMilliseconds) * Int64(raft.electionTimeoutTicks))
    }

    public var electionTimeoutMilliseconds: UInt64 { tickMilliseconds * UInt64(raft.electionTimeoutTicks) }
}

/// A deliberate violation of one of the node's rules (leases, reads). Exists only so the whole-node
/// simulator can show that its checkers catch a broken node, as `RaftFault` does for the Raft core.
public enum NodeFault: Hashable, Sendable {
    /// Followers also count lease deadlines, on their own clocks (which never see a keepalive), and send
    /// the expiries they find due to the leader.
    case expireLeasesOnFollowers
    /// A new leader resumes every lease from its replicated remaining TTL without the election grace.
    case noLeaseGraceOnLeaderChange
    /// A linearizable read is answered from local state at once, without confirming a read index.
    case linearizableReadsWithoutReadIndex
    /// A read joins the read-index request already on its way to the leader instead of waiting for the next one.
    case readsJoinEarlierReadIndex
    /// `answerLocally` answers serializable reads even while the node may not serve local reads (still catching up
    /// to the state it served before a restart).
    case localAnswersWithoutFence
    /// Request IDs start at 1 on every start of the node, so an answer meant for its previous incarnation can
    /// match a request of this one (`NodeDriver.nextInternalID`).
    case internalIDsRestartAtOne
    /// A periodic snapshot written off the loop is labelled, in what Raft sends lagging followers, with the index
    /// applied when its write finished rather than the one its state was captured at.
    case snapshotLabelledAtCompletion
    /// A leader names the lease of a registration proposed together with its grant without checking that no lease
    /// has that ID and no grant ahead of it will take it (`GrantsInFlight`).
    case leasesNamedUnchecked
    /// A Ready written in the background lets its votes and acknowledgements leave when its write starts, not when
    /// it is durable (`NodeDriver.persistInBackground`).
    case acknowledgeBeforeDurable
}
