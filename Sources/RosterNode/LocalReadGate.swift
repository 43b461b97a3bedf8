import Raft
import Registry

/// When a copy of the applied state handed to another thread may answer serializable reads.
///
/// Why: the server's I/O loops answer serializable reads from a view of the applied state that the Raft loop
/// publishes, so a read costs no hand-off to the Raft loop and back. The promise to keep is the one the Raft loop
/// keeps: a read on a node sees every write that node acknowledged before the read began (it applies a write
/// before answering it). So the view carries the generation it was taken at, the generation moves whenever
/// anything a read's answer depends on changes (`Key`), and it moves before that Ready's answers leave. A view of
/// an older generation never answers; the read goes through the node instead, and a new view is asked for, so the
/// node pays for a view (the copy-on-write of what the next writes touch) only while reads use views.
///
/// A cluster of one voter answers linearizable reads from views too (`answersLinearizable`); planted fault
/// `linearizable-view` (any view answering linearizable reads) shows that the simulator's linearizable-read check
/// catches what that condition prevents.
///
/// Pure: the server keeps it under a lock with an atomic copy of `generation`; the simulator drives it directly, and
/// its planted fault `stale-local-view` (a view answering past its generation) shows that the simulator's
/// read-your-writes check catches what this gate prevents.
public struct LocalReadGate: Sendable {
    /// What a view's answers depend on; any change starts a new generation.
    public struct Key: Equatable, Sendable {
        public var appliedIndex: UInt64
        public var revision: Revision
        public var leader: NodeID?
        public var term: Term
        /// `RaftStatus.allowsLocalReads`: false while the node is still catching up to the state it served before
        /// a restart.
        public var allowsLocalReads: Bool
        public var isShuttingDown: Bool
        /// Whether the state answers linearizable reads too (`answersLinearizable(_:)`).
        public var isSoleVoterCaughtUp: Bool

        public init(
            appliedIndex: UInt64, revision: Revision, leader: NodeID?, term: Term, allowsLocalReads: Bool,
            isShuttingDown: Bool = false, isSoleVoterCaughtUp: Bool = false
        ) {
            self.appliedIndex = appliedIndex
            self.revision = revision
            self.leader = leader
            self.term = term
            self.allowsLocalReads = allowsLocalReads
            self.isShuttingDown = isShuttingDown
            self.isSoleVoterCaughtUp = isSoleVoterCaughtUp
        }

        /// The key of a node's state as its status describes it, after a Ready.
        public init(status: NodeStatus, appliedIndex: UInt64, isShuttingDown: Bool = false) {
            let raft = status.raft
            self.init(
                appliedIndex: appliedIndex, revision: status.revision, leader: raft.leader, term: raft.term,
                allowsLocalReads: raft.allowsLocalReads, isShuttingDown: isShuttingDown,
                isSoleVoterCaughtUp: Self.isSoleVoterCaughtUp(
                    isLeader: raft.role == .leader, id: raft.id, voters: raft.configuration.voters, commit: raft.commitIndex,
                    last: raft.lastIndex, applied: raft.appliedIndex))
        }

        /// The leader, the only voter, with every entry of its log committed and applied.
        public static func isSoleVoterCaughtUp(
            isLeader: Bool, id: NodeID, voters: [NodeID], commit: LogIndex, last: LogIndex, applied: LogIndex
        ) -> Bool {
            isLeader && voters.count == 1 && voters[0] == id && commit == last && applied == commit
        }
    }

    /// The current generation; a view answers only while it was taken at this one.
    public private(set) var generation: UInt64 = 1
    /// The key of the current generation; nil before the first `note`.
    public private(set) var key: Key?
    private var isViewCurrent = false
    /// Set by a read that found no view of the current generation; cleared when one is published.
    public var isViewWanted = true

    public init() {}

    /// Records where the node stands after a Ready, before its answers leave.
    public mutating func note(_ key: Key) {
        guard key != self.key else { return }
        self.key = key
        isViewCurrent = false
        generation += 1
    }

    /// The generation of the view to publish now, if a read asked for one and the published view is older; the
    /// caller then publishes a view of the state it holds now. Nil when nothing is to be published.
    public mutating func takePublication() -> UInt64? {
        guard isViewWanted, !isViewCurrent, key != nil else { return nil }
        isViewWanted = false
        isViewCurrent = true
        return generation
    }

    /// Whether a view taken at `viewGeneration` may answer when the current generation is `current` (read where
    /// the gate is not at hand: the server's I/O loops read an atomic copy of it).
    public static func answers(viewGeneration: UInt64, current: UInt64) -> Bool {
        viewGeneration == current
    }

    /// Whether a view of the state `key` describes may answer at all.
    public static func mayAnswer(_ key: Key) -> Bool {
        key.allowsLocalReads && !key.isShuttingDown
    }

    /// Whether a view of the state `key` describes may answer linearizable reads too: when the node is the leader
    /// and the only voter, has committed everything in its log (so an entry of its own term) and applied all of it.
    /// No other node can then commit anything, so until the key changes (a voter added, the log grown) the applied
    /// state holds every write acknowledged anywhere: what a read index would confirm, without asking for one.
    /// A cluster of one member, the embedded default, then serves every read on its I/O loops.
    public static func answersLinearizable(_ key: Key) -> Bool {
        mayAnswer(key) && key.isSoleVoterCaughtUp
    }
}
