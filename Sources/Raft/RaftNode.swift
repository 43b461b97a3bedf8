/// One member's Raft consensus module: a pure, deterministic state machine.
///
/// It does no I/O, reads no clock, spawns no threads and uses no global randomness. The shell feeds
/// it `tick()`, `step(_:)` and client requests, and carries out each `Ready` it hands back (see
/// `Ready` for the contract). Because the same inputs always give the same outputs, a whole cluster
/// of these can be simulated under one seed and any failure replayed exactly.
///
/// Invariants (asserted by `checkInvariants()`):
/// - a leader's `leader` is itself, and a candidate has voted for itself in its term;
/// - the log invariants of `RaftLog`;
/// - for every follower the leader tracks, `matchIndex < nextIndex`.
public struct RaftNode: Sendable {
    public let id: NodeID
    public let options: RaftOptions
    var random: SplitMix64

    public internal(set) var role: RaftRole = .follower
    public internal(set) var term: Term
    var vote: NodeID?
    public internal(set) var leader: NodeID?
    var log: RaftLog

    /// The configuration in force: the one of the newest membership entry at or below the commit index.
    public internal(set) var configuration: Configuration
    /// The configuration at the log base and at every committed membership entry after it, so a
    /// snapshot at any applied index records the configuration of that index.
    var configurationHistory: [(index: LogIndex, configuration: Configuration)]

    var electionElapsed = 0
    var heartbeatElapsed = 0
    var randomizedElectionTimeout = 0
    var votesReceived: [NodeID: Bool] = [:]

    // MARK: Leader state
    var progress: [NodeID: Progress] = [:]
    /// Index of the newest membership entry the leader appended; a new change waits until it commits.
    var pendingMembershipIndex: LogIndex = .zero
    var transfer: (target: NodeID, elapsedTicks: Int)?
    var uncommittedBytes = 0
    /// New entries were appended since the last broadcast; sent when the shell drains a Ready, so many
    /// proposals share one AppendEntries per follower.
    var needsBroadcast = false
    /// The commit index advanced: the next broadcast reaches every follower, with an empty append if
    /// it has nothing new, so followers apply without waiting for a heartbeat.
    var needsCommitBroadcast = false
    var reads = ReadIndexTracker()
    /// See `allowsLocalReads`: nil once this node has applied at least what it applied before boot.
    var localReadFence: LogIndex?
    /// See `localReadFenceRequestID(randomSeed:)`.
    public let localReadFenceRequestID: UInt64
    var isFenceReadInFlight = false

    // MARK: Follower state
    var snapshotReceiver: Snapshot?

    // MARK: Output
    var messages: [Message] = []
    var messagesAfterPersist: [Message] = []
    var readResults: [ReadResult] = []
    var lastHardState: HardState
    var isReadyInFlight = false

    /// Restores a node from what it persisted (or from `PersistentState.bootstrap` on first start).
    public init(id: NodeID, options: RaftOptions, persisted: PersistentState, randomSeed: UInt64) {
        self.id = id
        self.options = options
        self.random = SplitMix64(seed: randomSeed ^ id.rawValue &* 0x9E37_79B9_7F4A_7C15)
        self.localReadFenceRequestID = Self.localReadFenceRequestID(randomSeed: randomSeed ^ id.rawValue)
        self.term = persisted.hardState.term
        self.vote = persisted.hardState.vote
        self.log = RaftLog(persisted: persisted)
        self.lastHardState = persisted.hardState
        self.localReadFence = Self.initialLocalReadFence(lastIndex: log.lastIndex, commitIndex: log.commitIndex)
        let base = persisted.snapshot.metadata
        var history = [(index: base.index, configuration: base.configuration)]
        for entry in persisted.entries where entry.index <= log.commitIndex {
            if case .membership(let change) = entry.payload,
                case .success(let next) = history[history.count - 1].configuration.applying(change)
            {
                history.append((entry.index, next))
            }
        }
        self.configurationHistory = history
        self.configuration = history[history.count - 1].configuration
        resetElectionTimer()
    }

    public var status: RaftStatus {
        RaftStatus(
            id: id, role: role, term: term, leader: leader, commitIndex: log.commitIndex,
            appliedIndex: log.appliedIndex, lastIndex: log.lastIndex, configuration: configuration,
            allowsLocalReads: allowsLocalReads)
    }

    public var hardState: HardState { HardState(term: term, vote: vote, commit: log.commitIndex) }
    public var lastIndex: LogIndex { log.lastIndex }
    public var commitIndex: LogIndex { log.commitIndex }
    public var appliedIndex: LogIndex { log.appliedIndex }
    /// Whether an entry of the current term has applied: on a leader, that every entry of earlier terms has, so every
    /// entry still to apply is one this node proposed in this term.
    public var hasAppliedEntryOfCurrentTerm: Bool { log.term(at: log.appliedIndex) == term }
    /// The newest snapshot the log starts after.
    public var snapshotMetadata: SnapshotMetadata { log.base }
    /// The entries the node holds in memory (after the snapshot), for tests and checkers.
    public var entries: [Entry] { log.entries }

    // MARK: - Inputs

    /// Advances logical time by one tick.
    public mutating func tick() {
        precondition(!isReadyInFlight, "tick() between drainReady() and advance(past:)")
        requestFenceReadIfNeeded()
        if role == .leader {
            tickLeader()
        } else {
            tickElection()
        }
    }

    /// Processes a message from a peer.
    public mutating func step(_ message: Message) {
        precondition(!isReadyInFlight, "step() between drainReady() and advance(past:)")
        guard message.to == id, message.from != id else { return }
        guard acceptTerm(of: message) else { return }
        switch message.body {
        case .preVote(let lastIndex, let lastTerm):
            handlePreVote(message, lastIndex: lastIndex, lastTerm: lastTerm)
        case .vote(let lastIndex, let lastTerm, _):
            handleVote(message, lastIndex: lastIndex, lastTerm: lastTerm)
        case .preVoteResponse(let granted):
            if role == .preCandidate { tallyVote(from: message.from, granted: granted) }
        case .voteResponse(let granted):
            if role == .candidate { tallyVote(from: message.from, granted: granted) }
        case .append(let append):
            followLeader(message.from)
            handleAppend(from: message.from, append)
        case .heartbeat(let commit, let round):
            followLeader(message.from)
            handleHeartbeat(from: message.from, commit: commit, readRound: round)
        case .snapshotChunk(let chunk):
            followLeader(message.from)
            handleSnapshotChunk(from: message.from, chunk)
        case .timeoutNow:
            if role != .leader && configuration.isVoter(id) { campaign(.transfer) }
        case .readIndex(let requestID):
            handleForwardedRead(from: message.from, requestID: requestID)
        case .readIndexResponse(let requestID, let index):
            resolveForwardedRead(requestID: requestID, index: index)
        case .appendResponse(let response):
            if role == .leader { handleAppendResponse(from: message.from, response) }
        case .heartbeatResponse(let round):
            if role == .leader { handleHeartbeatResponse(from: message.from, readRound: round) }
        case .snapshotResponse(let response):
            if role == .leader { handleSnapshotResponse(from: message.from, response) }
        }
    }

    /// Applies the term rules of §5.1 and the Pre-Vote and stickiness exceptions; returns whether the
    /// message should be processed further.
    mutating func acceptTerm(of message: Message) -> Bool {
        if message.term > term {
            switch message.body {
            case .preVote:
                return true  // Answered without adopting the term (thesis §9.6).
            case .preVoteResponse(granted: true):
                return true  // Carries the term we would campaign in, not a newer leader's.
            case .vote(_, _, let isTransfer) where isInLeaderLease && !isTransfer:
                return false  // Leader stickiness: a live leader exists, ignore the disruptor.
            case .append, .heartbeat, .snapshotChunk:
                becomeFollower(term: message.term, leader: message.from)
            default:
                becomeFollower(term: message.term, leader: nil)
            }
            return true
        }
        if message.term < term {
            switch message.body {
            case .append, .heartbeat, .snapshotChunk:
                // A deposed leader learns the newer term from this answer and steps down; without it
                // CheckQuorum and Pre-Vote could leave it leading a minority forever.
                send(to: message.from, .heartbeatResponse(readRound: 0), afterPersist: true)
            case .preVote:
                send(to: message.from, .preVoteResponse(granted: false), afterPersist: true)
            default:
                break
            }
            return false
        }
        return true
    }

    /// Whether this node heard from a live leader within the minimum election timeout, less one tick, in which
    /// case it refuses (pre)votes (leader stickiness, thesis §4.2.3). The tick short: followers count ticks out of
    /// phase with one another, so when the leader falls silent and the first in rank campaigns, a whole timeout
    /// after the last heartbeat by its own count, the next has counted one tick fewer about half the time. Refusing
    /// then failed the campaign and left the next in rank to try a tick later (a frozen leader replaced in 1.08–1.17 s
    /// with a 1 s timeout). Stickiness only keeps a live leader from being disrupted, and a live leader's heartbeats
    /// reset the count every heartbeat interval, far below the timeout; no vote or commit rests on it.
    var isInLeaderLease: Bool {
        options.checkQuorum && leader != nil && electionElapsed < max(1, options.electionTimeoutTicks - 1)
    }

    mutating func followLeader(_ sender: NodeID) {
        if role != .follower || leader != sender {
            becomeFollower(term: term, leader: sender)
        }
        electionElapsed = 0
    }

    // MARK: - Output

    mutating func send(to target: NodeID, _ body: MessageBody, afterPersist: Bool, term messageTerm: Term? = nil) {
        let message = Message(from: id, to: target, term: messageTerm ?? term, body: body)
        if afterPersist {
            messagesAfterPersist.append(message)
        } else {
            messages.append(message)
        }
    }

    /// Whether `drainReady()` would return something.
    public var hasReady: Bool {
        !messages.isEmpty || !messagesAfterPersist.isEmpty || !readResults.isEmpty || hardState != lastHardState
            || !log.entriesToPersist.isEmpty || log.pendingSnapshot != nil || !log.entriesToApply(through: log.applicableIndex).isEmpty
            || (role == .leader && (needsBroadcast || needsCommitBroadcast || reads.isRoundOpen))
    }

    /// Hands out everything the shell must do now; see `Ready` for the order. Call `advance(past:)`
    /// once it is done.
    ///
    /// - Parameter inBackground: The shell writes in the background when it can (`Ready.persistsInBackground`):
    ///   it then calls `advance(past:)` without waiting for the write, and `persisted(through:term:)` once the
    ///   write is durable. A Ready that installs a snapshot is always persisted in place.
    public mutating func drainReady(persistingInBackground inBackground: Bool = false) -> Ready {
        precondition(!isReadyInFlight, "drainReady() twice without advance(past:)")
        if role == .leader {
            if needsBroadcast || needsCommitBroadcast { broadcastAppend() }
            if reads.isRoundOpen { broadcastHeartbeat() }
        }
        let current = hardState
        let results = takeReadResultsForShell()
        let background = inBackground && log.pendingSnapshot == nil
        let toPersist = log.entriesToPersist
        // In the background, what this Ready hands out is not durable when it applies: only what already is applies.
        let applyLimit = background ? min(log.commitIndex, log.stableIndex) : log.applicableIndex
        let ready = Ready(
            hardState: current == lastHardState ? nil : current,
            entriesToAppend: Array(toPersist),
            snapshotToInstall: log.pendingSnapshot,
            messages: messages,
            messagesAfterPersist: messagesAfterPersist,
            committedEntries: Array(log.entriesToApply(through: applyLimit)),
            readResults: results,
            status: status,
            mustSync: !toPersist.isEmpty || log.pendingSnapshot != nil
                || current.term != lastHardState.term || current.vote != lastHardState.vote,
            persistsInBackground: background)
        messages.removeAll(keepingCapacity: true)
        messagesAfterPersist.removeAll(keepingCapacity: true)
        readResults.removeAll(keepingCapacity: true)
        isReadyInFlight = true
        return ready
    }

    /// Records that the shell has carried out `ready`.
    public mutating func advance(past ready: Ready) {
        precondition(isReadyInFlight, "advance(past:) without drainReady()")
        isReadyInFlight = false
        if let hardState = ready.hardState { lastHardState = hardState }
        if ready.snapshotToInstall != nil { log.snapshotInstalled() }
        if let last = ready.entriesToAppend.last {
            if ready.persistsInBackground {
                log.markPersisting(through: last.index)
            } else {
                log.markStable(through: last.index)
            }
        }
        if let last = ready.committedEntries.last { log.markApplied(through: last.index) }
        liftLocalReadFenceIfReached()
        if role == .leader {
            // The leader's own entries now count toward a quorum (thesis §10.2.1).
            if maybeCommit() { needsCommitBroadcast = true }
        }
    }

    /// The shell finished a background write (`Ready.persistsInBackground`) whose last entry was `index` in
    /// `term`: those entries may now apply, and a leader counts them toward a quorum. Writes finish in the order
    /// they were handed out. May be called between `drainReady()` and `advance(past:)`.
    public mutating func persisted(through index: LogIndex, term: Term) {
        log.markStable(through: index, term: term)
        // Followers' acknowledgements often arrive before the leader's own write finishes: then this commits, and
        // the followers hear of it at once rather than with the next heartbeat (a forwarded write waits for it).
        if role == .leader, maybeCommit() { needsCommitBroadcast = true }
    }
}
