import Codec
import Raft
import Registry

/// Runs one node: the Raft core, the registry state machine and the leader's lease keeper, plus the
/// client requests waiting on them. Deterministic: it reads the clock and persists through
/// `Environment`, and returns everything else it wants done as `NodeEffects`, so the same inputs give
/// the same outputs in production and in tests.
///
/// Single-threaded and not `Sendable`: the shell's loop thread owns it.
public struct NodeDriver<Environment: NodeEnvironment> {
    public var environment: Environment
    public let options: NodeOptions
    public internal(set) var raft: RaftNode
    public internal(set) var registry: RegistryState
    var keeper: LeaseKeeper
    /// What the shell must carry out, queued since the last `processReady()`.
    var effects = NodeEffects()

    // MARK: Requests waiting on this node
    /// Writes appended at `(index, term)`, answered when this node applies that index.
    var writesAwaitingApply: [LogIndex: (term: Term, request: RequestID)] = [:]
    /// Writes forwarded to `leader`, waiting for where it appended them; `registration` is set for a registration
    /// with a lease forwarded whole, so that it can go in two writes instead should the leader predate that.
    var writesAwaitingLeader: [UInt64: (request: RequestID, leader: NodeID, registration: RegistrationRequest?)] = [:]
    /// A leader that answered a whole registration `malformed` in `term`: an earlier version, so until the term
    /// changes this node forwards registrations to it in two writes.
    var legacyLeader: (leader: NodeID, term: Term)?
    /// Registrations followers handed over whole, by the index of their lease grant (leader side).
    var peerRegistrationGrants: [LogIndex: PeerRegistration] = [:]
    /// The registration entries of those, by index, with the lease to revoke should the entry not apply.
    var peerRegistrationEntries: [LogIndex: (term: Term, lease: LeaseID)] = [:]
    /// The whole registrations taken lately, so that one delivered twice is taken once.
    var recentPeerRegistrations = RecentPeerRequests(capacity: 4_096)
    /// Leader side: the lease grants appended in this term and not yet applied (`nameableLease`).
    var grantsInFlight = GrantsInFlight()
    /// Grants proposed together with their registration, by index, until they apply.
    var pipelinedGrants: [LogIndex: PipelinedGrant] = [:]
    /// Keepalives forwarded to `leader`.
    var keepAlivesAwaitingLeader: [UInt64: (request: RequestID, lease: LeaseID, leader: NodeID)] = [:]
    /// The leader this node last knew of, to notice a change and fail what waits on the former one.
    var knownLeader: NodeID?
    /// Leader side: the newest index a follower was told its forwarded write landed at (`commitNoticesBeforeApply`).
    var newestForwardedIndex: LogIndex = .zero
    /// Keepalives (local or forwarded) to answer once a checkpoint of the lease that covers the renewal
    /// applies (`renewedAt`: this node's clock when it renewed).
    var keepAlivesAwaitingCheckpoint: [LeaseID: [(reply: KeepAliveReply, ttlMilliseconds: Int64, renewedAt: UInt64)]] = [:]
    /// Reads waiting for Raft to confirm a read index, by the internal ID of the request they share.
    var readsAwaitingIndex: [UInt64: [PendingRead]] = [:]
    /// Reads submitted since the last read-index request, which the next Ready asks for (see
    /// `requestReadIndexForQueuedReads`).
    var readsForNextReadIndex: [PendingRead] = []
    /// The internal ID of the last read-index request made (for the planted fault that joins it).
    var newestReadIndexRequest: UInt64?
    /// Reads whose read index (and minimum revision) this node must reach before serving them.
    var readsAwaitingApply: [PendingRead] = []
    /// Registrations with a lease, by the client's request, at the step they are in.
    var registrations: [RequestID: RegistrationStep] = [:]
    /// Proposals of registration steps, waiting for Raft to take proposals (see `RegistrationStep`).
    var followUps: [FollowUp] = []
    /// Membership changes (and member directory updates) appended at `(index, term)`.
    var adminAwaitingApply: [LogIndex: (term: Term, request: RequestID)] = [:]
    /// Membership requests forwarded to `leader`, waiting for where it appended them.
    var adminAwaitingLeader: [UInt64: (request: RequestID, leader: NodeID)] = [:]
    /// Every open request, to bound them and to let the shell cancel one.
    var openRequests: Set<RequestID> = []

    /// The next ID for a request this node sends for a client (a read index, a forwarded write, keepalive or
    /// membership change), to match the answer that comes back.
    ///
    /// Why it starts at a point drawn from the seed rather than at 1: an answer meant for an earlier incarnation of
    /// this node (in flight when it crashed, or queued by a peer across the reconnect) would otherwise find a
    /// request of this incarnation under the same ID. The simulator caught exactly that (seed
    /// 1796493589082789772): a restarted follower took a read index the leader had answered before the crash, older
    /// than a write acknowledged since, for a new read, and served a stale value. A forwarded write could likewise
    /// take another write's place in the log as its own. Starts are drawn from 2^62 values, so two incarnations'
    /// ranges overlap with a probability of about 2^-21 per restart even after 2^40 requests, and the
    /// stale answer would still have to arrive within that range's window.
    var nextInternalID: UInt64
    var lastLeaderContactMilliseconds: UInt64?
    var wasLeader = false
    /// The last index when this node became leader (at or after its term's first entry). Until it has
    /// applied that far, entries of earlier terms may still commit, among them a former leader's
    /// `expireLeases`: renewing one of those leases would acknowledge a keepalive of a lease about to end.
    var leaderFirstIndex: LogIndex = .zero
    var members: [Member]
    /// The periodic snapshot handed to the shell and not yet reported written (`snapshotWritten`).
    var snapshotBeingWritten: SnapshotMetadata?
    /// Readies being written in the background, oldest first (`NodeEnvironment.persistsInBackground`).
    var backgroundWrites: [BackgroundWrite] = []
    var lastBackgroundTicket: UInt64 = 0
    /// Bytes of the newest snapshot's data, and of the commands applied since the state it holds
    /// (`NodeOptions.snapshotLogShare`).
    var snapshotBytes = 0
    var appliedBytesSinceSnapshot = 0

    struct PendingRead {
        var request: RequestID
        /// Nil for a `readBarrier`.
        var query: RegistryQuery?
        var options: ReadOptions
        var index: LogIndex
    }

    enum KeepAliveReply {
        case local(RequestID)
        case remote(peer: NodeID, request: UInt64)
    }

    /// Starts a node from what it persisted; `persisted.snapshot.data` is the registry snapshot (empty
    /// for a new cluster).
    public init(options: NodeOptions, persisted: PersistentState, environment: Environment, randomSeed: UInt64) throws(CodecError) {
        self.options = options
        self.environment = environment
        self.raft = RaftNode(id: options.id, options: options.raft, persisted: persisted, randomSeed: randomSeed)
        self.nextInternalID = options.faults.contains(.internalIDsRestartAtOne)
            ? 1 : Self.firstInternalID(randomSeed: randomSeed)
        if persisted.snapshot.data.isEmpty {
            self.registry = RegistryState(limits: options.registryLimits, layouts: options.registryLayouts)
        } else {
            self.registry = try RegistryState.restore(from: persisted.snapshot.data, limits: options.registryLimits, layouts: options.registryLayouts)
        }
        var keeperConfiguration = LeaseKeeperConfiguration(electionTimeoutMilliseconds: options.electionTimeoutMilliseconds)
        if options.faults.contains(.noLeaseGraceOnLeaderChange) { keeperConfiguration.electionGraceMilliseconds = 0 }
        self.keeper = LeaseKeeper(configuration: keeperConfiguration)
        self.members = MemberDirectory.members(initial: options.initialMembers, registry: registry)
        self.snapshotBytes = persisted.snapshot.data.count
        if followerCountsLeases { keeper.becomeLeader(state: registry, nowMilliseconds: environment.nowMilliseconds) }
    }

    var now: UInt64 { environment.nowMilliseconds }

    /// Where the node stands, for status endpoints and response headers.
    public var status: NodeStatus {
        NodeStatus(
            raft: raft.status, revision: registry.revision, compactedRevision: registry.compactedRevision,
            leaderContactAgeMilliseconds: leaderContactAge, members: members, pendingRequests: openRequests.count)
    }

    var leaderContactAge: UInt64? {
        if raft.role == .leader { return 0 }
        return lastLeaderContactMilliseconds.map { now >= $0 ? now - $0 : 0 }
    }

    /// The cluster's members as the directory records them; `NodeEffects.members` reports changes.
    public var memberDirectory: [Member] { members }

    // MARK: - Inputs

    /// Advances time by one tick; the leader also proposes due lease expiries and checkpoints, and promotes a
    /// member added as a voter once it has caught up.
    public mutating func tick() {
        raft.tick()
        proposeDueLeaseCommands()
        promoteCaughtUpLearners()
    }

    /// On the leader, proposes the lease expiries and checkpoints due now. The shell calls it on every
    /// tick and also at `nextLeaseExpiryMilliseconds`, so expiry does not wait for a tick.
    public mutating func proposeDueLeaseCommands() {
        guard raft.role == .leader else {
            if followerCountsLeases { forwardFollowerExpiries() }
            return
        }
        // Not before the entries of earlier terms have applied: a former leader's checkpoint among them may
        // still extend a deadline (`LeaseKeeper.adoptPredecessorCheckpoints`).
        guard raft.appliedIndex >= leaderFirstIndex else { return }
        for command in keeper.commandsDue(nowMilliseconds: now) {
            if case .refused(let refusal) = raft.propose(command.encoded()) {
                environment.log(.warning, "lease command not proposed: \(refusal)")
            }
        }
    }

    /// When the leader next has a lease expiry to propose (see `LeaseKeeper.nextExpiryMilliseconds`).
    public var nextLeaseExpiryMilliseconds: UInt64? {
        raft.role == .leader && raft.appliedIndex >= leaderFirstIndex ? keeper.nextExpiryMilliseconds : nil
    }

    public mutating func receive(_ message: Message) {
        raft.step(message)
        if message.from == raft.leader { lastLeaderContactMilliseconds = now }
    }

    /// The shell lost its connection to `peer`; if it led us, campaign soon (see
    /// `RaftNode.suspectLeaderFailure`).
    public mutating func peerDisconnected(_ peer: NodeID) {
        raft.suspectLeaderFailure(peer)
    }

    /// The shell connected to `peer`; a leader heartbeats it at once (see `RaftNode.peerConnected`).
    public mutating func peerConnected(_ peer: NodeID) {
        raft.peerConnected(peer)
    }

    /// Forgets a request the shell gave up on (timeout or closed connection); no answer follows.
    public mutating func cancel(_ request: RequestID) {
        guard openRequests.remove(request) != nil else { return }
        writesAwaitingApply = writesAwaitingApply.filter { $0.value.request != request }
        writesAwaitingLeader = writesAwaitingLeader.filter { $0.value.request != request }
        keepAlivesAwaitingLeader = keepAlivesAwaitingLeader.filter { $0.value.request != request }
        for (internalID, reads) in readsAwaitingIndex where reads.contains(where: { $0.request == request }) {
            readsAwaitingIndex[internalID] = reads.filter { $0.request != request }
        }
        readsForNextReadIndex.removeAll { $0.request == request }
        readsAwaitingApply.removeAll { $0.request == request }
        adminAwaitingApply = adminAwaitingApply.filter { $0.value.request != request }
        registrationCancelled(request)
        adminAwaitingLeader = adminAwaitingLeader.filter { $0.value.request != request }
        for (lease, waiters) in keepAlivesAwaitingCheckpoint {
            keepAlivesAwaitingCheckpoint[lease] = waiters.filter {
                if case .local(let waiting) = $0.reply { waiting != request } else { true }
            }
        }
    }

    /// Leaves gracefully: a leader hands leadership to the most up-to-date voter first (the shell's
    /// next `processReady()` sends the hand-off).
    /// - Returns: the voter leadership is being handed to, if any.
    @discardableResult
    public mutating func prepareShutdown() -> NodeID? {
        guard let target = raft.mostUpToDateVoter else { return nil }
        if case .started = raft.transferLeadership(to: target) { return target }
        return nil
    }

    /// Answers a request, once; the answer to a step of a registration with a lease starts the next
    /// step instead, under the same request.
    mutating func answer(_ request: RequestID, _ response: NodeResponse) {
        guard openRequests.contains(request) else { return }
        if continueRegistration(request, after: response) { return }
        openRequests.remove(request)
        effects.responses.append((request, response))
    }

    mutating func send(_ forward: ForwardMessage, to peer: NodeID) {
        switch forward {
        case .proposed(_, .accepted(let index, _)), .proposed(_, .grantAccepted(let index, _)):
            newestForwardedIndex = max(newestForwardedIndex, index)
        default:
            break
        }
        effects.forwards.append((forward, peer))
    }

    /// A start in [1, 2^62], away from `RaftNode.localReadFenceRequestID` (at or above 2^63) and from wrapping. Mixed
    /// with a constant so it is not the first value of the Raft node's own generator, which has the same seed.
    static func firstInternalID(randomSeed: UInt64) -> UInt64 {
        var generator = SplitMix64(seed: randomSeed ^ 0x5EED_1D5A_0000_0001)
        return (generator.next() >> 2) + 1
    }

    mutating func makeInternalID() -> UInt64 {
        defer { nextInternalID += 1 }
        return nextInternalID
    }
}

/// A node's status as reported to operators and in response headers.
public struct NodeStatus: Equatable, Sendable {
    public var raft: RaftStatus
    public var revision: Revision
    public var compactedRevision: Revision
    public var leaderContactAgeMilliseconds: UInt64?
    public var members: [Member]
    public var pendingRequests: Int
}
