// Goal: past `--quota-bytes` a member raises the replicated NOSPACE alarm: every member then refuses writes
// that add data with 503 `no_space`, while reads, lease keepalives, deletes and compaction go on; `GET
// /v1/alarms` and `rosterctl alarm list` show it on every member; after the data is deleted and compacted,
// `rosterctl alarm disarm` brings writes back, and nothing acknowledged is lost.
// Method: 3 real processes with a small quota (6,000 bytes of state) and a snapshot every 5 entries (the state
// size is the newest snapshot's); 1 KB writes until one is refused; every wait polls a condition.
import Foundation
import RosterTestSupport
import Testing

@Suite("NOSPACE alarm", .serialized)
struct NoSpaceAlarmTests {
    static let value = String(repeating: "x", count: 1_000)

    static func put(_ cluster: ProcessCluster, _ key: String, on node: Int) -> HTTPResult? {
        cluster.request("PUT", "/v1/kv/\(key)", on: node, body: #"{"value":"\#(value)"}"#)
    }

    static func errorCode(_ result: HTTPResult?) -> String? {
        (result?.json?["error"] as? [String: Any])?["code"] as? String
    }

    /// `GET /v1/alarms` on `node`: the alarms it has applied (none when it does not answer).
    static func alarms(_ cluster: ProcessCluster, on node: Int) -> [[String: Any]] {
        cluster.request("GET", "/v1/alarms", on: node)?.json?["alarms"] as? [[String: Any]] ?? []
    }

    @Test("over the quota, writes are refused with no_space on every member; reads, keepalives, deletes and compaction go on; disarm recovers")
    func quotaRaisesNoSpace() throws {
        let cluster = try ProcessCluster(size: 3, extraFlags: ["--quota-bytes", "6000", "--snapshot-entries", "5"])
        try cluster.startAll()
        let leader = try cluster.waitForLeader()
        #expect(Self.put(cluster, "keep", on: leader)?.status == 200)
        let grant = cluster.request("POST", "/v1/leases", on: leader, body: #"{"ttl":"30s"}"#)
        let lease = try #require(((grant?.json?["lease"] as? [String: Any])?["id"] as? NSNumber)?.uint64Value)

        var acknowledged: [String] = []
        var refusal: HTTPResult?
        try cluster.waitFor("a write refused for lack of space", seconds: 30) {
            let key = "k-\(acknowledged.count)"
            let result = Self.put(cluster, key, on: acknowledged.count % 3)
            if result?.status == 200 { acknowledged.append(key) }
            if Self.errorCode(result) == "no_space" { refusal = result }
            return refusal != nil
        }
        #expect(refusal?.status == 503)
        for node in 0..<3 {
            try cluster.waitFor("node \(node) to refuse writes") { Self.errorCode(Self.put(cluster, "refused", on: node)) == "no_space" }
            // A follower may forward a write the leader refuses before it has applied the alarm itself.
            try cluster.waitFor("node \(node) to list the NOSPACE alarm") {
                Self.alarms(cluster, on: node).contains { $0["alarm"] as? String == "NOSPACE" }
            }
            #expect(cluster.request("GET", "/v1/kv/keep", on: node)?.status == 200)
            #expect(cluster.request("POST", "/v1/leases/\(lease)/keepalive", on: node)?.status == 200)
        }
        let listed = try cluster.run("rosterctl", ["alarm", "list", "-e", "127.0.0.1:\(cluster.nodes[leader].clientPort)"])
        #expect(listed.status == 0 && listed.output.contains("NOSPACE"), "\(listed.output)")
        let range = cluster.request("GET", "/v1/kv/k-?prefix=true&keys_only=true", on: leader)?.json
        let present = Set((range?["kvs"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String })
        #expect(present == Set(acknowledged), "acknowledged writes missing: \(Set(acknowledged).subtracting(present))")

        for key in acknowledged { #expect(cluster.request("DELETE", "/v1/kv/\(key)", on: leader)?.status == 200) }
        let revision = try #require(cluster.status(of: leader)?["revision"] as? NSNumber)
        #expect(cluster.request("POST", "/v1/compact", on: leader, body: #"{"revision":\#(revision)}"#)?.status == 200)
        let endpoints = cluster.nodes.map { "127.0.0.1:\($0.clientPort)" }.joined(separator: ",")
        try cluster.waitFor("writes accepted again after room was made and the alarm disarmed", seconds: 30) {
            _ = try? cluster.run("rosterctl", ["alarm", "disarm", "-e", endpoints])
            return Self.put(cluster, "after", on: leader)?.status == 200
        }
        #expect(cluster.request("GET", "/v1/kv/keep", on: leader)?.status == 200)
        #expect(cluster.request("GET", "/v1/leases/\(lease)", on: leader)?.status == 200)
    }
}

/// The free-space floor on a real small file system: a member's data directory on its own tmpfs (as root).
@Suite("NOSPACE alarm on a full disk", .serialized, .enabled(if: geteuid() == 0, "mounting a tmpfs needs root"))
struct NoSpaceFloorTests {
    static func mount(_ arguments: [String]) -> Int32 {
        (try? ProcessCluster.runTool("/bin/" + (arguments.first ?? ""), Array(arguments.dropFirst())))?.status ?? -1
    }

    @Test("a member whose disk falls under --min-free-bytes raises NOSPACE; freeing the disk and disarming recovers")
    func freeSpaceFloor() throws {
        let cluster = try ProcessCluster(size: 3, extraFlags: ["--min-free-bytes", "8000000"])
        let directory = cluster.nodes[2].dataDirectory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try #require(Self.mount(["mount", "-t", "tmpfs", "-o", "size=32m,mode=0700", "tmpfs", directory]) == 0)
        defer {
            cluster.stopAll()
            _ = Self.mount(["umount", directory])
        }
        try cluster.startAll()
        let leader = try cluster.waitForLeader()
        #expect(NoSpaceAlarmTests.put(cluster, "before", on: leader)?.status == 200)

        let ballast = directory + "/ballast"
        try Data(count: 26 << 20).write(to: URL(fileURLWithPath: ballast))
        try cluster.waitFor("writes refused once the member's disk is short") {
            NoSpaceAlarmTests.errorCode(NoSpaceAlarmTests.put(cluster, "refused", on: leader)) == "no_space"
        }
        // The leader refuses once it has applied the alarm; a follower lists it once it has applied it too.
        for node in 0..<3 {
            try cluster.waitFor("node \(node) to list the NOSPACE alarm of \(cluster.nodes[2].name) alone") {
                NoSpaceAlarmTests.alarms(cluster, on: node).map { $0["member"] as? String } == [cluster.nodes[2].name]
            }
        }
        #expect(cluster.request("GET", "/v1/kv/before", on: 2)?.status == 200)

        try FileManager.default.removeItem(atPath: ballast)
        let endpoints = cluster.nodes.map { "127.0.0.1:\($0.clientPort)" }.joined(separator: ",")
        try cluster.waitFor("writes accepted again after the disk was freed and the alarm disarmed") {
            _ = try? cluster.run("rosterctl", ["alarm", "disarm", "-e", endpoints])
            return NoSpaceAlarmTests.put(cluster, "after", on: leader)?.status == 200
        }
        #expect(cluster.request("GET", "/v1/kv/before", on: leader)?.status == 200)
    }
}
