import Containers

/// The leader's side of leases: live deadlines, keepalives, and the `expireLeases` and `checkpointLeases`
/// commands it proposes. Pure: every method takes the caller's monotonic clock reading.
///
/// ## Lease semantics
/// 1. **Replicated state** is only a lease's granted TTL, its last checkpointed remaining TTL and its keys
///    (`Lease`). Deadlines exist only here, on the current leader, in its own monotonic clock, so no
///    two clocks are ever compared.
/// 2. **TTL is a lower bound.** A lease granted or renewed at leader time `t` is not expired by that
///    leader before `t + TTL`. Keys go away only when an `expireLeases` (or `revokeLease`) command
///    commits and applies, so actual removal happens at some time after the deadline (commit latency,
///    rate limit), never before.
/// 3. **Keepalives are not log entries.** `keepAlive` moves the deadline to `now + granted TTL` in memory;
///    followers forward keepalives to the leader. A keepalive fails with `.leaseNotFound` once the
///    deadline has passed (the expiry is already due), like etcd's "lease expired".
/// 4. **Elapse and checkpoints** carry remaining TTLs through the log so that a new leader resumes the
///    countdown. Invariant: for every lease, the replicated remaining TTL overstates the live one by at most
///    `checkpointLagMilliseconds` (plus the commit latency of an entry and one tick):
///    - every `checkpointLagMilliseconds` the leader proposes one `elapseLeases` with the time that passed on
///      its clock since the previous one, which counts every replicated remaining TTL down at once: one
///      small entry a second whatever the number of leases, so silent (dead) holders cost no entries of
///      their own (a checkpoint per silent lease per second, before, grew with the leases until 100,000 of
///      them saturated the leader). A lease granted or checkpointed between two elapses is counted down by
///      the whole of the next one, so its replicated TTL may understate the live one by up to the lag; the
///      election grace, at least twice the lag (`LeaseKeeperConfiguration`), covers that at a leader change;
///    - a keepalive of a lease whose replicated remaining is below its full TTL queues a checkpoint
///      restoring it (emitted by the next `commandsDue`), etcd's checkpoint-on-renew, and answers
///      `.renewedAfterCheckpoint`: the node acknowledges that keepalive once the checkpoint commits, so
///      that a leader crash in between cannot restore the lease short. So does a keepalive while an
///      `elapseLeases` this leader proposed has not applied: it counts down time from before the renewal, and
///      while commits stall several queue up (the whole-node simulator, seed 1797800000000028415: four of a
///      second each applied after a renewal the replicated TTL had looked full for, the next leader resumed
///      the lease with 500 ms and expired it 425 ms before renewal + TTL).
/// 5. **Leader change.** `becomeLeader` sets every deadline to `now + replicated remaining +
///    electionGraceMilliseconds`. The grace (default: two election timeouts, one to notice the old
///    leader's silence and one to elect) covers the time with no leader, during which no client could
///    renew; so no lease expires *because* of the election, and none is reset to its full TTL either: a
///    silent holder's lease keeps counting down from its last checkpoint. Exact bound: a lease whose last
///    acknowledged keepalive (or grant) was at old-leader time `k` and which had `r` left when that leader
///    stopped serving is expired no earlier than `k + TTL` and no later than
///    `r + leaderless time + grace + checkpoint lag + commit latency` after the old leader stopped (etcd's
///    default gains a full TTL per election, so leader churn can keep dead instances registered forever).
///    Leases granted in entries applied after the change are tracked through `observe` with `now + TTL`.
/// 6. **Bounds.** TTLs are granted within `RegistryLimits.minimumTTLMilliseconds` (default
///    ceil(1.5 × election timeout), 2 s at a 1 s election timeout, etcd's rule) and
///    `maximumTTLMilliseconds` (9e9 s, etcd's `MaxLeaseTTL`).
/// 7. **Rate limit.** `commandsDue` proposes at most `expiriesPerSecond` expiries per second (token bucket,
///    burst one second; default 1,000/s like etcd's `leaseRevokeRate`), in commands of at most
///    `leasesPerCommand` IDs, so a mass expiry (a zone lost at once) becomes a steady trickle of small
///    entries instead of stalling the log. An expiry proposal that does not apply (dropped on a leader
///    change) is proposed again after `expiryRetryMilliseconds`.
public struct LeaseKeeper: Sendable {
    /// Grace, checkpoint interval and rate limit.
    public let configuration: LeaseKeeperConfiguration
    /// Whether the keeper tracks deadlines (between `becomeLeader` and `stepDown`).
    public private(set) var isLeader = false

    private struct Tracked: Sendable {
        var grantedMilliseconds: Int64
        var deadline: UInt64
        var replicatedRemainingMilliseconds: Int64
        var expiryProposedAt: UInt64?
        /// `elapsedMilliseconds` when `replicatedRemainingMilliseconds` was last set: every `elapseLeases`
        /// applied since has counted the replicated value down by its time (see `replicatedRemaining`).
        var replicatedAtElapsed: UInt64
        /// Checkpoints of this lease proposed and not yet applied. One of them may carry a remaining TTL
        /// measured before a renewal, so until they apply a renewal is not crash-proof on its own.
        var checkpointsInFlight = 0
    }

    private var tracked: [LeaseID: Tracked] = [:]
    private var deadlines = DeadlineHeap()
    private var renewed: Set<LeaseID> = []
    /// `elapseLeases` this leader emitted that have not applied yet (see the semantics, point 4). An emitted one
    /// Raft refused never applies: keepalives then all wait for a checkpoint until this node steps down, which
    /// costs entries, never safety.
    private var elapsesInFlight = 0
    /// The time of every `elapseLeases` applied while leader, summed, so that applying one costs O(1) here.
    private var elapsedMilliseconds: UInt64 = 0
    /// When this leader's replicated countdown was last advanced: the next `elapseLeases` carries the time since.
    private var lastElapseMilliseconds: UInt64 = 0
    /// Expiry tokens in thousandths, refilled continuously.
    private var tokenMillis: Int = 0
    private var lastRefillMilliseconds: UInt64 = 0

    /// A keeper that tracks nothing until `becomeLeader`.
    public init(configuration: LeaseKeeperConfiguration) {
        precondition(configuration.leasesPerCommand >= 1 && configuration.expiriesPerSecond >= 1, "\(configuration)")
        precondition(configuration.checkpointLagMilliseconds >= 1, "\(configuration)")
        self.configuration = configuration
    }

    /// Starts tracking every replicated lease with deadline `now + remaining + grace`.
    /// Call after applying every committed entry, when this node becomes leader.
    public mutating func becomeLeader(state: RegistryState, nowMilliseconds now: UInt64) {
        becomeLeader(leases: state.leases(), nowMilliseconds: now)
    }

    /// As `becomeLeader(state:nowMilliseconds:)`, from a lease list.
    public mutating func becomeLeader(leases: [LeaseStatus], nowMilliseconds now: UInt64) {
        stepDown()
        isLeader = true
        for lease in leases {
            let remaining = UInt64(max(lease.remainingTTLMilliseconds, 0))
            track(
                lease.id, granted: lease.grantedTTLMilliseconds,
                deadline: now &+ remaining &+ configuration.electionGraceMilliseconds,
                replicated: lease.remainingTTLMilliseconds)
        }
        tokenMillis = configuration.expiriesPerSecond * 1_000
        lastRefillMilliseconds = now
        lastElapseMilliseconds = now
    }

    /// Forgets every deadline: only the current leader may expire leases.
    public mutating func stepDown() {
        isLeader = false
        tracked = [:]
        deadlines = DeadlineHeap()
        renewed = []
        elapsedMilliseconds = 0
        elapsesInFlight = 0
    }

    /// Keeps the tracker in step with applied commands: starts the countdown of granted leases, drops
    /// ended ones, notes checkpoints. Call for every applied command while leader.
    public mutating func observe(_ command: RegistryCommand, result: CommandResult, nowMilliseconds now: UInt64) {
        guard isLeader, case .applied(let applied) = result else { return }
        switch (command.payload, applied.response) {  // a client's revoke may carry its auth check
        case (_, .leaseGranted(let id, let ttl)):
            track(id, granted: ttl, deadline: now &+ UInt64(ttl), replicated: ttl)
        case (.revokeLease(let id), _):
            forget(id)
        case (.expireLeases(let ids), _):
            for id in ids { forget(id) }
        case (.checkpointLeases(let checkpoints), _):
            for checkpoint in checkpoints {
                guard var lease = tracked[checkpoint.id] else { continue }
                lease.checkpointsInFlight = max(lease.checkpointsInFlight - 1, 0)
                lease.replicatedRemainingMilliseconds = min(max(checkpoint.remainingMilliseconds, 0), lease.grantedMilliseconds)
                lease.replicatedAtElapsed = elapsedMilliseconds
                tracked[checkpoint.id] = lease
            }
        case (.elapseLeases(let milliseconds), _):
            elapsedMilliseconds &+= milliseconds
            // A predecessor's, applied before this leader emits any (it proposes none until then), finds none.
            elapsesInFlight = max(elapsesInFlight - 1, 0)
        default:
            break
        }
    }

    /// Raises deadlines for checkpoints a former leader committed that this leader applies only after
    /// taking over (it took over from its applied state, which lacked them).
    ///
    /// A checkpoint records the live remaining TTL when it was written, no later than now, so every
    /// keepalive acknowledged before it is honoured by `now + remaining`; the grace is added as
    /// `becomeLeader` adds it. Deadlines only move later, so no floor set on taking over is lost.
    public mutating func adoptPredecessorCheckpoints(_ checkpoints: [LeaseCheckpoint], nowMilliseconds now: UInt64) {
        guard isLeader else { return }
        for checkpoint in checkpoints {
            guard var lease = tracked[checkpoint.id] else { continue }
            let deadline = now &+ UInt64(max(checkpoint.remainingMilliseconds, 0)) &+ configuration.electionGraceMilliseconds
            guard deadline > lease.deadline else { continue }
            lease.deadline = deadline
            lease.expiryProposedAt = nil
            tracked[checkpoint.id] = lease
            deadlines.push(DeadlineEntry(deadline: deadline, id: checkpoint.id))
        }
    }

    /// Renews a lease: its deadline becomes `now + granted TTL`.
    /// - Returns: `.renewed` with the granted TTL; `.renewedAfterCheckpoint` when the replicated remaining
    ///   TTL is short, or a checkpoint proposed before this renewal (which would shorten it) has not applied
    ///   yet, so the renewal is crash-proof only once the checkpoint that the next `commandsDue` proposes
    ///   has committed (found by the whole-node simulator: an acknowledged renewal undone by an older
    ///   checkpoint committing after it, then a leader crash); `.leaseNotFound` if unknown or already past its deadline; or
    ///   `.notLeader` (forward to the leader).
    public mutating func keepAlive(_ id: LeaseID, nowMilliseconds now: UInt64) -> KeepAliveOutcome {
        guard isLeader else { return .notLeader }
        guard var lease = tracked[id], now <= lease.deadline else { return .leaseNotFound(id) }
        lease.deadline = now &+ UInt64(lease.grantedMilliseconds)
        lease.expiryProposedAt = nil
        tracked[id] = lease
        deadlines.push(DeadlineEntry(deadline: lease.deadline, id: id))
        if replicatedRemaining(lease) < lease.grantedMilliseconds || lease.checkpointsInFlight > 0 || elapsesInFlight > 0 {
            renewed.insert(id)
            return .renewedAfterCheckpoint(ttlMilliseconds: lease.grantedMilliseconds)
        }
        return .renewed(ttlMilliseconds: lease.grantedMilliseconds)
    }

    /// The live remaining TTL on this leader, or nil if the lease is not tracked.
    public func remainingMilliseconds(_ id: LeaseID, nowMilliseconds now: UInt64) -> Int64? {
        guard let lease = tracked[id] else { return nil }
        return lease.deadline > now ? Int64(lease.deadline - now) : 0
    }

    /// Number of leases tracked.
    public var trackedCount: Int { tracked.count }

    /// The earliest time at which `commandsDue` may have an expiry to propose, or nil when there is
    /// nothing to expire (or this node is not the leader).
    ///
    /// The shell wakes at this time instead of waiting for the next tick, so a lease ends within a
    /// commit latency of its deadline rather than up to a whole tick later. It can be early (the
    /// earliest deadline was renewed since; the wake-up then just drops the stale entry), never late,
    /// and never in the past while the rate limit has no token, so waking at it cannot spin.
    public var nextExpiryMilliseconds: UInt64? {
        guard isLeader, let earliest = deadlines.minimum?.deadline else { return nil }
        // Due only after its deadline millisecond (see `dueExpiries`).
        guard tokenMillis < 1_000 else { return earliest &+ 1 }
        let perMillisecond = configuration.expiriesPerSecond
        let wait = UInt64((1_000 - tokenMillis + perMillisecond - 1) / perMillisecond)
        return max(earliest &+ 1, lastRefillMilliseconds &+ wait)
    }

    /// The commands to propose now: rate-limited `expireLeases` batches for leases past their deadline
    /// (earliest deadline first), an `elapseLeases` once `checkpointLagMilliseconds` have passed since the
    /// last one, then `checkpointLeases` batches for renewals (after the elapse, which counts only time
    /// before them). Empty unless leader. Call on every tick.
    public mutating func commandsDue(nowMilliseconds now: UInt64) -> [RegistryCommand] {
        guard isLeader else { return [] }
        refill(now)
        var commands: [RegistryCommand] = []
        let due = dueExpiries(now)
        for start in stride(from: 0, to: due.count, by: configuration.leasesPerCommand) {
            commands.append(.expireLeases(Array(due[start..<min(start + configuration.leasesPerCommand, due.count)])))
        }
        if tracked.isEmpty {
            lastElapseMilliseconds = now  // no lease to count down: the next one starts from here
        } else if now >= lastElapseMilliseconds &+ configuration.checkpointLagMilliseconds {
            commands.append(.elapseLeases(milliseconds: now - lastElapseMilliseconds))
            lastElapseMilliseconds = now
            elapsesInFlight += 1
        }
        let checkpoints = dueCheckpoints(now)
        for start in stride(from: 0, to: checkpoints.count, by: configuration.leasesPerCommand) {
            let end = min(start + configuration.leasesPerCommand, checkpoints.count)
            commands.append(.checkpointLeases(Array(checkpoints[start..<end])))
        }
        return commands
    }

    // MARK: - Internals

    private mutating func track(_ id: LeaseID, granted: Int64, deadline: UInt64, replicated: Int64) {
        tracked[id] = Tracked(
            grantedMilliseconds: granted, deadline: deadline, replicatedRemainingMilliseconds: replicated,
            expiryProposedAt: nil, replicatedAtElapsed: elapsedMilliseconds)
        deadlines.push(DeadlineEntry(deadline: deadline, id: id))
    }

    /// The lease's remaining TTL as every replica holds it now: its last checkpoint (or grant, or the value it
    /// had when this node took over) counted down by the `elapseLeases` applied since.
    private func replicatedRemaining(_ lease: Tracked) -> Int64 {
        let elapsed = Int64(clamping: elapsedMilliseconds &- lease.replicatedAtElapsed)
        return max(lease.replicatedRemainingMilliseconds - elapsed, 0)
    }

    private mutating func forget(_ id: LeaseID) {
        tracked[id] = nil
        renewed.remove(id)
    }

    private mutating func refill(_ now: UInt64) {
        guard now > lastRefillMilliseconds else { return }
        let elapsed = min(now - lastRefillMilliseconds, 1_000)
        let capacity = configuration.expiriesPerSecond * 1_000
        tokenMillis = min(capacity, tokenMillis + Int(elapsed) * configuration.expiriesPerSecond)
        lastRefillMilliseconds = now
    }

    /// Pops due deadlines while tokens last; stale heap entries (renewed, ended, already proposed) are
    /// skipped. Proposed leases get a retry entry.
    ///
    /// A lease is alive through its deadline's millisecond and due only once `now` is past it. Why: the shell's
    /// clock counts whole milliseconds, truncated, so a renewal at true time t reads as some `now` up to a
    /// millisecond before t; due at `now >= deadline`, a lease could end up to a millisecond before t + TTL in
    /// real time. The chaos suite's checker found one 0.15 ms early (2026-12-06, a 5-member soak: the keepalive
    /// reached the leader within a millisecond of being sent, and the expiry applied at once).
    private mutating func dueExpiries(_ now: UInt64) -> [LeaseID] {
        var due: [LeaseID] = []
        while tokenMillis >= 1_000, let top = deadlines.minimum, top.deadline < now {
            deadlines.popMinimum()
            guard var lease = tracked[top.id], lease.deadline < now else { continue }
            if let proposed = lease.expiryProposedAt, now < proposed &+ configuration.expiryRetryMilliseconds {
                continue
            }
            lease.expiryProposedAt = now
            tracked[top.id] = lease
            deadlines.push(DeadlineEntry(deadline: now &+ configuration.expiryRetryMilliseconds, id: top.id))
            due.append(top.id)
            tokenMillis -= 1_000
        }
        return due
    }

    /// Checkpoints of the leases renewed since the last call (checkpoint-on-renew). A lost proposal is not
    /// retried: the renewal it covers is acknowledged only once a checkpoint applies, so the holder's next
    /// keepalive asks again.
    private mutating func dueCheckpoints(_ now: UInt64) -> [LeaseCheckpoint] {
        let ids = renewed
        renewed = []
        // Sorted: the proposal order must not depend on hash order.
        return ids.sorted().compactMap { id in
            guard var lease = tracked[id] else { return nil }
            lease.checkpointsInFlight += 1
            tracked[id] = lease
            let remaining = lease.deadline > now ? Int64(lease.deadline - now) : 0
            return LeaseCheckpoint(id: id, remainingMilliseconds: min(remaining, lease.grantedMilliseconds))
        }
    }
}

/// Tuning of the `LeaseKeeper`.
public struct LeaseKeeperConfiguration: Equatable, Sendable {
    /// Added to every remaining TTL when a node becomes leader: covers the leaderless time.
    public var electionGraceMilliseconds: UInt64
    /// How often the leader proposes `elapseLeases`: the most a lease's replicated remaining TTL overstates
    /// its live one, so what a lease can gain, besides the grace, when leadership changes. At most half the
    /// grace, which must also cover a lease's first elapse counting time from before it was granted.
    public var checkpointLagMilliseconds: UInt64
    /// Most lease expiries proposed per second (burst: one second's worth).
    public var expiriesPerSecond: Int = 1_000
    /// Most lease IDs per proposed command; keep at or below `RegistryLimits.leaseBatch`.
    public var leasesPerCommand: Int = 500
    /// Delay before an expiry proposal that did not apply is proposed again.
    public var expiryRetryMilliseconds: UInt64

    /// Defaults for an election timeout: grace and retry of two election timeouts.
    public init(electionTimeoutMilliseconds: UInt64) {
        electionGraceMilliseconds = 2 * electionTimeoutMilliseconds
        checkpointLagMilliseconds = min(1_000, electionTimeoutMilliseconds)
        expiryRetryMilliseconds = 2 * electionTimeoutMilliseconds
    }
}

/// The answer to a keepalive.
public enum KeepAliveOutcome: Equatable, Sendable {
    /// Renewed for this TTL; acknowledge now.
    case renewed(ttlMilliseconds: Int64)
    /// Renewed for this TTL; acknowledge once the next `checkpointLeases` from `commandsDue` commits,
    /// because until then a new leader would restore the older, shorter remaining TTL.
    case renewedAfterCheckpoint(ttlMilliseconds: Int64)
    /// Unknown, ended, or past its deadline.
    case leaseNotFound(LeaseID)
    /// This node is not the leader; forward the keepalive.
    case notLeader
}

/// When one lease is due (to expire, or for a checkpoint), ordered by time and then by lease ID.
struct DeadlineEntry: Comparable, Sendable {
    var deadline: UInt64
    var id: LeaseID

    static func < (lhs: DeadlineEntry, rhs: DeadlineEntry) -> Bool {
        (lhs.deadline, lhs.id.rawValue) < (rhs.deadline, rhs.id.rawValue)
    }
}

/// Deadlines with lazy deletion: renewals push a new entry and stale ones are skipped when they surface, which
/// keeps keepalive O(log n) without an index into the heap.
typealias DeadlineHeap = MinHeap<DeadlineEntry>
