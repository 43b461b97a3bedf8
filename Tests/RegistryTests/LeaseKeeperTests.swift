// Goal: the leader-side lease semantics: TTL is a lower bound; keepalives move deadlines without log
// entries; expiry is proposed only past the deadline and rate-limited; checkpoints carry remaining time
// so that a leader change neither expires a lease early nor resets it to its full TTL. Method: a fake
// monotonic clock in milliseconds, a replicated state and a keeper driven step by step the way the node
// drives them: propose what `commandsDue` returns, apply it, `observe` it.
import Registry
import Testing

@Suite("Lease keeper")
struct LeaseKeeperTests {
    /// A leader: state, keeper and the commit loop that applies what the keeper proposes.
    struct Leader {
        var harness = Harness()
        var keeper = LeaseKeeper(configuration: LeaseKeeperConfiguration(electionTimeoutMilliseconds: 1_000))

        init(now: UInt64) { keeper.becomeLeader(state: harness.state, nowMilliseconds: now) }

        mutating func commit(_ command: RegistryCommand, now: UInt64) {
            let result = harness.apply(command)
            keeper.observe(command, result: result, nowMilliseconds: now)
        }

        /// Proposes and commits everything due; returns what was proposed, without the `elapseLeases` that
        /// count every lease down once a lag (see `withoutElapse`).
        @discardableResult
        mutating func tick(_ now: UInt64) -> [RegistryCommand] {
            let due = keeper.commandsDue(nowMilliseconds: now)
            for command in due { commit(command, now: now) }
            return LeaseKeeperTests.withoutElapse(due)
        }
    }

    /// The commands other than `elapseLeases`, which a leader proposes once a lag while it tracks leases.
    static func withoutElapse(_ commands: [RegistryCommand]) -> [RegistryCommand] {
        commands.filter { if case .elapseLeases = $0 { false } else { true } }
    }

    @Test("a lease is not expired before its TTL, nor in its last millisecond, and is expired once past it")
    func lowerBound() {
        var leader = Leader(now: 0)
        leader.commit(.grantLease(id: 1, ttlMilliseconds: 10_000, grantedAtMilliseconds: 0), now: 0)
        // Through 10,000: the clock truncates, so a reading of 10,000 may be up to a millisecond before the true TTL.
        for now in stride(from: UInt64(0), through: 10_000, by: 500) {
            leader.tick(now)
            #expect(leader.harness.state.lease(1) != nil, "expired early at \(now)")
        }
        #expect(leader.tick(10_001).contains(.expireLeases([1])))
        #expect(leader.harness.state.lease(1) == nil)
    }

    @Test("a keepalive of a lease whose replicated TTL is still full moves the deadline to now + TTL with no entry of its own")
    func keepAlive() {
        var leader = Leader(now: 0)
        leader.commit(.grantLease(id: 1, ttlMilliseconds: 6_000, grantedAtMilliseconds: 0), now: 0)
        #expect(leader.keeper.keepAlive(1, nowMilliseconds: 5_000) == .renewed(ttlMilliseconds: 6_000))
        #expect(leader.tick(5_000).isEmpty)
        #expect(leader.keeper.remainingMilliseconds(1, nowMilliseconds: 10_000) == 1_000)
        #expect(!leader.tick(11_000).contains(.expireLeases([1])))
        #expect(leader.tick(11_001) == [.expireLeases([1])])
    }

    @Test("a keepalive of an unknown or overdue lease fails; a follower forwards")
    func keepAliveFailures() {
        var leader = Leader(now: 0)
        #expect(leader.keeper.keepAlive(3, nowMilliseconds: 0) == .leaseNotFound(3))
        leader.commit(.grantLease(id: 1, ttlMilliseconds: 2_000, grantedAtMilliseconds: 0), now: 0)
        #expect(leader.keeper.keepAlive(1, nowMilliseconds: 2_001) == .leaseNotFound(1))
        var follower = LeaseKeeper(configuration: LeaseKeeperConfiguration(electionTimeoutMilliseconds: 1_000))
        #expect(follower.keepAlive(1, nowMilliseconds: 0) == .notLeader)
        #expect(follower.commandsDue(nowMilliseconds: 1_000_000).isEmpty)
    }

    @Test("a new leader restores the checkpointed remaining TTL plus the election grace")
    func leaderChangeRestoresRemaining() {
        var leader = Leader(now: 0)
        leader.commit(.grantLease(id: 1, ttlMilliseconds: 20_000, grantedAtMilliseconds: 0), now: 0)
        // Silent holder: by 15 s the periodic checkpoint has written its remaining time down to 5 s.
        for now in stride(from: UInt64(0), through: 15_000, by: 1_000) { leader.tick(now) }
        let checkpointed = leader.harness.state.lease(1)?.remainingTTLMilliseconds ?? -1
        #expect(checkpointed == 5_000)
        // The leader dies; a node whose clock reads something unrelated takes over.
        var successor = LeaseKeeper(configuration: LeaseKeeperConfiguration(electionTimeoutMilliseconds: 1_000))
        successor.becomeLeader(state: leader.harness.state, nowMilliseconds: 900_000)
        // Not reset to the full 20 s, not expired during the election: remaining + 2 s grace.
        #expect(successor.remainingMilliseconds(1, nowMilliseconds: 900_000) == 7_000)
        #expect(!successor.commandsDue(nowMilliseconds: 907_000).contains(.expireLeases([1])))
        #expect(successor.commandsDue(nowMilliseconds: 907_001) == [.expireLeases([1])])
    }

    @Test("a silent lease costs no entry of its own: one elapse a lag counts every lease down")
    func silentLeasesShareOneElapse() {
        var leader = Leader(now: 0)
        for id in 1...1_000 {
            leader.commit(.grantLease(id: LeaseID(UInt64(id)), ttlMilliseconds: 60_000, grantedAtMilliseconds: 0), now: 0)
        }
        var proposed: [RegistryCommand] = []
        for now in stride(from: UInt64(0), through: 10_000, by: 100) {
            let due = leader.keeper.commandsDue(nowMilliseconds: now)
            for command in due { leader.commit(command, now: now) }
            proposed += due
        }
        #expect(proposed == Array(repeating: .elapseLeases(milliseconds: 1_000), count: 10))
        #expect(leader.harness.state.lease(1)?.remainingTTLMilliseconds == 50_000)
        #expect(leader.harness.state.lease(1_000)?.remainingTTLMilliseconds == 50_000)
    }

    @Test("a lease renewed often is checkpointed back to full by its renewals, at most once per elapse")
    func liveLeaseRestored() {
        var leader = Leader(now: 0)
        leader.commit(.grantLease(id: 1, ttlMilliseconds: 9_000, grantedAtMilliseconds: 0), now: 0)
        var checkpoints = 0
        for now in stride(from: UInt64(0), through: 60_000, by: 250) {
            if now % 500 == 0 { _ = leader.keeper.keepAlive(1, nowMilliseconds: now) }
            for command in leader.tick(now) {
                #expect(command == .checkpointLeases([LeaseCheckpoint(id: 1, remainingMilliseconds: 9_000)]))
                checkpoints += 1
            }
        }
        #expect(checkpoints <= 61)
        // Within one lag of full: a renewal acknowledged at once (its replicated TTL was full) is counted down
        // by the next elapse like every lease; the election grace covers that much at a leader change.
        #expect((leader.harness.state.lease(1)?.remainingTTLMilliseconds ?? 0) >= 9_000 - 1_000)
    }

    @Test("a lease renewed less often than the lag is checkpointed one lag behind, and each renewal restores it")
    func sparseRenewalsCheckpointed() {
        var leader = Leader(now: 0)
        leader.commit(.grantLease(id: 1, ttlMilliseconds: 9_000, grantedAtMilliseconds: 0), now: 0)
        for now in stride(from: UInt64(0), through: 30_000, by: 100) {
            if now % 3_000 == 0 && now > 0 {
                #expect(leader.keeper.keepAlive(1, nowMilliseconds: now) == .renewedAfterCheckpoint(ttlMilliseconds: 9_000))
            }
            leader.tick(now)
            let live = leader.keeper.remainingMilliseconds(1, nowMilliseconds: now) ?? 0
            let replicated = leader.harness.state.lease(1)?.remainingTTLMilliseconds ?? 0
            #expect(replicated >= live, "the replicated remaining never understates the live one at \(now)")
            #expect(replicated - live <= 1_000, "and overstates it by at most the lag at \(now)")
        }
    }

    @Test("the issue-13 case: keepalives stop, the leader dies 1.5 s into a 3 s TTL; the successor expires the lease within remaining + grace + lag", arguments: [UInt64(500), 1_500, 2_500])
    func leaderDiesBeforeAnyHalfTTL(deathAfter: UInt64) {
        var leader = Leader(now: 0)
        leader.commit(.grantLease(id: 1, ttlMilliseconds: 3_000, grantedAtMilliseconds: 0), now: 0)
        for now in stride(from: UInt64(0), through: deathAfter, by: 100) { leader.tick(now) }
        var successor = LeaseKeeper(configuration: LeaseKeeperConfiguration(electionTimeoutMilliseconds: 1_000))
        let electedAt = deathAfter + 1_000  // global time; the successor's clock is offset by 50 s
        successor.becomeLeader(state: leader.harness.state, nowMilliseconds: 50_000 + electedAt)
        let remaining = 3_000 - deathAfter
        let grace = successor.configuration.electionGraceMilliseconds
        let lag = successor.configuration.checkpointLagMilliseconds
        var expiredAt: UInt64?
        for time in stride(from: electedAt, through: 20_000, by: 100) where expiredAt == nil {
            if successor.commandsDue(nowMilliseconds: 50_000 + time).contains(.expireLeases([1])) { expiredAt = time }
        }
        guard let expired = expiredAt else {
            Issue.record("the successor never expired the lease")
            return
        }
        #expect(expired >= 3_000, "never before the TTL")
        #expect(expired <= deathAfter + remaining + 1_000 + grace + lag, "remaining + leaderless + grace + lag")
    }

    @Test("renewing a lease whose checkpoint is short checkpoints it back to full, so a leader change cannot shorten it")
    func renewalCheckpoint() {
        var leader = Leader(now: 0)
        leader.commit(.grantLease(id: 1, ttlMilliseconds: 12_000, grantedAtMilliseconds: 0), now: 0)
        for now in stride(from: UInt64(0), through: 10_000, by: 1_000) { leader.tick(now) }
        #expect(leader.harness.state.lease(1)?.remainingTTLMilliseconds == 2_000)
        #expect(leader.keeper.keepAlive(1, nowMilliseconds: 10_500) == .renewedAfterCheckpoint(ttlMilliseconds: 12_000))
        #expect(leader.tick(10_600) == [.checkpointLeases([LeaseCheckpoint(id: 1, remainingMilliseconds: 11_900)])])
        var successor = LeaseKeeper(configuration: LeaseKeeperConfiguration(electionTimeoutMilliseconds: 1_000))
        successor.becomeLeader(state: leader.harness.state, nowMilliseconds: 0)
        #expect((successor.remainingMilliseconds(1, nowMilliseconds: 0) ?? 0) >= 11_900)
    }

    @Test("a successor that takes over before applying that renewal checkpoint adopts it when it applies, and never moves a deadline earlier")
    func successorAdoptsLateCheckpoint() {
        var leader = Leader(now: 0)
        leader.commit(.grantLease(id: 1, ttlMilliseconds: 12_000, grantedAtMilliseconds: 0), now: 0)
        for now in stride(from: UInt64(0), through: 10_000, by: 1_000) { leader.tick(now) }
        let before = leader.harness.state
        #expect(leader.keeper.keepAlive(1, nowMilliseconds: 10_500) == .renewedAfterCheckpoint(ttlMilliseconds: 12_000))
        let checkpoint = LeaseCheckpoint(id: 1, remainingMilliseconds: 11_900)
        #expect(leader.tick(10_600) == [.checkpointLeases([checkpoint])])
        // Elected (by a transfer) at 10_700 from the state without the checkpoint: 2_000 left plus the grace.
        var successor = LeaseKeeper(configuration: LeaseKeeperConfiguration(electionTimeoutMilliseconds: 1_000))
        successor.becomeLeader(state: before, nowMilliseconds: 10_700)
        let grace = successor.configuration.electionGraceMilliseconds
        #expect(successor.remainingMilliseconds(1, nowMilliseconds: 10_700) == Int64(2_000 + grace))
        // It applies the checkpoint at 10_800: the renewal acknowledged at 10_500 holds until 22_500.
        successor.adoptPredecessorCheckpoints([checkpoint], nowMilliseconds: 10_800)
        #expect(successor.remainingMilliseconds(1, nowMilliseconds: 10_800) == Int64(11_900 + grace))
        #expect(!successor.commandsDue(nowMilliseconds: 22_499).contains(.expireLeases([1])))
        // An older checkpoint applied later never shortens it.
        successor.adoptPredecessorCheckpoints([LeaseCheckpoint(id: 1, remainingMilliseconds: 100)], nowMilliseconds: 10_900)
        #expect(successor.remainingMilliseconds(1, nowMilliseconds: 10_900) == Int64(11_800 + grace))
    }

    @Test("a renewal while an older checkpoint is in flight waits for a checkpoint measured after it")
    func renewalOverCheckpointInFlight() {
        var leader = Leader(now: 0)
        leader.commit(.grantLease(id: 1, ttlMilliseconds: 4_000, grantedAtMilliseconds: 0), now: 0)
        for now in stride(from: UInt64(0), through: 2_000, by: 1_000) { leader.tick(now) }
        // Counted down to 2 s, the renewal at 2.1 s is checkpointed; that checkpoint has not applied when the
        // next renewal arrives.
        #expect(leader.keeper.keepAlive(1, nowMilliseconds: 2_100) == .renewedAfterCheckpoint(ttlMilliseconds: 4_000))
        let stale = leader.keeper.commandsDue(nowMilliseconds: 2_200)
        #expect(stale == [.checkpointLeases([LeaseCheckpoint(id: 1, remainingMilliseconds: 3_900)])])
        #expect(leader.keeper.keepAlive(1, nowMilliseconds: 2_300) == .renewedAfterCheckpoint(ttlMilliseconds: 4_000))
        for command in stale { leader.commit(command, now: 2_350) }
        // The next proposal restores the second renewal's remaining TTL, so a new leader cannot resume at 3.9 s.
        #expect(leader.tick(2_400) == [.checkpointLeases([LeaseCheckpoint(id: 1, remainingMilliseconds: 3_900)])])
        #expect(leader.harness.state.lease(1)?.remainingTTLMilliseconds == 3_900)
    }

    @Test("a renewal while elapses are in flight waits for a checkpoint, so elapses of time before it cannot shorten it")
    func renewalOverElapsesInFlight() {
        var leader = Leader(now: 0)
        leader.commit(.grantLease(id: 1, ttlMilliseconds: 4_500, grantedAtMilliseconds: 0), now: 0)
        // Commits stall: three elapses of a second each are proposed and none applies yet, so the replicated TTL
        // still looks full when the renewal comes.
        var inFlight: [RegistryCommand] = []
        for now in [UInt64(1_000), 2_000, 3_000] { inFlight += leader.keeper.commandsDue(nowMilliseconds: now) }
        #expect(inFlight == [.elapseLeases(milliseconds: 1_000), .elapseLeases(milliseconds: 1_000), .elapseLeases(milliseconds: 1_000)])
        #expect(leader.keeper.keepAlive(1, nowMilliseconds: 3_000) == .renewedAfterCheckpoint(ttlMilliseconds: 4_500))
        for command in inFlight { leader.commit(command, now: 3_100) }
        #expect(leader.harness.state.lease(1)?.remainingTTLMilliseconds == 1_500, "the elapses applied after the renewal")
        // The checkpoint proposed after them restores the renewal's remaining TTL before the keepalive is acknowledged.
        #expect(leader.tick(3_200) == [.checkpointLeases([LeaseCheckpoint(id: 1, remainingMilliseconds: 4_300)])])
        #expect(leader.harness.state.lease(1)?.remainingTTLMilliseconds == 4_300)
    }

    @Test("expiry is rate-limited and batched, earliest deadline first")
    func rateLimit() throws {
        var configuration = LeaseKeeperConfiguration(electionTimeoutMilliseconds: 1_000)
        configuration.expiriesPerSecond = 10
        configuration.leasesPerCommand = 4
        var keeper = LeaseKeeper(configuration: configuration)
        var harness = Harness()
        keeper.becomeLeader(state: harness.state, nowMilliseconds: 0)
        for id in (1...25).reversed() {
            let command = RegistryCommand.grantLease(id: LeaseID(UInt64(id)), ttlMilliseconds: 2_000 + Int64(id), grantedAtMilliseconds: 0)
            keeper.observe(command, result: harness.apply(command), nowMilliseconds: 0)
        }
        let first = LeaseKeeperTests.withoutElapse(keeper.commandsDue(nowMilliseconds: 5_000))
        #expect(first == [.expireLeases([1, 2, 3, 4]), .expireLeases([5, 6, 7, 8]), .expireLeases([9, 10])])
        #expect(keeper.commandsDue(nowMilliseconds: 5_000).isEmpty, "bucket empty")
        let later = LeaseKeeperTests.withoutElapse(keeper.commandsDue(nowMilliseconds: 5_500))
        #expect(later == [.expireLeases([11, 12, 13, 14]), .expireLeases([15])])
    }

    @Test("waking only at the next expiry time expires each lease in the millisecond after its deadline")
    func nextExpiry() {
        var leader = Leader(now: 0)
        #expect(leader.keeper.nextExpiryMilliseconds == nil, "nothing to expire")
        leader.commit(.grantLease(id: 1, ttlMilliseconds: 3_000, grantedAtMilliseconds: 0), now: 0)
        leader.commit(.grantLease(id: 2, ttlMilliseconds: 5_000, grantedAtMilliseconds: 0), now: 40)
        #expect(leader.keeper.nextExpiryMilliseconds == 3_001)
        // Lease 2 is renewed at 4,000 (new deadline 9,000): its old heap entry, and lease 1's retry entry,
        // become stale. Wake-ups at stale entries may come early; they must find nothing to expire.
        var expiredAt: [LeaseID: UInt64] = [:]
        var wakeUps = 0
        var renewed = false
        while let next = leader.keeper.nextExpiryMilliseconds, wakeUps < 20 {
            if !renewed && next > 4_000 {
                _ = leader.keeper.keepAlive(2, nowMilliseconds: 4_000)
                renewed = true
                continue
            }
            wakeUps += 1
            for case .expireLeases(let ids) in leader.tick(next) {
                for id in ids { expiredAt[id] = next }
            }
        }
        #expect(expiredAt == [1: 3_001, 2: 9_001])
        #expect(wakeUps <= 5, "at most one wake-up per heap entry: 2 grants, 1 renewal, 2 expiry retries")
        #expect(leader.keeper.nextExpiryMilliseconds == nil)
        leader.commit(.grantLease(id: 3, ttlMilliseconds: 3_000, grantedAtMilliseconds: 0), now: 10_000)
        leader.keeper.stepDown()
        #expect(leader.keeper.nextExpiryMilliseconds == nil, "only the leader expires leases")
    }

    @Test("with the rate limit's bucket empty, the next expiry time waits for a token instead of spinning")
    func nextExpiryWaitsForToken() {
        var configuration = LeaseKeeperConfiguration(electionTimeoutMilliseconds: 1_000)
        configuration.expiriesPerSecond = 10
        var keeper = LeaseKeeper(configuration: configuration)
        var harness = Harness()
        keeper.becomeLeader(state: harness.state, nowMilliseconds: 0)
        for id in 1...12 {
            let command = RegistryCommand.grantLease(id: LeaseID(UInt64(id)), ttlMilliseconds: 2_000, grantedAtMilliseconds: 0)
            keeper.observe(command, result: harness.apply(command), nowMilliseconds: 0)
        }
        #expect(LeaseKeeperTests.withoutElapse(keeper.commandsDue(nowMilliseconds: 2_001)) == [.expireLeases(Array(1...10).map { LeaseID(UInt64($0)) })])
        let next = keeper.nextExpiryMilliseconds ?? 0
        #expect(next == 2_101, "one token per 100 ms")
        #expect(LeaseKeeperTests.withoutElapse(keeper.commandsDue(nowMilliseconds: next)) == [.expireLeases([11])])
    }

    @Test("an expiry proposal that never applied is proposed again after the retry delay")
    func retry() {
        var leader = Leader(now: 0)
        leader.commit(.grantLease(id: 1, ttlMilliseconds: 2_000, grantedAtMilliseconds: 0), now: 0)
        #expect(LeaseKeeperTests.withoutElapse(leader.keeper.commandsDue(nowMilliseconds: 2_001)) == [.expireLeases([1])])  // dropped
        #expect(LeaseKeeperTests.withoutElapse(leader.keeper.commandsDue(nowMilliseconds: 3_001)).isEmpty)
        #expect(LeaseKeeperTests.withoutElapse(leader.keeper.commandsDue(nowMilliseconds: 4_002)) == [.expireLeases([1])])
    }

    @Test("stepping down forgets every deadline")
    func stepDown() {
        var leader = Leader(now: 0)
        leader.commit(.grantLease(id: 1, ttlMilliseconds: 2_000, grantedAtMilliseconds: 0), now: 0)
        leader.keeper.stepDown()
        #expect(leader.keeper.trackedCount == 0)
        #expect(leader.keeper.commandsDue(nowMilliseconds: 100_000).isEmpty)
    }
}
