// Goal: show that every `rosterctl` command prints what it promises and exits with the documented code: 0 ok,
// 1 rejected by the server, 2 usage error, 3 unavailable. Method: run the built `rosterctl` binary as a child
// process (as a person or script would) against a real 3-node cluster, with endpoints from ROSTER_ENDPOINTS or
// --endpoints, in table and JSON output, and against a node that is down. Run `swift build --product rosterctl`
// (and `--product roster`) before the tests. Waits are conditions (a watch from a known revision, the cluster's
// leadership), never sleeps.
import Foundation
import RosterClient
import RosterTestSupport
import Testing

extension ClientSuite {
    @Suite("rosterctl")
    struct RosterctlTests {
        /// Runs a command and checks its exit code, reporting the output on failure.
        @discardableResult
        static func run(
            _ arguments: [String], endpoints: String? = nil, expect code: Int32 = 0, input: String? = nil,
            sourceLocation: SourceLocation = #_sourceLocation
        ) async throws -> Support.CommandResult {
            let result = try await Support.rosterctl(arguments, endpoints: endpoints, input: input)
            #expect(
                result.code == code, "rosterctl \(arguments.joined(separator: " ")): \(result.output) \(result.errors)",
                sourceLocation: sourceLocation)
            return result
        }

        static func json(_ text: String) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        }

        @Test(
            "usage errors exit 2 and every command has --help",
            arguments: [
                "register", "deregister", "get", "list", "watch", "lease grant", "lease keepalive", "lease revoke",
                "lease ttl", "lease list", "kv get", "kv put", "kv del", "kv txn", "member list", "member add",
                "member promote", "member remove", "status", "leader", "transfer-leader", "hash", "compact",
            ])
        func helpAndUsage(command: String) async throws {
            let words = command.split(separator: " ").map(String.init)
            let help = try await Self.run(words + ["--help"])
            #expect(help.output.contains("Usage: rosterctl \(command)"))
            #expect(help.output.contains("Exit codes"))
            let bad = try await Self.run(words + ["--no-such-option", "x"], expect: 2)
            #expect(bad.errors.contains("no option --no-such-option"))
        }

        @Test("the overview, unknown commands and bad global options")
        func overview() async throws {
            #expect(try await Self.run(["--help"]).output.contains("lease grant"))
            try await Self.run([], expect: 2)
            #expect(try await Self.run(["frobnicate"], expect: 2).errors.contains("unknown command"))
            try await Self.run(["list", "-o", "yaml"], expect: 2)
            try await Self.run(["list", "--endpoints", "not a host:x"], expect: 2)
            try await Self.run(["register", "svc", "id"], expect: 2)  // no --endpoint
            try await Self.run(["lease", "ttl", "abc"], expect: 2)
            try await Self.run(["kv", "txn", "{not json"], expect: 2)
        }

        @Test("every command works against a live cluster, in table and JSON output")
        func commandsAgainstCluster() async throws {
            let cluster = try Support.startCluster()
            let endpoints = Support.endpoints(cluster).map(\.description).joined(separator: ",")
            @discardableResult
            func run(_ arguments: [String], expect code: Int32 = 0, input: String? = nil) async throws
                -> Support.CommandResult
            {
                try await Self.run(arguments, endpoints: endpoints, expect: code, input: input)
            }

            // Status and leadership.
            let status = try await run(["status"])
            #expect(status.output.contains("leader") && status.output.contains("follower"))
            #expect(status.output.split(separator: "\n").count == 4)
            let leader = try await run(["leader", "-o", "json"])
            let leaderName = try #require(try Self.json(leader.output)["leader"] as? String)
            #expect(try await run(["member", "list"]).output.contains(leaderName))
            #expect(try await run(["member", "list", "-o", "json"]).output.contains("\"members\""))

            // Registration and discovery.
            let registered = try await run([
                "register", "payments", "i1", "--endpoint", "grpc://10.0.0.5:9000", "--meta", "zone=a", "--incarnation",
                "5",
                "--weight", "7",
            ])
            #expect(registered.output.contains("registered default/payments/i1 incarnation 5"))
            let stale = try await run(
                ["register", "payments", "i1", "--endpoint", "grpc://x:1", "--incarnation", "4"], expect: 1)
            #expect(stale.errors.contains("stale_incarnation"))
            let list = try await run(["list", "payments"])
            #expect(
                list.output.contains("i1") && list.output.contains("grpc://10.0.0.5:9000") && list.output.contains("7"))
            #expect(try await run(["list"]).output.contains("payments  1"))
            let got = try Self.json(try await run(["get", "payments", "i1", "-o", "json"]).output)
            #expect((got["instance"] as? [String: Any])?["metadata"] as? [String: String] == ["zone": "a"])
            #expect(try await run(["get", "payments", "nope"], expect: 1).errors.contains("instance_not_found"))

            // Watch: a change made while watching is printed live. The watch starts at the next revision, so it
            // sees the change whether it connects before or after it (no sleep to let it connect first).
            let reader = RosterClient(endpoints: Support.endpoints(cluster))
            let next = try await reader.instances(of: "payments").revision + 1
            async let watched = run(["watch", "payments", "--from-revision", "\(next)", "--count", "1", "--for", "60s"])
            try await run(["deregister", "payments", "i1", "--incarnation", "5"])
            let watchOutput = try await watched
            #expect(watchOutput.output.contains("DELETE  deregistered  default/payments/i1"))
            // A mistaken delete: the instance as it was just before it, read from history.
            let before = "\(next - 1)"
            #expect(try await run(["list", "payments", "--revision", before]).output.contains("grpc://10.0.0.5:9000"))
            #expect(try await run(["list", "payments"]).output.contains("i1") == false)
            let old = try Self.json(try await run(["get", "payments", "i1", "--revision", before, "-o", "json"]).output)
            #expect((old["instance"] as? [String: Any])?["weight"] as? Int == 7 && old["revision"] as? Int == Int(next - 1))
            #expect(try await run(["get", "payments", "i1", "--revision", "\(next)"], expect: 1).errors.contains("instance_not_found"))
            #expect(try await run(["list", "payments", "--revision", "999999"], expect: 1).errors.contains("future_revision"))
            let replay = try await run(["watch", "payments", "--from-revision", "1", "--count", "2", "-o", "json"])
            #expect(replay.output.split(separator: "\n").count == 2)
            #expect(try await run(["deregister", "payments", "i1"], expect: 1).errors.contains("instance_not_found"))

            // Leases.
            let grant = try Self.json(try await run(["lease", "grant", "5s", "-o", "json"]).output)
            let lease = try #require((grant["lease"] as? [String: Any])?["id"] as? Int)
            try await run(["register", "orders", "o1", "--endpoint", "http://o:1", "--lease", "\(lease)"])
            #expect(try await run(["lease", "keepalive", "\(lease)", "--once"]).output.contains("renewed"))
            #expect(try await run(["lease", "ttl", "\(lease)", "--keys"]).output.contains("default/orders/o1"))
            #expect(try await run(["lease", "list"]).output.contains("\(lease)"))
            #expect(try await run(["lease", "revoke", "\(lease)"]).output.contains("1 keys deleted"))
            #expect(
                try await run(["lease", "keepalive", "\(lease)", "--once"], expect: 1).errors.contains(
                    "lease_not_found"))
            try await run(["lease", "ttl", "\(lease)"], expect: 1)

            // Keys and transactions.
            #expect(try await run(["kv", "put", "config/a", "one"]).output.contains("put at revision"))
            try await run(["kv", "put", "config/b", "two"])
            let range = try await run(["kv", "get", "config/", "--prefix"])
            #expect(range.output.contains("config/a") && range.output.contains("two"))
            try await run(["kv", "get", "config/zzz"], expect: 1)
            let txn =
                #"{"compare":[{"key":"config/a","result":"equal","value":"one"}],"success":[{"put":{"key":"config/c","value":"3"}}]}"#
            #expect(try await run(["kv", "txn", txn]).output.contains("succeeded true"))
            #expect(
                try await run(["kv", "txn", "-"], input: txn.replacingOccurrences(of: "\"one\"", with: "\"x\"")).output
                    .contains("succeeded false"))
            #expect(try await run(["kv", "del", "config/", "--prefix"]).output.contains("deleted 3"))

            // Maintenance.
            let hashes = try await run(["hash"])
            let hashValues = Set(
                hashes.output.split(separator: "\n").dropFirst().compactMap { $0.split(separator: " ").last })
            #expect(hashValues.count == 1, "members disagree: \(hashes.output)")
            #expect(try await run(["compact", "2"]).output.contains("compacted up to 2"))
            try await run(["compact", "999999"], expect: 1)
            #expect(try await run(["member", "promote", "nobody"], expect: 1).errors.contains("membership_refused"))
            try await run(["member", "add", "n9", "not-an-address"], expect: 1)
            let others = cluster.nodes.map(\.name).filter { $0 != leaderName }
            let transfer = try await run(["transfer-leader", others[0]])
            #expect(transfer.output.contains("started"))
            try cluster.waitFor("leadership to move to \(others[0])") {
                cluster.nodes.indices.contains {
                    cluster.nodes[$0].name == others[0] && cluster.role(of: $0) == "leader"
                }
            }

            // One node down: commands fail over; status and hash report it and exit 3.
            await cluster.kill(0)
            #expect(try await run(["list"]).code == 0)
            try await run(["register", "payments", "i2", "--endpoint", "grpc://10.0.0.6:9000"])
            let degraded = try await run(["status"], expect: 3)
            #expect(degraded.output.contains("unreachable"))
            try await run(["hash", "-o", "json"], expect: 3)

            // Only the down node: unavailable, exit 3, with an actionable message.
            let downNode = "127.0.0.1:\(cluster.nodes[0].clientPort)"
            for command in [["list"], ["get", "payments", "i2"], ["status"], ["lease", "list"], ["leader"]] {
                let down = try await Self.run(command + ["--endpoints", downNode, "--timeout", "1s"], expect: 3)
                #expect(down.errors.contains("unavailable") || down.output.contains("unreachable"))
            }
        }
    }
}
