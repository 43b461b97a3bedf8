/// Everything a `RaftNode` asks its shell to do, handed out by `drainReady()`.
///
/// The shell MUST process a `Ready` in this order, then call `advance(past:)` before any other call
/// on the node:
/// 1. Send `messages`. These are the leader's AppendEntries, heartbeats and snapshot chunks, which
///    may leave before the leader's own copy is durable (thesis §10.2.1): the leader counts itself
///    toward a commit only after `advance`.
/// 2. Persist `snapshotToInstall` (which replaces every stored entry), then `entriesToAppend` (an
///    entry whose index is already stored replaces that entry and everything after it), then
///    `hardState`, and make them durable (fsync).
/// 3. Send `messagesAfterPersist`: votes and acknowledgements promise that what they acknowledge
///    survives a crash (thesis §3.8), so they wait for step 2.
/// 4. Restore the state machine from `snapshotToInstall`, then apply `committedEntries` in order.
/// 5. Serve `readResults` whose index the state machine has applied.
public struct Ready: Sendable {
    public var hardState: HardState?
    public var entriesToAppend: [Entry]
    public var snapshotToInstall: Snapshot?
    public var messages: [Message]
    public var messagesAfterPersist: [Message]
    public var committedEntries: [Entry]
    public var readResults: [ReadResult]
    /// Role and leader as of this Ready, for logging and for routing client requests.
    public var status: RaftStatus
    /// Whether step 2 needs an fsync: entries, a snapshot, or a new term or vote. A hard state that
    /// only moves the commit index is written without one (etcd's `MustSync`), which halves the fsyncs
    /// per write on every node: a commit index lost in a machine crash is learned again from the
    /// leader, and `RaftNode.allowsLocalReads` keeps the node from serving older state meanwhile.
    public var mustSync: Bool
    /// Whether the shell writes step 2 in the background (`RaftNode.drainReady(persistingInBackground:)`): it
    /// goes on with steps 3 to 5 at once, except that `messagesAfterPersist` wait until the write is durable,
    /// and then calls `RaftNode.persisted(through:term:)`. Writes finish in the order they were handed out.
    /// `committedEntries` then holds only entries already durable here, so nothing applies that a crash could
    /// take back.
    public var persistsInBackground: Bool = false

    public var isEmpty: Bool {
        hardState == nil && entriesToAppend.isEmpty && snapshotToInstall == nil && messages.isEmpty
            && messagesAfterPersist.isEmpty && committedEntries.isEmpty && readResults.isEmpty
    }
}

/// What the node is doing, as the shell and its clients need to know.
public struct RaftStatus: Hashable, Sendable, CustomStringConvertible {
    public var id: NodeID
    public var role: RaftRole
    public var term: Term
    public var leader: NodeID?
    public var commitIndex: LogIndex
    public var appliedIndex: LogIndex
    public var lastIndex: LogIndex
    public var configuration: Configuration
    /// See `RaftNode.allowsLocalReads`.
    public var allowsLocalReads: Bool

    public var description: String {
        "\(id) \(role) term:\(term) leader:\(leader.map { "\($0)" } ?? "-") commit:\(commitIndex) applied:\(appliedIndex) last:\(lastIndex)"
    }
}

public enum RaftRole: String, Hashable, Sendable {
    case follower, preCandidate, candidate, leader
}

/// The answer to `propose(_:)`.
public enum ProposalOutcome: Hashable, Sendable {
    /// Appended at `index` in `term`. It is committed if and when the entry applied at `index` has
    /// this `term`; if another term's entry is applied there, the proposal was lost and never applies.
    case accepted(index: LogIndex, term: Term)
    /// This node is not the leader; `leader` is who it believes leads `term`, or nil if nobody does.
    case notLeader(leader: NodeID?, term: Term)
    /// The leader refused the proposal without appending it.
    case refused(ProposalRefusal)
}

public enum ProposalRefusal: Hashable, Sendable {
    /// Uncommitted entries already fill `RaftOptions.maxUncommittedBytes`; retry after they commit.
    case uncommittedLimit(bytes: Int)
    /// A leadership transfer is in progress; retry on the new leader.
    case transferInProgress(to: NodeID)
    /// The command alone exceeds the per-message byte limit.
    case tooLarge(bytes: Int, limit: Int)
}

/// The answer to `proposeMembershipChange(_:)`.
public enum MembershipChangeOutcome: Hashable, Sendable {
    case accepted(index: LogIndex, term: Term)
    case notLeader(leader: NodeID?, term: Term)
    case refused(MembershipRefusal)
}

public enum MembershipRefusal: Hashable, Sendable {
    /// Another change is proposed but not committed yet; single-server changes go one at a time.
    case changeInProgress(index: LogIndex)
    /// The leader has not yet committed an entry of its term (raft-dev 2015 single-server change bug).
    case leaderNotReady
    case invalid(Configuration.ChangeRejection)
    /// After the change, fewer voters than a quorum would be reachable.
    case wouldLoseQuorum(reachableVoters: Int, quorum: Int)
    /// The learner lags by more than `RaftOptions.maxPromotionLagEntries`.
    case learnerBehind(node: NodeID, matchIndex: LogIndex, lastIndex: LogIndex)
}

/// The answer to `transferLeadership(to:)`.
public enum TransferOutcome: Hashable, Sendable {
    case started
    case notLeader(leader: NodeID?, term: Term)
    case refused(TransferRefusal)
}

public enum TransferRefusal: Hashable, Sendable {
    case notAVoter(NodeID)
    case alreadyLeader
    case transferInProgress(to: NodeID)
}

/// A linearizable read point (thesis §6.4), or why none could be had.
public struct ReadResult: Hashable, Sendable, CustomStringConvertible {
    public var requestID: UInt64
    public var outcome: Outcome

    public init(requestID: UInt64, outcome: Outcome) {
        self.requestID = requestID
        self.outcome = outcome
    }

    public enum Outcome: Hashable, Sendable {
        /// Serve the read once the state machine has applied at least `index`.
        case ready(index: LogIndex)
        case failed(ReadFailure)
    }

    public var description: String {
        switch outcome {
        case .ready(let index): "read #\(requestID) at \(index)"
        case .failed(let failure): "read #\(requestID) failed: \(failure)"
        }
    }
}

public enum ReadFailure: Hashable, Sendable {
    /// No leader is known; retry after an election.
    case noLeader
    /// Leadership changed (or the leader stepped down) before the read was confirmed.
    case leadershipLost
    /// Too many reads are waiting; retry later.
    case tooManyPendingReads
    /// The leader did not answer a forwarded read within two election timeouts.
    case timedOut
}
