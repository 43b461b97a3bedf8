import Raft
import Registry
import RosterNode

/// One simulated member: the production `NodeDriver` (absent while crashed) on a simulated
/// environment, plus what the checkers remember about it across restarts.
struct SimNode {
    let id: NodeID
    let name: String
    /// The running driver, boxed: copying or reading through a `SimNode` then never copies the driver.
    private var cell: DriverCell?
    /// The environment while the node is down: its disk and durable marks.
    var parked: SimEnvironment?
    var restarts = 0
    /// In-memory commit and applied never go back within one run of the process.
    var runCommit: LogIndex = .zero
    var runApplied: LogIndex = .zero
    /// The highest index this node ever applied, across restarts: a restarted node must rebuild its
    /// state at least that far from what it persisted, or it would serve older state than before.
    var appliedEver: LogIndex = .zero
    /// The highest revision this node applied before its latest restart: no local read below it.
    var revisionFence: Revision = .zero
    var revisionEver: Revision = .zero
    /// The applied index whose state was last checked.
    var checkedApplied: LogIndex?
    /// The Raft state last checked by `SafetyChecker`.
    var checkedSignature: RaftSignature?
    var lastLedTerm: Term?
    /// The registry before the latest input to a non-leader, for the grace floors of a new leader.
    var registryBefore: RegistryState?
    /// The watch a client keeps open on this node, if any.
    var watch: SimWatch?
    /// The periodic snapshot its (simulated) snapshot worker is writing, if any.
    var snapshotWrite: SimSnapshotWrite?
    /// The highest revision of a write this node acknowledged to a client: its reads must reflect it.
    var acknowledgedRevision: Revision = .zero
    /// When a view of the applied state may answer serializable reads, as the server's I/O loops do; the gate and
    /// the view are the process's, so a restart starts without them.
    var readGate = LocalReadGate()
    var readView: LocalReadView?

    /// Role and term as of the node's last input (copies, so that finding the leader copies no log).
    var role: RaftRole = .follower
    var term: Term = .zero

    var isUp: Bool { cell != nil }

    /// The running driver's box; only while `isUp`. Reach the driver as `box.driver.…`: class storage
    /// is accessed in place, where a computed `driver` property would copy the whole driver per access.
    var box: DriverCell { cell! }

    mutating func run(_ driver: NodeDriver<SimEnvironment>) {
        cell = DriverCell(driver)
        parked = nil
        readGate = LocalReadGate()
        readView = nil
    }

    init(id: NodeID, name: String, environment: SimEnvironment) {
        self.id = id
        self.name = name
        self.parked = environment
    }

    /// Loses everything not on disk; `seed` decides how much of an unsynced write survives, torn.
    mutating func crash(seed: UInt64) {
        guard var environment = cell?.driver.environment else { return }
        environment.disk.crash(seed: seed)
        parked = environment
        cell = nil
        role = .follower
        watch = nil
        snapshotWrite = nil
        revisionFence = revisionEver
    }
}

/// A periodic snapshot on its way through a node's snapshot worker: encoded and its file written at one step,
/// reported to the driver at a later one, so that a crash can fall before the write, between the two, or after.
struct SimSnapshotWrite {
    let capture: SnapshotCapture
    /// The encoded state, once the file is written.
    var data: [UInt8]?
    /// The step of the next phase.
    var due: Int
}

/// A client's watch of every key on one node, from a revision on.
struct SimWatch {
    /// Events after this revision are expected.
    var from: Revision
    var delivered: Revision
    /// Revisions with events delivered so far, in order.
    var deliveredRevisions: [Revision] = []
}

/// A box for a node's driver (see `SimNode.driver`).
final class DriverCell {
    var driver: NodeDriver<SimEnvironment>

    init(_ driver: NodeDriver<SimEnvironment>) {
        self.driver = driver
    }
}

/// What `SafetyChecker` looks at in a node, summed up: when none of it moved, neither did anything it checks.
struct RaftSignature: Equatable {
    var role: RaftRole
    var term: Term
    var commit: LogIndex
    var applied: LogIndex
    var lastIndex: LogIndex
    var lastTerm: Term?
    var snapshotIndex: LogIndex

    init(_ raft: borrowing RaftNode) {
        role = raft.role
        term = raft.term
        commit = raft.commitIndex
        applied = raft.appliedIndex
        lastIndex = raft.lastIndex
        lastTerm = raft.entries.last?.term
        snapshotIndex = raft.snapshotMetadata.index
    }
}
