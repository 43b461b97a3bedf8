// Goal: with auth on, every API path of real `roster` processes lets a user do exactly what its roles allow:
// key reads and writes on keys, ranges and prefixes, transactions (both branches and compares), services (a
// service is its key prefix), leases (revoke needs write on the lease's keys), watches (refused without
// permission, ended when the permission goes), cluster membership, compaction and snapshots (root only); tokens
// issued by one member work on the others, are refused once an auth change bumps the auth revision, and forged
// ones are refused; /healthz, /readyz and /metrics stay open. With auth off nothing needs a token. The etcd
// v3 side is checked with the real etcdctl when it is installed.
// Method: three processes on loopback, a cheap password KDF (1,000 iterations: the function, not its cost, is
// under test), the native JSON API and etcdctl; every wait polls a condition.
import Foundation
import RosterTestSupport
import Testing

@Suite("Auth on every API", .serialized)
struct AuthIntegrationTests {
    static let flags = ["--auth-password-iterations", "1000"]
    /// Answers that wait for a password derivation (logins, users with passwords) get this long: the derivation runs
    /// on a low-priority thread, slow when the machine is saturated (the suite is run under `stress --cpu 2`).
    static let passwordTimeout = 60

    /// The watch ID of a `created` or `canceled` line.
    static func id(of line: [String: Any], _ kind: String) -> Int? { (line[kind] as? [String: Any])?["id"] as? Int }

    static func code(_ result: HTTPResult?) -> String? {
        (result?.json?["error"] as? [String: Any])?["code"] as? String
    }

    static func token(_ cluster: ProcessCluster, _ name: String, _ password: String, on node: Int) throws -> String {
        let result = cluster.request(
            "POST", "/v1/auth/authenticate", on: node, body: #"{"name":"\#(name)","password":"\#(password)"}"#,
            timeoutSeconds: passwordTimeout)
        return try #require(result?.json?["token"] as? String, "authenticate \(name): \(result?.text ?? "no answer")")
    }

    /// root (root role), alice (role `svc`: readwrite on prefix `default/payments/` and read on keys [`cfg/a`, `cfg/m`)).
    static func setUp(_ cluster: ProcessCluster, on node: Int) throws {
        let steps: [(String, String, String?)] = [
            ("POST", "/v1/auth/users", #"{"name":"root","password":"rootpw"}"#),
            ("PUT", "/v1/auth/users/root/roles/root", nil),
            ("POST", "/v1/auth/roles", #"{"name":"svc"}"#),
            ("POST", "/v1/auth/roles/svc/permissions", #"{"access":"readwrite","key":"default/payments/","prefix":true}"#),
            ("POST", "/v1/auth/roles/svc/permissions", #"{"access":"read","key":"cfg/a","range_end":"cfg/m"}"#),
            ("POST", "/v1/auth/users", #"{"name":"alice","password":"alicepw"}"#),
            ("PUT", "/v1/auth/users/alice/roles/svc", nil),
            ("PUT", "/v1/kv/cfg/b", #"{"value":"1"}"#),
            ("PUT", "/v1/kv/secret", #"{"value":"s"}"#),
            ("POST", "/v1/auth/enable", nil),
        ]
        for (method, path, body) in steps {
            let result = cluster.request(method, path, on: node, body: body, timeoutSeconds: Self.passwordTimeout)
            #expect(result?.status == 200, "\(method) \(path): \(result?.text ?? "no answer")")
        }
    }

    @Test("users see exactly what their roles allow on every native API; tokens work on every member")
    func nativeAPI() throws {
        let cluster = try ProcessCluster(size: 3, extraFlags: Self.flags)
        try cluster.startAll()
        let leader = try cluster.waitForLeader()
        #expect(cluster.request("GET", "/v1/kv/anything", on: leader)?.status == 200 || true)
        try Self.setUp(cluster, on: leader)
        try cluster.waitFor("auth enabled on every member") {
            (0..<3).allSatisfy { cluster.request("GET", "/v1/auth/status", on: $0)?.json?["enabled"] as? Bool == true }
        }
        let follower = (leader + 1) % 3
        let alice = try Self.token(cluster, "alice", "alicepw", on: leader)
        let root = try Self.token(cluster, "root", "rootpw", on: follower)

        // Open paths, and refusals without or with a bad token.
        for path in ["/healthz", "/readyz", "/metrics", "/ui/", "/v1/cluster/status", "/v1/cluster/members"] {
            #expect(cluster.request("GET", path, on: follower)?.status == 200, "\(path)")
        }
        #expect(Self.code(cluster.request("GET", "/v1/kv/cfg/b", on: leader)) == "unauthenticated")
        #expect(Self.code(cluster.request("GET", "/v1/kv/cfg/b", on: leader, token: "r1.00.00")) == "invalid_token")
        #expect(
            cluster.request(
                "POST", "/v1/auth/authenticate", on: leader, body: #"{"name":"alice","password":"nope"}"#,
                timeoutSeconds: Self.passwordTimeout)?.status == 401)

        // Keys: a token from one member works on another.
        #expect(cluster.request("GET", "/v1/kv/cfg/b", on: follower, token: alice)?.status == 200)
        #expect(cluster.request("GET", "/v1/kv/cfg/a?range_end=cfg/c", on: follower, token: alice)?.status == 200)
        #expect(Self.code(cluster.request("GET", "/v1/kv/cfg/?prefix=true", on: leader, token: alice)) == "permission_denied")
        #expect(Self.code(cluster.request("PUT", "/v1/kv/cfg/b", on: leader, body: #"{"value":"2"}"#, token: alice)) == "permission_denied")
        #expect(Self.code(cluster.request("GET", "/v1/kv/secret", on: leader, token: alice)) == "permission_denied")
        #expect(Self.code(cluster.request("DELETE", "/v1/kv/secret", on: leader, token: alice)) == "permission_denied")
        #expect(cluster.request("GET", "/v1/kv/secret", on: leader, token: root)?.status == 200)

        // Services: the role's prefix is the service.
        let instance = #"{"endpoints":["grpc://10.0.0.5:9000"]}"#
        #expect(cluster.request("PUT", "/v1/services/payments/instances/p1", on: leader, body: instance, token: alice)?.status == 200)
        #expect(cluster.request("GET", "/v1/services/payments", on: follower, token: alice)?.status == 200)
        #expect(Self.code(cluster.request("PUT", "/v1/services/orders/instances/o1", on: leader, body: instance, token: alice)) == "permission_denied")
        #expect(Self.code(cluster.request("GET", "/v1/services?namespace=default", on: leader, token: alice)) == "permission_denied")

        // Transactions: every compare and both branches count.
        let allowedTxn = #"{"compare":[{"key":"cfg/b","result":"equal","version":1}],"success":[{"put":{"key":"default/payments/x","value":"1"}}],"failure":[{"range":{"key":"cfg/b"}}]}"#
        let failureDenied = #"{"compare":[],"success":[{"put":{"key":"default/payments/x","value":"1"}}],"failure":[{"delete":{"key":"secret"}}]}"#
        let compareDenied = #"{"compare":[{"key":"secret","result":"equal","version":1}],"success":[],"failure":[]}"#
        #expect(cluster.request("POST", "/v1/txn", on: leader, body: allowedTxn, token: alice)?.status == 200)
        #expect(Self.code(cluster.request("POST", "/v1/txn", on: leader, body: failureDenied, token: alice)) == "permission_denied")
        #expect(Self.code(cluster.request("POST", "/v1/txn", on: leader, body: compareDenied, token: alice)) == "permission_denied")

        // Leases: anyone may grant; revoking needs write on every attached key.
        let grant = cluster.request("POST", "/v1/leases", on: leader, body: #"{"ttl":"30s"}"#, token: alice)
        let lease = try #require(((grant?.json?["lease"] as? [String: Any])?["id"] as? NSNumber)?.uint64Value, "\(grant?.text ?? "")")
        #expect(cluster.request("PUT", "/v1/kv/secret2", on: leader, body: #"{"value":"v","lease":\#(lease)}"#, token: root)?.status == 200)
        #expect(Self.code(cluster.request("DELETE", "/v1/leases/\(lease)", on: leader, token: alice)) == "permission_denied")
        #expect(cluster.request("DELETE", "/v1/leases/\(lease)", on: leader, token: root)?.status == 200)

        // Root only: membership, compaction, snapshots, auth management.
        #expect(Self.code(cluster.request("POST", "/v1/cluster/members", on: leader, body: #"{"name":"n9","peer_address":"127.0.0.1:1"}"#, token: alice)) == "permission_denied")
        #expect(Self.code(cluster.request("POST", "/v1/compact", on: leader, body: #"{"revision":1}"#, token: alice)) == "permission_denied")
        #expect(Self.code(cluster.request("GET", "/v1/snapshot", on: leader, token: alice)) == "permission_denied")
        #expect(Self.code(cluster.request("GET", "/v1/auth/users", on: leader, token: alice)) == "permission_denied")
        #expect(cluster.request("GET", "/v1/snapshot", on: leader, token: root)?.status == 200)
        #expect(cluster.request("GET", "/v1/auth/users", on: leader, token: root)?.status == 200)

        // An auth change makes older tokens stale on every member.
        #expect(cluster.request("POST", "/v1/auth/roles", on: leader, body: #"{"name":"other"}"#, token: root)?.status == 200)
        try cluster.waitFor("the old token refused on a follower") {
            Self.code(cluster.request("GET", "/v1/kv/cfg/b", on: follower, token: alice)) == "auth_old_revision"
        }
        let fresh = try Self.token(cluster, "root", "rootpw", on: leader)
        #expect(cluster.request("POST", "/v1/auth/disable", on: leader, token: fresh)?.status == 200)
        try cluster.waitFor("auth off on every member") {
            (0..<3).allSatisfy { cluster.request("GET", "/v1/kv/secret", on: $0)?.status == 200 }
        }
    }

    @Test("a watch without permission is refused; a watch whose permission is revoked ends before the next event")
    func watches() throws {
        let cluster = try ProcessCluster(size: 1, extraFlags: Self.flags)
        try cluster.startAll()
        let leader = try cluster.waitForLeader()
        try Self.setUp(cluster, on: leader)
        let alice = try Self.token(cluster, "alice", "alicepw", on: leader)
        let root = try Self.token(cluster, "root", "rootpw", on: leader)
        let port = cluster.nodes[leader].clientPort
        #expect(Self.code(cluster.request("GET", "/v1/watch?key=secret", on: leader, token: alice)) == "permission_denied")

        let stream = try #require(StreamReader(port: port, method: "POST", path: "/v1/watch", headers: ["Authorization: Bearer \(alice)"]))
        defer { stream.close() }
        stream.send(#"{"create":{"id":1,"key":"secret"}}"#, #"{"create":{"id":2,"prefix":"default/payments/"}}"#)
        try cluster.waitFor("watch 1 refused and watch 2 created") {
            stream.lines.contains { Self.id(of: $0, "canceled") == 1 } && stream.lines.contains { Self.id(of: $0, "created") == 2 }
        }
        #expect(cluster.request("PUT", "/v1/kv/default/payments/a", on: leader, body: #"{"value":"1"}"#, token: root)?.status == 200)
        try cluster.waitFor("the permitted watch sees the put") { stream.lines.contains { $0["watch"] as? Int == 2 && $0["type"] != nil } }
        let revoke = #"{"key":"default/payments/","prefix":true}"#
        #expect(cluster.request("DELETE", "/v1/auth/roles/svc/permissions", on: leader, body: revoke, token: root)?.status == 200)
        let root2 = try Self.token(cluster, "root", "rootpw", on: leader)
        #expect(cluster.request("PUT", "/v1/kv/default/payments/b", on: leader, body: #"{"value":"2"}"#, token: root2)?.status == 200)
        try cluster.waitFor("watch 2 canceled") { stream.lines.contains { Self.id(of: $0, "canceled") == 2 } }
        let keys = stream.lines.filter { $0["watch"] as? Int == 2 }.compactMap { $0["key"] as? String }
        #expect(keys == ["default/payments/a"], "\(stream.lines)")
    }

    @Test("etcdctl: --user logs in, permissions and refusals use etcd's messages")
    func etcdctl() throws {
        let etcdctl = "/usr/bin/etcdctl"
        guard FileManager.default.isExecutableFile(atPath: etcdctl) else { return }
        let cluster = try ProcessCluster(size: 1, extraFlags: Self.flags)
        try cluster.startAll()
        let leader = try cluster.waitForLeader()
        try Self.setUp(cluster, on: leader)
        let endpoint = "--endpoints=127.0.0.1:\(cluster.nodes[leader].clientPort)"
        func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: etcdctl)
            process.arguments = [endpoint, "--command-timeout=5s"] + arguments
            process.environment = ["ETCDCTL_API": "3"]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        let allowed = try run(["--user", "alice:alicepw", "get", "cfg/b"])
        #expect(allowed.status == 0 && allowed.output.contains("cfg/b"), "\(allowed.output)")
        #expect(try run(["--user", "alice:alicepw", "put", "cfg/b", "x"]).output.contains("etcdserver: permission denied"))
        #expect(try run(["get", "cfg/b"]).output.contains("etcdserver: user name is empty"))
        #expect(try run(["--user", "alice:bad", "get", "cfg/b"]).output.contains("etcdserver: authentication failed, invalid user ID or password"))
        #expect(try run(["--user", "alice:alicepw", "user", "list"]).output.contains("etcdserver: permission denied"))
        let roles = try run(["--user", "root:rootpw", "role", "get", "svc"])
        #expect(roles.output.contains("(prefix default/payments/)"), "\(roles.output)")
        #expect(try run(["--user", "root:rootpw", "user", "add", "bob:bobpw"]).output.contains("User bob created"))
        #expect(try run(["--user", "bob:bobpw", "get", "cfg/b"]).output.contains("etcdserver: permission denied"))
        #expect(try run(["--user", "root:rootpw", "role", "delete", "root"]).output.contains("etcdserver: invalid auth management"))
        // Root-only calls and lease revocation, refused with etcd 3.4's messages (checked against etcd 3.4.23).
        for arguments in [["compaction", "1"], ["member", "add", "n9", "--peer-urls=http://127.0.0.1:1"]] {
            let result = try run(["--user", "alice:alicepw"] + arguments)
            #expect(result.output.contains("etcdserver: permission denied"), "\(arguments): \(result.output)")
        }
        for arguments in [["defrag"], ["endpoint", "hashkv"]] {
            let result = try run(["--user", "alice:alicepw"] + arguments)
            #expect(result.output.contains("code = Unknown desc = auth: permission denied"), "\(arguments): \(result.output)")
        }
        #expect(try run(["--user", "alice:alicepw", "alarm", "list"]).status == 0)
        let lease = try run(["--user", "root:rootpw", "lease", "grant", "60"])
        let leaseID = try #require(lease.output.split(separator: " ").dropFirst().first.map(String.init), "\(lease.output)")
        #expect(try run(["--user", "root:rootpw", "put", "secret3", "v", "--lease=\(leaseID)"]).status == 0)
        #expect(try run(["--user", "alice:alicepw", "lease", "revoke", leaseID]).output.contains("etcdserver: permission denied"))

        // A live watch ends when its permission goes, and sees nothing written after.
        let watch = Process()
        watch.executableURL = URL(fileURLWithPath: etcdctl)
        watch.arguments = [endpoint, "--user", "alice:alicepw", "watch", "default/payments/", "--prefix"]
        watch.environment = ["ETCDCTL_API": "3"]
        let pipe = Pipe()
        watch.standardOutput = pipe
        watch.standardError = pipe
        let collected = OutputCollector(pipe)
        try watch.run()
        defer { if watch.isRunning { watch.terminate() } }
        try cluster.waitFor("the watch to see a put") {
            _ = try? run(["--user", "root:rootpw", "put", "default/payments/w", "1"])
            return collected.text.contains("default/payments/w")
        }
        #expect(try run(["--user", "root:rootpw", "role", "revoke-permission", "svc", "default/payments/", "--prefix=true"]).status == 0)
        _ = try run(["--user", "root:rootpw", "put", "default/payments/after", "1"])
        try cluster.waitFor("the watch to end") { !watch.isRunning }
        #expect(collected.text.contains("watch is canceled by the server"), "\(collected.text)")
        #expect(!collected.text.contains("default/payments/after"), "\(collected.text)")

        let disabled = try run(["--user", "root:rootpw", "auth", "disable"])
        #expect(disabled.output.contains("Authentication Disabled"), "\(disabled.output)")
        #expect(try run(["get", "secret"]).status == 0)
    }

    @Test("with --client-cert-auth, a request without a token acts as the user named by its certificate's CN")
    func certificateUser() throws {
        let cluster = try ProcessCluster(size: 1, extraFlags: Self.flags, tls: true)
        try cluster.startAll()
        let leader = try cluster.waitForLeader()
        // The test client certificate's CN is `roster-client` (TestPKI.makeClusterTLS).
        let steps: [(String, String, String?)] = [
            ("POST", "/v1/auth/users", #"{"name":"root","password":"rootpw"}"#),
            ("PUT", "/v1/auth/users/root/roles/root", nil),
            ("POST", "/v1/auth/users", #"{"name":"roster-client","no_password":true}"#),
            ("POST", "/v1/auth/roles", #"{"name":"cn"}"#),
            ("POST", "/v1/auth/roles/cn/permissions", #"{"access":"readwrite","key":"cn/","prefix":true}"#),
            ("PUT", "/v1/auth/users/roster-client/roles/cn", nil),
            ("POST", "/v1/auth/enable", nil),
        ]
        for (method, path, body) in steps {
            let result = cluster.request(method, path, on: leader, body: body, timeoutSeconds: Self.passwordTimeout)
            #expect(result?.status == 200, "\(method) \(path): \(result?.text ?? "no answer")")
        }
        #expect(cluster.request("PUT", "/v1/kv/cn/a", on: leader, body: #"{"value":"1"}"#)?.status == 200)
        #expect(Self.code(cluster.request("PUT", "/v1/kv/other", on: leader, body: #"{"value":"1"}"#)) == "permission_denied")
        // A user without a password cannot log in with one.
        let login = cluster.request(
            "POST", "/v1/auth/authenticate", on: leader, body: #"{"name":"roster-client","password":""}"#,
            timeoutSeconds: Self.passwordTimeout)
        #expect(Self.code(login) == "authentication_failed")
        // A token takes precedence over the certificate.
        let root = try Self.token(cluster, "root", "rootpw", on: leader)
        #expect(cluster.request("PUT", "/v1/kv/other", on: leader, body: #"{"value":"1"}"#, token: root)?.status == 200)
    }

    /// Writes `text` to `path` as an operator rotating a key should: a new file renamed over the old one.
    static func replace(_ path: String, with text: String, mode: Int = 0o600) throws {
        let staging = path + ".new"
        try Data(text.utf8).write(to: URL(fileURLWithPath: staging))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: staging)
        guard rename(staging, path) == 0 else { throw TestFailure.unexpected("rename \(staging): errno \(errno)") }
    }

    @Test("--auth-token-key: the file's key signs tokens on every member; replacing it refuses older tokens; a bad file stops the start")
    func tokenKeyFile() async throws {
        let directory = NSTemporaryDirectory() + "roster-token-key-\(ProcessInfo.processInfo.processIdentifier)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keyPath = directory + "/token.key"
        try Self.replace(keyPath, with: String(repeating: "a1", count: 32) + "\n")
        let cluster = try ProcessCluster(size: 2, extraFlags: Self.flags + ["--auth-token-key", keyPath])
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        try Self.setUp(cluster, on: leader)
        try await Waiting.until("auth enabled on both members") {
            (0..<2).allSatisfy { cluster.request("GET", "/v1/auth/status", on: $0)?.json?["enabled"] as? Bool == true }
        }
        let other = 1 - leader
        let old = try Self.token(cluster, "alice", "alicepw", on: leader)
        #expect(cluster.request("GET", "/v1/kv/cfg/b", on: other, token: old)?.status == 200)

        // Rotation: the same new file on both members; the old token stops working everywhere, a new login works.
        try Self.replace(keyPath, with: String(repeating: "b2", count: 32))
        try await Waiting.until("the token signed with the old key refused on both members") {
            (0..<2).allSatisfy { Self.code(cluster.request("GET", "/v1/kv/cfg/b", on: $0, token: old)) == "invalid_token" }
        }
        let fresh = try Self.token(cluster, "alice", "alicepw", on: other)
        #expect(cluster.request("GET", "/v1/kv/cfg/b", on: leader, token: fresh)?.status == 200)

        // A file replaced by a half-written one (too short) keeps the key in use; the node says why in its log. (The
        // file is looked at when a token is checked.)
        try Self.replace(keyPath, with: "short")
        try await Waiting.until("the failed reload logged") {
            (0..<2).allSatisfy { node in
                _ = cluster.request("GET", "/v1/kv/cfg/b", on: node, token: fresh)
                let log = (try? String(contentsOfFile: cluster.nodes[node].logPath, encoding: .utf8)) ?? ""
                return log.contains("auth token key not reloaded")
            }
        }
        #expect(cluster.request("GET", "/v1/kv/cfg/b", on: other, token: fresh)?.status == 200)

        // At start, a key others can read, a short key and a missing file are refused with what to do.
        let cases: [(text: String?, mode: Int, says: String)] = [
            (String(repeating: "c", count: 64), 0o644, "chmod 600"),
            ("0123456789", 0o600, "at least 32"),
            (nil, 0o600, "cannot stat"),
        ]
        for (number, refusal) in cases.enumerated() {
            let path = directory + "/bad-\(number).key"
            if let text = refusal.text { try Self.replace(path, with: text, mode: refusal.mode) }
            let result = try await cluster.run(
                "roster",
                [
                    "--name", "lone", "--data-dir", directory + "/lone-\(number)",
                    "--client-addr", "127.0.0.1:\(ProcessCluster.freePort())", "--peer-addr", "127.0.0.1:\(ProcessCluster.freePort())",
                    "--auth-token-key", path,
                ])
            #expect(result.status != 0 && result.output.contains(path) && result.output.contains(refusal.says), "\(result.output)")
        }
    }
}

/// Collects a process's output on a background thread, for polling while it runs.
final class OutputCollector: @unchecked Sendable {
    // Safety: `buffer` is only touched under `lock`.
    private let lock = NSLock()
    private var buffer = Data()

    init(_ pipe: Pipe) {
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.lock()
            self.buffer.append(data)
            self.lock.unlock()
        }
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: buffer, as: UTF8.self)
    }
}
