// Goal: a follower that forwarded a write hears that it committed before the leader spends its loop applying it:
// the leader offers its commit notices to the shell before it applies a Ready whose entries a follower waits on,
// and only then (its own clients' answers leave before its notices otherwise).
// Method: a `DriverCluster` of three drivers whose test environment records what was queued at each early offer.
import Raft
import Registry
import RosterNode
import Testing

@Suite("Commit notices before apply")
struct CommitNoticeOrderTests {
    static func isCommitNotice(_ message: Message, to follower: NodeID, through index: LogIndex) -> Bool {
        guard message.to == follower, case .append(let append) = message.body else { return false }
        return append.commit >= index
    }

    /// Registers `id` through `node` on a cluster whose leader's early offers were cleared; whether it was answered.
    static func register(_ id: String, through node: String, _ cluster: inout DriverCluster, leader: String) -> Bool {
        cluster[leader].environment.offeredEarly = []
        let request = cluster.submit(.write(.registerInstance(DriverCluster.instance(id))), to: node)
        cluster.deliver()
        guard case .written = cluster.response(request, on: node) else {
            Issue.record("no write answer: \(String(describing: cluster.response(request, on: node)))")
            return false
        }
        return true
    }

    @Test("a write forwarded by a follower: the leader offers the follower's commit notice before applying the entry")
    func forwardedWrite() throws {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let leader = try #require(cluster.leaderName)
        let follower = ["n1", "n2", "n3"].first { $0 != leader }!
        guard Self.register("i1", through: follower, &cluster, leader: leader) else { return }
        let index = cluster[leader].raft.lastIndex  // The registration's entry: nothing was appended after it.
        let offers = cluster[leader].environment.offeredEarly
        let offer = try #require(offers.first { $0.messages.contains { Self.isCommitNotice($0, to: cluster.id(follower), through: index) } },
                                 "no early offer carried the follower's commit notice: \(offers.map(\.messages))")
        // Offered before the leader applied the entry: the entry's event is not among the queued changes yet.
        let appliedNames = offer.changes.flatMap { change -> [String] in
            if case .applied(let events, _) = change { events.map { String(decoding: $0.key, as: UTF8.self) } } else { [] }
        }
        #expect(!appliedNames.contains { $0.contains("i1") }, "\(appliedNames)")
        #expect(cluster[leader].registry.instance(named: InstanceName(namespace: "default", service: "payments", id: "i1")) != nil)
    }

    @Test("a write through the leader itself: nothing is offered early")
    func writeThroughLeader() throws {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let leader = try #require(cluster.leaderName)
        guard Self.register("i2", through: leader, &cluster, leader: leader) else { return }
        #expect(cluster[leader].environment.offeredEarly.isEmpty)
    }
}
