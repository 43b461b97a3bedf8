// Goal: a backup taken from a member under write load holds every write acknowledged at or below its
// revision, and a new cluster restored from it (every member from the same file) serves exactly that state:
// the same state hash at the backup's revision, under a new cluster ID. A damaged backup file is refused with
// an error naming the file and the offset, by `rosterctl snapshot status` and by `roster restore`.
// Method: real processes (ProcessCluster); the backup is taken with `rosterctl snapshot save` from a follower
// while a client thread writes keys and records each acknowledged write's revision; the restored cluster is
// checked through the HTTP API. Every wait polls a condition against a deadline.
import Foundation
import RosterTestSupport
import Testing

/// Writes `load-<n>` keys in a loop, spread over `ports`; each acknowledgement is the write's revision.
func keyWriter(ports: [UInt16]) -> BackgroundWriter<Int64> {
    BackgroundWriter(name: { "load-\($1)" }, blockingWrite: { key, _, number in
        let result = TestHTTP.request(
            "PUT", port: ports[number % ports.count], path: "/v1/kv/\(key)", body: #"{"value":"v\#(number)"}"#)
        guard let result, result.status == 200, let revision = result.headers["x-roster-revision"].flatMap(Int64.init) else {
            throw WriteRefused("PUT \(key): \(result.map { "\($0.status) \($0.text)" } ?? "no answer")")
        }
        return revision
    })
}

@Suite("Backup and restore of real processes", .serialized)
struct BackupRestoreTests {
    static func json(_ text: String) -> [String: Any]? {
        let line = text.split(separator: "\n").last { $0.hasPrefix("{") }.map(String.init) ?? ""
        return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }

    static func keys(_ cluster: ProcessCluster, on node: Int) -> Set<String>? {
        guard let json = cluster.request("GET", "/v1/kv/load-?prefix=true&keys_only=true", on: node)?.json,
            let kvs = json["kvs"] as? [[String: Any]]
        else { return nil }
        return Set(kvs.compactMap { $0["key"] as? String })
    }

    @Test("a backup under write load restores into a new 3-node cluster with every acknowledged write and the same state hash")
    func backupUnderLoadThenRestore() async throws {
        let source = try ProcessCluster(size: 3)
        try source.startAll()
        let leader = try await source.waitForLeader()
        let follower = [0, 1, 2].first { $0 != leader }!
        #expect(source.request("PUT", "/v1/services/payments/instances/i1", on: leader,
                               body: #"{"endpoints":["grpc://10.0.0.5:9000"],"ttl":"60s"}"#)?.status == 200)
        let writer = keyWriter(ports: source.nodes.map(\.clientPort))
        try await writer.waitUntilAcknowledged(50, "writes before the backup")
        let file = source.root + "/backup.snap"
        let saved = try await source.run(
            "rosterctl", ["snapshot", "save", file, "-e", "127.0.0.1:\(source.nodes[follower].clientPort)"])
        let writesAtSave = writer.acknowledgedCount
        try await writer.waitUntilAcknowledged(writesAtSave + 20, "writes after the backup")
        let writes = await writer.stop().acknowledged
        #expect(saved.status == 0, "\(saved.output)")

        let status = try await source.run("rosterctl", ["snapshot", "status", file, "-o", "json"])
        #expect(status.status == 0, "\(status.output)")
        let summary = try #require(Self.json(status.output))
        let revision = try #require((summary["revision"] as? NSNumber)?.int64Value)
        let hash = try #require(summary["state_hash"] as? String)
        #expect((summary["members"] as? [Any])?.count == 3)
        let table = try await source.run("rosterctl", ["snapshot", "status", file])
        #expect(table.status == 0 && table.output.contains("checksum ok, state hash ok"), "\(table.output)")

        let restored = try ProcessCluster(size: 3)
        for node in 0..<3 {
            let result = try await restored.run("roster", ["restore", file] + restored.serverFlags(node))
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("new cluster") && !result.output.contains("new cluster \(summary["cluster_id"] ?? "")"))
        }
        try restored.startAll()
        _ = try await restored.waitForLeader()
        let expected = Set(writes.filter { $0.acknowledgement <= revision }.map(\.id))
        #expect(expected.count >= 50)
        for node in 0..<3 {
            var present: Set<String> = []
            try await Waiting.until("node \(node) to serve the restored keys") {
                present = Self.keys(restored, on: node) ?? []
                return !present.isEmpty
            }
            #expect(expected.subtracting(present).isEmpty, "acknowledged writes missing: \(expected.subtracting(present).sorted())")
            let answer = restored.request("GET", "/v1/cluster/hash?revision=\(revision)", on: node)?.json
            #expect(answer?["hash"] as? String == hash)
        }
        let instance = restored.request("GET", "/v1/services/payments/instances/i1", on: 0)
        #expect(instance?.status == 200)

        // The restored cluster grows: a new member learns its (new) cluster ID and members through --join ADDR.
        let joiner = restored.addNode(name: "n4")
        let endpoint = "127.0.0.1:\(restored.nodes[0].clientPort)"
        let endpoints = restored.nodes.prefix(3).map { "127.0.0.1:\($0.clientPort)" }.joined(separator: ",")
        let add = try await restored.run("rosterctl", ["member", "add", "n4", "127.0.0.1:\(restored.nodes[joiner].peerPort)", "-e", endpoints])
        #expect(add.status == 0, "\(add.output)")
        try restored.start(joiner, initialCluster: "", extraArguments: ["--join", endpoint])
        try await Waiting.until("n4 to be promoted once caught up", seconds: 30) {
            (try? await restored.run("rosterctl", ["member", "promote", "n4", "-e", endpoints]))?.status == 0
        }
        try await Waiting.until("n4 to serve the restored keys") { (Self.keys(restored, on: joiner) ?? []).isSuperset(of: expected) }
        let joinedHash = restored.request("GET", "/v1/cluster/hash?revision=\(revision)", on: joiner)?.json
        #expect(joinedHash?["hash"] as? String == hash)

        // A restart of the joined member does not depend on the member it joined through: with that one down, it
        // starts from its own data (found by the chaos soak, whose joined members restart while others are down).
        await restored.kill(0)
        await restored.kill(joiner)
        try restored.start(joiner, initialCluster: "", extraArguments: ["--join", endpoint])
        try restored.waitFor("n4 to serve again after a restart with its --join member down", seconds: 30) {
            (Self.keys(restored, on: joiner) ?? []).isSuperset(of: expected)
        }
    }

    @Test("a damaged backup is refused, naming the file and the offset, by snapshot status and by restore")
    func damagedBackupRefused() throws {
        let source = try ProcessCluster(size: 3)
        try source.startAll()
        let leader = try source.waitForLeader()
        for number in 0..<10 {
            #expect(source.request("PUT", "/v1/kv/k\(number)", on: leader, body: #"{"value":"v"}"#)?.status == 200)
        }
        let file = source.root + "/backup.snap"
        let saved = try source.run("rosterctl", ["snapshot", "save", file, "-e", "127.0.0.1:\(source.nodes[leader].clientPort)"])
        #expect(saved.status == 0, "\(saved.output)")
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        bytes[bytes.count / 2] ^= 0xFF
        let damaged = source.root + "/damaged.snap"
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))
        let status = try source.run("rosterctl", ["snapshot", "status", damaged])
        #expect(status.status == 1)
        #expect(status.output.contains(damaged) && status.output.contains("offset"), "\(status.output)")
        let restore = try source.run(
            "roster", ["restore", damaged, "--name", "r1", "--data-dir", source.root + "/r1", "--peer-addr", "127.0.0.1:29990",
                       "--client-addr", "127.0.0.1:29991", "--initial-cluster", "r1=127.0.0.1:29990"])
        #expect(restore.status == 1)
        #expect(restore.output.contains(damaged) && restore.output.contains("offset"), "\(restore.output)")
        #expect(!FileManager.default.fileExists(atPath: source.root + "/r1"))
    }
}
