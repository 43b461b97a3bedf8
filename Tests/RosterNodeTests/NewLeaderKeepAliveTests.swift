// Goal: a new leader acknowledges no keepalive before it has applied the entries of earlier terms.
// The whole-node simulator found why (regression seed 252): a predecessor's `expireLeases` may still
// commit under the new leader, ending a lease right after its renewal was acknowledged.
// Method: a `DriverCluster` whose old leader is cut off; the others' election messages are delivered
// but everything else is held back, so the winner leads before it has applied its term's first
// entry. A keepalive then fails (retry); once appends flow, the same keepalive is acknowledged.
import Raft
import Registry
import RosterNode
import Testing

@Suite("New leader keepalives")
struct NewLeaderKeepAliveTests {
    @Test("a new leader refuses keepalives until it has applied the entries of earlier terms")
    func newLeaderWaitsForEarlierTerms() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let old = cluster.leaderName!
        let grant = cluster.submit(.write(.grantLease(id: LeaseID(7), ttlMilliseconds: 5_000, grantedAtMilliseconds: 0)), to: old)
        cluster.run(milliseconds: 200)
        #expect(cluster.response(grant, on: old) != nil)
        cluster.isolated = [cluster.id(old)]
        let others = ["n1", "n2", "n3"].filter { $0 != old }
        var winner: String?
        for _ in 0..<100 where winner == nil {
            for name in others {
                cluster[name].environment.nowMilliseconds += 100
                cluster[name].tick()
                cluster.processReady(name)
            }
            cluster.deliverElectionMessagesOnly()
            winner = others.first { cluster[$0].raft.role == .leader }
        }
        guard let leader = winner else {
            Issue.record("no new leader was elected")
            return
        }
        #expect(cluster[leader].raft.appliedIndex < cluster[leader].raft.lastIndex)
        let early = cluster.submit(.keepAlive(LeaseID(7)), to: leader)
        guard case .failed(.indeterminate) = cluster.response(early, on: leader) else {
            Issue.record("keepalive before the first entry applied: \(String(describing: cluster.response(early, on: leader)))")
            return
        }
        cluster.run(milliseconds: 500)
        let later = cluster.submit(.keepAlive(LeaseID(7)), to: leader)
        cluster.deliver()
        #expect(cluster.response(later, on: leader) == .keptAlive(LeaseID(7), ttlMilliseconds: 5_000))
    }
}

extension DriverCluster {
    /// Delivers only (pre-)votes and their answers, dropping every other message in flight.
    mutating func deliverElectionMessagesOnly() {
        for _ in 0..<20 {
            var messages: [Message] = []
            for id in drivers.keys.sorted() {
                messages += delivered[id]!.messages
                delivered[id]!.messages = []
                delivered[id]!.forwards = []
            }
            if messages.isEmpty { return }
            for message in messages where !isolated.contains(message.from) && !isolated.contains(message.to) {
                switch message.body {
                case .preVote, .preVoteResponse, .vote, .voteResponse:
                    drivers[message.to]?.receive(message)
                    processReady(message.to)
                default:
                    continue
                }
            }
        }
    }
}
