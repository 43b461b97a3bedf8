// Goal: when two of three members are lost for good, `--force-new-cluster` on the survivor brings the cluster
// back with everything it had acknowledged, and new members join it (learner, caught up, promoted) through
// `rosterctl member`. A directory that is not a member's is refused.
// Method: real processes; writes are acknowledged, every member is seen to apply them, all three are killed
// (kill -9) and two data directories deleted; the survivor restarts with the flag; two new members are added
// with `rosterctl member add` + `--join` and promoted with `rosterctl member promote` (retried until caught up).
import Foundation
import RosterTestSupport
import Testing

@Suite("Force a new cluster from a surviving member", .serialized)
struct ForceNewClusterTests {
    static func keys(_ cluster: ProcessCluster, on node: Int) -> Set<String>? {
        guard let json = cluster.request("GET", "/v1/kv/k-?prefix=true&keys_only=true&consistency=serializable", on: node)?.json,
            let kvs = json["kvs"] as? [[String: Any]]
        else { return nil }
        return Set(kvs.compactMap { $0["key"] as? String })
    }

    static func appliedIndex(_ cluster: ProcessCluster, _ node: Int) -> Int? {
        (cluster.status(of: node)?["applied_index"] as? NSNumber)?.intValue
    }

    @Test("two of three data directories destroyed: the survivor forced into a new cluster keeps every acknowledged write and takes two new members")
    func survivorKeepsEverything() throws {
        let cluster = try ProcessCluster(size: 3, extraFlags: ["--snapshot-entries", "50"])
        let founders = cluster.initialCluster
        try cluster.startAll()
        let leader = try cluster.waitForLeader()
        var acknowledged: Set<String> = []
        for number in 0..<120 {
            if cluster.request("PUT", "/v1/kv/k-\(number)", on: number % 3, body: #"{"value":"v"}"#)?.status == 200 {
                acknowledged.insert("k-\(number)")
            }
        }
        #expect(acknowledged.count == 120)
        let target = try #require(Self.appliedIndex(cluster, leader))
        let survivor = (leader + 1) % 3
        try cluster.waitFor("the survivor to apply every write") { (Self.appliedIndex(cluster, survivor) ?? 0) >= target }
        for node in 0..<3 { cluster.kill(node) }
        for node in 0..<3 where node != survivor { try FileManager.default.removeItem(atPath: cluster.nodes[node].dataDirectory) }

        try cluster.start(survivor, extraArguments: ["--force-new-cluster"])
        try cluster.waitFor("the survivor to lead alone") { cluster.role(of: survivor) == "leader" }
        #expect(Self.keys(cluster, on: survivor) == acknowledged)
        let log = (try? String(contentsOfFile: cluster.nodes[survivor].logPath, encoding: .utf8)) ?? ""
        #expect(log.contains("FORCE-NEW-CLUSTER"))
        #expect(cluster.request("PUT", "/v1/kv/k-after", on: survivor, body: #"{"value":"v"}"#)?.status == 200)
        acknowledged.insert("k-after")

        let endpoint = "127.0.0.1:\(cluster.nodes[survivor].clientPort)"
        for name in ["n4", "n5"] {
            let added = cluster.addNode(name: name)
            let node = cluster.nodes[added]
            let add = try cluster.run("rosterctl", ["member", "add", name, "127.0.0.1:\(node.peerPort)", "-e", endpoint])
            #expect(add.status == 0, "\(add.output)")
            try cluster.start(added, initialCluster: founders, join: true)
            try cluster.waitFor("\(name) to be promoted once caught up", seconds: 30) {
                (try? cluster.run("rosterctl", ["member", "promote", name, "-e", endpoint]))?.status == 0
            }
            try cluster.waitFor("\(name) to hold every write") { Self.keys(cluster, on: added) == acknowledged }
        }
        let members = try cluster.run("rosterctl", ["member", "list", "-o", "json", "-e", endpoint])
        #expect(members.status == 0)
        let listed = (try? JSONSerialization.jsonObject(with: Data(members.output.utf8)) as? [String: Any])?["members"]
        let voters = (listed as? [[String: Any]] ?? []).filter { $0["role"] as? String == "voter" }.compactMap { $0["name"] as? String }
        #expect(voters.sorted() == [cluster.nodes[survivor].name, "n4", "n5"].sorted(), "\(members.output)")
        #expect(cluster.request("PUT", "/v1/kv/k-final", on: 3, body: #"{"value":"v"}"#)?.status == 200)
    }

    @Test("--force-new-cluster refuses a directory that holds no member's data")
    func refusesFreshDirectory() throws {
        let cluster = try ProcessCluster(size: 1)
        let result = try cluster.run("roster", cluster.serverFlags(0) + ["--force-new-cluster"])
        #expect(result.status == 1)
        #expect(result.output.contains("--force-new-cluster refuses") && result.output.contains("IDENTITY"), "\(result.output)")
    }
}
