// Goal: under leader churn, no lease expires before TTL after its last renewal, leases that keep being
// renewed never expire, and silent leases still expire within a bound that does not grow by a full TTL
// per election. Method: a seeded simulation in global milliseconds. Each leader's monotonic clock has
// its own random offset (clocks never agree); leaders crash at random, followed by a leaderless gap no
// longer than the election grace during which keepalives fail; holders renew every TTL/3 while alive and
// go silent at random times. Every proposed command is applied at once (commit latency zero), so the
// only slack is what the lease rules allow.
import Registry
import Testing

@Suite("Lease churn")
struct LeaseChurnTests {
    struct Holder {
        var id: LeaseID
        var ttl: Int64
        var silentAt: UInt64?  // global time the holder stops renewing; nil: renews forever
        var lastRenewal: UInt64 = 0
        var nextRenewal: UInt64 = 0
        var expiredAt: UInt64?
        var leaderChangesSinceRenewal = 0
    }

    @Test("leader churn neither expires leases early nor keeps silent ones alive", arguments: [UInt64(11), 12, 13, 14, 15, 16])
    func churn(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let configuration = LeaseKeeperConfiguration(electionTimeoutMilliseconds: 1_000)
        let grace = configuration.electionGraceMilliseconds
        let lag = configuration.checkpointLagMilliseconds
        let tick: UInt64 = 100
        var harness = Harness()
        var keeper: LeaseKeeper? = LeaseKeeper(configuration: configuration)
        var offset = UInt64.random(in: 0..<1_000_000_000, using: &random)
        keeper?.becomeLeader(state: harness.state, nowMilliseconds: offset)
        var holders: [Holder] = []
        for number in 1...16 {
            let ttl = [3_000, 6_000, 9_000][Int.random(in: 0..<3, using: &random)] as Int64
            let silentAt: UInt64? = number % 4 == 0 ? nil : UInt64.random(in: 0..<40_000, using: &random)
            let command = RegistryCommand.grantLease(id: LeaseID(UInt64(number)), ttlMilliseconds: ttl, grantedAtMilliseconds: offset)
            keeper?.observe(command, result: harness.apply(command), nowMilliseconds: offset)
            holders.append(Holder(id: LeaseID(UInt64(number)), ttl: ttl, silentAt: silentAt, nextRenewal: UInt64(ttl / 3)))
        }
        var gapEnd: UInt64 = 0
        var leaderChanges = 0
        for time in stride(from: tick, through: UInt64(90_000), by: Int(tick)) {
            if keeper == nil && time >= gapEnd {
                offset = UInt64.random(in: 0..<1_000_000_000, using: &random)
                keeper = LeaseKeeper(configuration: configuration)
                keeper?.becomeLeader(state: harness.state, nowMilliseconds: time + offset)
            } else if keeper != nil && Int.random(in: 0..<120, using: &random) == 0 {
                keeper = nil  // the leader crashes; its deadlines are gone
                leaderChanges += 1
                gapEnd = time + UInt64.random(in: 1...(grace / tick), using: &random) * tick
                for position in holders.indices { holders[position].leaderChangesSinceRenewal += 1 }
                continue
            }
            guard var leader = keeper else { continue }
            let now = time + offset
            for position in holders.indices where holders[position].expiredAt == nil {
                let holder = holders[position]
                guard time >= holder.nextRenewal, holder.silentAt.map({ time < $0 }) ?? true else { continue }
                switch leader.keepAlive(holder.id, nowMilliseconds: now) {
                case .renewed, .renewedAfterCheckpoint:
                    holders[position].lastRenewal = time
                    holders[position].leaderChangesSinceRenewal = 0
                    holders[position].nextRenewal = time + UInt64(holder.ttl / 3)
                case .leaseNotFound, .notLeader:
                    break
                }
            }
            for command in leader.commandsDue(nowMilliseconds: now) {
                let result = harness.apply(command)
                leader.observe(command, result: result, nowMilliseconds: now)
                guard case .applied(let applied) = result, case .leasesExpired(let ids, _) = applied.response else { continue }
                for id in ids { holders[Int(id.rawValue) - 1].expiredAt = time }
            }
            keeper = leader
        }
        #expect(leaderChanges >= 3)
        #expect(holders.filter { $0.expiredAt != nil }.count >= 4)
        for holder in holders {
            if let expiredAt = holder.expiredAt {
                #expect(expiredAt >= holder.lastRenewal + UInt64(holder.ttl), "\(holder.id) expired early")
                #expect(holder.silentAt != nil, "\(holder.id) renewed on time but expired")
                // Per leader change: the leaderless gap (at most the grace), the grace, and the checkpoint lag
                // plus one tick of checkpoint granularity; never a fraction of the TTL.
                let slack = UInt64(holder.leaderChangesSinceRenewal) * (grace + grace + lag + tick) + 2 * tick
                #expect(expiredAt <= holder.lastRenewal + UInt64(holder.ttl) + slack, "\(holder.id) outlived its bound")
            } else if let silentAt = holder.silentAt, silentAt < 30_000 {
                Issue.record("\(holder.id) went silent at \(silentAt) and never expired")
            }
        }
    }
}
