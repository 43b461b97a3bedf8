// Goal: `rosterctl member replace` swaps a member for a new one (learner, caught up, promoted, old one
// removed) while clients keep registering, and no registration fails: each is retried across the nodes, as a
// client with every endpoint does, and counted as failed if no node acknowledged it within its budget.
// Method: real processes; a registration thread runs throughout; the new member is started with --join and the
// founders' --initial-cluster; afterwards the old process is stopped and every acknowledged registration must
// be readable on the new member.
import Foundation
import RosterTestSupport
import Testing

/// Registers `r-<n>` instances in a loop, each retried across `ports` for up to `budgetSeconds` (as a client with
/// every endpoint does); a registration no node acknowledged within its budget fails.
func registrationWriter(ports: [UInt16], budgetSeconds: Double = 15) -> BackgroundWriter<Void> {
    BackgroundWriter(name: { "r-\($1)" }, blockingWrite: { id, _, number in
        var attempt = 0
        let registered = ProcessCluster.poll(seconds: budgetSeconds) {
            attempt += 1
            let port = ports[(number + attempt) % ports.count]
            return TestHTTP.request(
                "PUT", port: port, path: "/v1/services/payments/instances/\(id)",
                body: #"{"endpoints":["grpc://10.0.0.5:9000"]}"#, timeoutSeconds: 2)?.status == 200
        }
        guard registered else { throw WriteRefused("no node acknowledged \(id) within \(budgetSeconds) s") }
    })
}

@Suite("Replacing a member under load", .serialized)
struct MemberReplaceTests {
    static func instanceIDs(_ cluster: ProcessCluster, on node: Int) -> Set<String>? {
        guard let json = cluster.request("GET", "/v1/services/payments?consistency=serializable", on: node)?.json,
            let instances = json["instances"] as? [[String: Any]]
        else { return nil }
        return Set(instances.compactMap { $0["id"] as? String })
    }

    @Test("member replace under registration load: learner added, caught up, promoted, old member removed; no registration fails")
    func replaceUnderLoad() async throws {
        let cluster = try ProcessCluster(size: 3, extraFlags: ["--snapshot-entries", "100"])
        let founders = cluster.initialCluster
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let old = (leader + 1) % 3
        let new = cluster.addNode(name: "n4")
        let registrar = registrationWriter(ports: cluster.nodes.map(\.clientPort))
        try await registrar.waitUntilAcknowledged(100, "registrations before the replacement")

        try cluster.start(new, initialCluster: founders, join: true)
        let endpoints = cluster.nodes.prefix(3).map { "127.0.0.1:\($0.clientPort)" }.joined(separator: ",")
        let replaced = try await cluster.run(
            "rosterctl",
            ["member", "replace", cluster.nodes[old].name, "--name", "n4", "--peer-addr", "127.0.0.1:\(cluster.nodes[new].peerPort)",
             "-e", endpoints])
        #expect(replaced.status == 0, "\(replaced.output)")
        #expect(replaced.output.contains("3/3 removed"), "\(replaced.output)")
        await cluster.kill(old, signal: SIGTERM)
        let atReplacement = registrar.acknowledgedCount
        try await registrar.waitUntilAcknowledged(atReplacement + 100, "registrations after the replacement")
        let outcome = await registrar.stop()

        #expect(outcome.failed.isEmpty, "failed registrations: \(outcome.failed)")
        let acknowledged = Set(outcome.acknowledgedIDs)
        // Catching up on a loaded machine takes what it takes (failed once at 15 s under stress --cpu 2); the
        // deadline bounds a stall and the failure names what is missing.
        var missing = acknowledged
        do {
            try await Waiting.until("the new member to hold every registration", seconds: 120) {
                missing = acknowledged.subtracting(Self.instanceIDs(cluster, on: new) ?? [])
                return missing.isEmpty
            }
        } catch {
            let detail = "\(missing.count) of \(acknowledged.count) acknowledged registrations missing on the new member: "
                + "\(missing.sorted().prefix(20))\n\(cluster.logsTail())"
            Issue.record("\(detail)")
        }
        let members = cluster.request("GET", "/v1/cluster/members", on: leader)?.json?["members"] as? [[String: Any]] ?? []
        let voters = Set(members.filter { $0["role"] as? String == "voter" }.compactMap { $0["name"] as? String })
        #expect(voters == Set([0, 1, 2].filter { $0 != old }.map { cluster.nodes[$0].name } + ["n4"]))
    }
}
