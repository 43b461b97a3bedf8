/// Tunables of one Raft node. Time is counted in ticks: the shell decides how long a tick is.
///
/// Every queue and batch the core keeps has a bound here ("put a limit on everything"), and hitting
/// a bound is a typed outcome, never a silent drop.
public struct RaftOptions: Hashable, Sendable {
    /// Ticks without hearing from a leader before a follower campaigns. The actual timeout is drawn
    /// uniformly from `[electionTimeoutTicks, 2 × electionTimeoutTicks)` to avoid split votes (§5.2).
    public var electionTimeoutTicks: Int = 10
    /// Ticks between leader heartbeats; must be well below the election timeout.
    public var heartbeatTicks: Int = 1
    /// Thesis §9.6: a node first asks whether it could win before it bumps its term, so a node rejoining
    /// from a partition cannot depose a healthy leader.
    public var preVote: Bool = true
    /// A leader that has not heard from a quorum within an election timeout steps down (thesis §6.2), so
    /// a partitioned leader stops serving and its clients go elsewhere.
    public var checkQuorum: Bool = true
    public var maxEntriesPerAppend: Int = 512
    public var maxBytesPerAppend: Int = 1 << 20
    /// Pipelined AppendEntries messages in flight to one follower.
    public var maxInflightAppends: Int = 64
    public var maxInflightBytes: Int = 16 << 20
    /// Bytes of proposed but uncommitted entries the leader accepts before refusing proposals.
    public var maxUncommittedBytes: Int = 64 << 20
    /// ReadIndex requests waiting for confirmation, on the leader or forwarded from a follower.
    public var maxPendingReads: Int = 10_000
    /// Size of one InstallSnapshot chunk.
    public var snapshotChunkBytes: Int = 1 << 20
    /// Chunks of a snapshot the leader sends ahead of the follower's acknowledgement. One at a time, a
    /// 194 MB snapshot took about 2.1 s on loopback (a round trip per MiB, 2026-12-05); four keep the link busy while
    /// staying well under a peer's 8 MiB send queue, so heartbeats still fit beside them.
    public var snapshotChunksInFlight: Int = 4
    /// A learner may be promoted only when it lags the leader's last index by at most this many entries.
    public var maxPromotionLagEntries: UInt64 = 1_000
    /// Test-only rule breakers, used to prove the simulator catches a broken protocol. Empty in
    /// production; `validate()` refuses them unless `allowFaults` is set.
    public var faults: Set<RaftFault> = []

    public init() {}

    /// Why a set of options cannot run a safe cluster.
    public enum Invalid: Error, Hashable, Sendable {
        case nonPositive(field: String, value: Int)
        case heartbeatNotBelowElection(heartbeatTicks: Int, electionTimeoutTicks: Int)
        case faultsInProduction
    }

    public func validate(allowFaults: Bool = false) throws(Invalid) {
        for (field, value) in [
            ("electionTimeoutTicks", electionTimeoutTicks), ("heartbeatTicks", heartbeatTicks),
            ("maxEntriesPerAppend", maxEntriesPerAppend), ("maxBytesPerAppend", maxBytesPerAppend),
            ("maxInflightAppends", maxInflightAppends), ("maxInflightBytes", maxInflightBytes),
            ("maxUncommittedBytes", maxUncommittedBytes), ("maxPendingReads", maxPendingReads),
            ("snapshotChunkBytes", snapshotChunkBytes), ("snapshotChunksInFlight", snapshotChunksInFlight),
        ] where value <= 0 {
            throw .nonPositive(field: field, value: value)
        }
        guard heartbeatTicks < electionTimeoutTicks else {
            throw .heartbeatNotBelowElection(heartbeatTicks: heartbeatTicks, electionTimeoutTicks: electionTimeoutTicks)
        }
        guard allowFaults || faults.isEmpty else { throw .faultsInProduction }
    }
}

/// A deliberate violation of one Raft rule. Exists only so tests can show that the simulator's
/// checkers notice when the protocol is broken.
public enum RaftFault: Hashable, Sendable {
    /// Commit an entry of a previous term by counting replicas (the Figure 8 mistake, §5.4.2).
    case commitPreviousTermByCounting
    /// Send a vote before the vote is persisted, so a crash can make a node vote twice in a term.
    case voteBeforePersisting
    /// Grant votes without the §5.4.1 up-to-date log check.
    case skipLogUpToDateCheck
    /// Offer local reads right after a restart, before applying what was applied before it.
    case localReadsWithoutFence
}
