// Goal: real `roster` processes keep the node's promises over TCP and HTTP: writes through any node,
// linearizable reads anywhere, failover after kill -9 of the leader, catch-up of a restarted node
// (through a snapshot when the others compacted), watches on a follower that stay ordered and gapless
// across a leader change, and membership changes by name.
// Method: three processes on loopback with free ports and short timeouts (heartbeat 50 ms, election
// 500 ms); every wait polls against a deadline; results are checked through the HTTP API.
import Foundation
import RosterTestSupport
import Testing

@Suite("Cluster of real processes", .serialized)
struct ClusterIntegrationTests {
    static let instanceBody = #"{"endpoints":["grpc://10.0.0.5:9000"],"metadata":{"zone":"a"}}"#

    static func register(_ cluster: ProcessCluster, id: String, on node: Int) -> HTTPResult? {
        cluster.request("PUT", "/v1/services/payments/instances/\(id)", on: node, body: instanceBody)
    }

    static func instanceIDs(_ cluster: ProcessCluster, on node: Int, consistency: String = "linearizable") -> [String]? {
        guard let json = cluster.request("GET", "/v1/services/payments?consistency=\(consistency)", on: node)?.json,
            let instances = json["instances"] as? [[String: Any]]
        else { return nil }
        return instances.compactMap { $0["id"] as? String }.sorted()
    }

    @Test("a registration through a follower is readable, linearizably, on another follower")
    func registerThroughFollower() throws {
        let cluster = try ProcessCluster(size: 3)
        try cluster.startAll()
        let leader = try cluster.waitForLeader()
        let followers = [0, 1, 2].filter { $0 != leader }
        let written = Self.register(cluster, id: "via-follower", on: followers[0])
        #expect(written?.status == 200)
        #expect(Self.instanceIDs(cluster, on: followers[1]) == ["via-follower"])
        #expect(written?.headers["x-roster-revision"] != nil)
    }

    @Test("a registration with a TTL through a follower (handed to the leader whole) is under its own lease on every member")
    func registerWithTTLThroughFollower() throws {
        let cluster = try ProcessCluster(size: 3)
        try cluster.startAll()
        let leader = try cluster.waitForLeader()
        let followers = [0, 1, 2].filter { $0 != leader }
        let body = #"{"endpoints":["grpc://10.0.0.5:9000"],"ttl":"20s"}"#
        let written = cluster.request("PUT", "/v1/services/payments/instances/ttl-via-follower", on: followers[0], body: body)
        #expect(written?.status == 200)
        let lease = try #require((written?.json?["instance"] as? [String: Any])?["lease"] as? Int)
        for node in 0..<3 {
            let instance = cluster.request(
                "GET", "/v1/services/payments/instances/ttl-via-follower?consistency=linearizable", on: node)?.json
            #expect((instance?["instance"] as? [String: Any])?["lease"] as? Int == lease, "node \(node)")
            let leases = cluster.request("GET", "/v1/leases", on: node)?.json?["leases"] as? [[String: Any]]
            #expect(leases?.compactMap { $0["id"] as? Int } == [lease], "node \(node): one lease, the instance's")
        }
    }

    @Test("every member lists every member's client address (announced in peer hellos), so one member names all endpoints")
    func clientAddressesOnEveryMember() throws {
        let cluster = try ProcessCluster(size: 3)
        try cluster.startAll()
        _ = try cluster.waitForLeader()
        let expected = cluster.nodes.map { "127.0.0.1:\($0.clientPort)" }.sorted()
        for node in 0..<3 {
            try cluster.waitFor("node \(node) to list every client address") {
                let members = cluster.request("GET", "/v1/cluster/members", on: node)?.json?["members"] as? [[String: Any]]
                return members?.compactMap { $0["client_address"] as? String }.sorted() == expected
            }
        }
    }

    @Test("after kill -9 of the leader, writes succeed through the survivors; the restarted node catches up by snapshot")
    func failoverAndCatchUp() throws {
        let cluster = try ProcessCluster(size: 3, extraFlags: ["--snapshot-entries", "20"])
        try cluster.startAll()
        let leader = try cluster.waitForLeader()
        for number in 0..<5 { #expect(Self.register(cluster, id: "before-\(number)", on: leader)?.status == 200) }
        cluster.kill(leader)
        let survivors = [0, 1, 2].filter { $0 != leader }
        var acknowledged: [String] = []
        for number in 0..<40 {
            let target = survivors[number % 2]
            let id = "after-\(number)"
            var ok = false
            try cluster.waitFor("a write through the survivors", seconds: 15) {
                ok = Self.register(cluster, id: id, on: target)?.status == 200
                return ok
            }
            acknowledged.append(id)
        }
        try cluster.start(leader)
        let expected = (acknowledged + (0..<5).map { "before-\($0)" }).sorted()
        try cluster.waitFor("the restarted node to catch up", seconds: 20) {
            Self.instanceIDs(cluster, on: leader, consistency: "serializable") == expected
        }
        let log = (try? String(contentsOfFile: cluster.nodes[leader].logPath, encoding: .utf8)) ?? ""
        #expect(log.contains("installed snapshot"))
    }

    @Test("a watcher on a follower sees every event in order, without gaps, across a leader change")
    func watchAcrossLeaderChange() throws {
        let cluster = try ProcessCluster(size: 3)
        try cluster.startAll()
        let leader = try cluster.waitForLeader()
        let follower = [0, 1, 2].first { $0 != leader }!
        let other = [0, 1, 2].first { $0 != leader && $0 != follower }!
        guard let watch = StreamReader(port: cluster.nodes[follower].clientPort, path: "/v1/watch?service=payments&from_revision=1") else {
            Issue.record("watch did not connect")
            return
        }
        defer { watch.close() }
        for number in 0..<5 { _ = Self.register(cluster, id: "w\(number)", on: leader) }
        cluster.kill(leader)
        for number in 5..<10 {
            try cluster.waitFor("a write after the leader change") { Self.register(cluster, id: "w\(number)", on: other)?.status == 200 }
        }
        try cluster.waitFor("ten watch events") { watch.lines.filter { $0["type"] != nil }.count >= 10 }
        let revisions = watch.lines.compactMap { $0["revision"] as? Int }
        let events = watch.lines.filter { $0["type"] != nil }
        #expect(events.compactMap { $0["revision"] as? Int } == Array(1...10))
        #expect(revisions == revisions.sorted())
        #expect(events.compactMap { $0["key"] as? String } == (0..<10).map { "default/payments/w\($0)" })
    }

    @Test("a watch from a revision the node has not reached yet starts exactly there (no replay below it)")
    func watchFromFutureRevision() throws {
        let cluster = try ProcessCluster(size: 3)
        try cluster.startAll()
        let leader = try cluster.waitForLeader()
        let follower = [0, 1, 2].first { $0 != leader }!
        for number in 0..<10 {
            try cluster.waitFor("a write") { Self.register(cluster, id: "f\(number)", on: leader)?.status == 200 }
        }
        // A client resuming at 16 on a node at revision 10: revisions 11...15 must not be delivered.
        guard let watch = StreamReader(port: cluster.nodes[follower].clientPort, path: "/v1/watch?service=payments&from_revision=16")
        else {
            Issue.record("watch did not connect")
            return
        }
        defer { watch.close() }
        for number in 10..<20 {
            try cluster.waitFor("a write") { Self.register(cluster, id: "f\(number)", on: leader)?.status == 200 }
        }
        try cluster.waitFor("the events from the start revision") { watch.lines.filter { $0["type"] != nil }.count >= 5 }
        let revisions = watch.lines.filter { $0["type"] != nil }.compactMap { $0["revision"] as? Int }
        #expect(revisions == Array(16...20))
    }

    @Test("a fourth node joins as a learner by name, is promoted, and another member is removed")
    func membershipChanges() throws {
        let cluster = try ProcessCluster(size: 3)
        try cluster.startAll()
        let founders = cluster.initialCluster
        var leader = try cluster.waitForLeader()
        _ = Self.register(cluster, id: "before-join", on: leader)
        let joiner = cluster.addNode(name: "n4")
        let add = cluster.request(
            "POST", "/v1/cluster/members", on: leader,
            body: #"{"name":"n4","peer_address":"127.0.0.1:\#(cluster.nodes[joiner].peerPort)"}"#)
        #expect(add?.status == 200)
        try cluster.start(joiner, initialCluster: founders + ",n4=127.0.0.1:\(cluster.nodes[joiner].peerPort)", join: true)
        try cluster.waitFor("the learner to catch up") {
            Self.instanceIDs(cluster, on: joiner, consistency: "serializable") == ["before-join"]
        }
        try cluster.waitFor("the promotion") {
            cluster.request("POST", "/v1/cluster/members/n4/promote", on: leader)?.status == 200
        }
        let victim = [0, 1, 2].first { $0 != leader }!
        leader = try cluster.waitForLeader()
        let removal = cluster.request("DELETE", "/v1/cluster/members/\(cluster.nodes[victim].name)", on: leader)
        #expect(removal?.status == 200)
        let members = cluster.request("GET", "/v1/cluster/members", on: leader)?.json?["members"] as? [[String: Any]] ?? []
        let voters = members.filter { $0["role"] as? String == "voter" }.compactMap { $0["name"] as? String }.sorted()
        #expect(voters.count == 3)
        #expect(voters.contains("n4"))
        #expect(!voters.contains(cluster.nodes[victim].name))
        cluster.kill(victim)
        #expect(Self.register(cluster, id: "after-removal", on: joiner)?.status == 200)
    }
}
