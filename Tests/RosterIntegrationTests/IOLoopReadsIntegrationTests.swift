// Goal: serializable reads that the I/O loops answer from a published view of the applied state
// (`LocalReadServer`) are the Raft loop's answers byte for byte, are really answered there (counted in
// `roster_local_reads_total`), and keep the promise the Raft loop keeps: on a follower, a client that was told a
// write succeeded reads it on any connection to that node, at once, with no older revision after it. Linearizable
// reads on a follower, answered there after a read barrier, see every write acknowledged anywhere before they began;
// a follower that cannot confirm one (no leader) answers none from its view. With auth on, the I/O loops answer
// nothing, so no read passes by the permission check.
// Method: real `roster` processes (one, or three for the follower case) with two I/O threads; keep-alive
// connections that each make one request at a time; metrics read from /metrics.
import Foundation
import RosterTestSupport
import Testing

@Suite("Reads answered on I/O loops", .serialized)
struct IOLoopReadsIntegrationTests {
    /// A running cluster whose members each have two I/O threads, and the index of its leader.
    static func start(size: Int, flags: [String] = []) throws -> (cluster: ProcessCluster, leader: Int) {
        let cluster = try ProcessCluster(size: size, extraFlags: ["--io-threads", "2"] + flags)
        try cluster.startAll()
        return (cluster, try cluster.waitForLeader())
    }

    static func localReads(_ cluster: ProcessCluster, node: Int) -> Int {
        let text = cluster.request("GET", "/metrics", on: node)?.text ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("roster_local_reads_total ") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? -1
    }

    @Test("a keep-alive connection's reads are answered on the I/O loop, exactly as the Raft loop answers them")
    func sameAnswers() throws {
        let cluster = try Self.start(size: 1).cluster
        let port = cluster.nodes[0].clientPort
        for id in ["a", "b", "c"] {
            let put = TestHTTP.request("PUT", port: port, path: "/v1/services/web/instances/\(id)", body: #"{"endpoints":["http://\#(id):1"]}"#)
            #expect(put?.status == 200)
        }
        let paths = [
            "/v1/services/web?consistency=serializable", "/v1/services/web/instances/b?consistency=serializable",
            "/v1/services/web/instances/zz?consistency=serializable", "/v1/services?consistency=serializable",
            "/v1/kv/%2Fregistry?prefix=true&keys_only=true&consistency=serializable",
            "/v1/services/web?consistency=serializable&min_revision=2",
        ]
        let client = try #require(KeepAliveClient(port: port))
        _ = client.request("GET", "/healthz")  // The first request on a connection always goes to the Raft loop.
        // The first read after the writes finds no view of the current state: the Raft loop answers it and publishes one.
        _ = client.request("GET", paths[0])
        let before = Self.localReads(cluster, node: 0)
        var localAnswers: [HTTPResult] = []
        for path in paths { localAnswers.append(try #require(client.request("GET", path))) }
        let after = Self.localReads(cluster, node: 0)
        #expect(after - before == paths.count, "local reads \(before) → \(after)")

        // The same requests, each on a new connection: the first request of a connection is the Raft loop's.
        for (path, local) in zip(paths, localAnswers) {
            let raft = try #require(TestHTTP.request("GET", port: port, path: path))
            #expect(raft.status == local.status, "\(path)")
            #expect(raft.text == local.text, "\(path)")
            #expect(raft.headers == local.headers, "\(path)")
        }
    }

    @Test("on a follower, a write told to one connection is read at once on another, never an older revision after")
    func followerReadsItsOwnWrites() throws {
        let (cluster, leader) = try Self.start(size: 3)
        let follower = (leader + 1) % 3
        let port = cluster.nodes[follower].clientPort
        let writer = try #require(KeepAliveClient(port: port))
        let readers = try (0..<3).map { _ in try #require(KeepAliveClient(port: port)) }
        for reader in readers { _ = reader.request("GET", "/healthz") }
        let before = Self.localReads(cluster, node: follower)
        var lastRevision = [0, 0, 0]
        for number in 0..<60 {
            let put = try #require(writer.request("PUT", "/v1/kv/seq", body: #"{"value":"\#(number)"}"#))
            #expect(put.status == 200)
            // Two reads per connection after each write: the first finds the view older than the write and goes to the
            // Raft loop (asking for a new view), the second is answered from the new view on the I/O loop.
            for (index, reader) in readers.enumerated() {
                for _ in 0..<2 {
                    let get = try #require(reader.request("GET", "/v1/kv/seq?consistency=serializable"))
                    #expect(get.status == 200)
                    #expect(get.text.contains("\"value\":\"\(number)\""), "read after write \(number): \(get.text)")
                    let revision = Int(get.headers["x-roster-revision"] ?? "") ?? 0
                    #expect(revision >= lastRevision[index], "revision \(revision) after \(lastRevision[index])")
                    lastRevision[index] = revision
                }
            }
        }
        let after = Self.localReads(cluster, node: follower)
        #expect(after - before >= 60, "the I/O loops answered \(after - before) of 360 reads")
    }

    @Test("on a follower, linearizable reads answered after a read barrier see every write acknowledged on another member")
    func followerLinearizableReadsSeeOtherMembersWrites() throws {
        let (cluster, leader) = try Self.start(size: 3)
        let follower = (leader + 1) % 3
        let other = (leader + 2) % 3
        // Writes go through the other follower (forwarded to the leader), so the reading follower learns of them only
        // through replication: nothing but the barrier makes it wait for them.
        let writer = try #require(KeepAliveClient(port: cluster.nodes[other].clientPort))
        let reader = try #require(KeepAliveClient(port: cluster.nodes[follower].clientPort))
        _ = reader.request("GET", "/healthz")  // The first request on a connection always goes to the Raft loop.
        let before = Self.localReads(cluster, node: follower)
        var lastRevision = 0
        for number in 0..<40 {
            let put = try #require(writer.request("PUT", "/v1/kv/lin", body: #"{"value":"\#(number)"}"#))
            #expect(put.status == 200)
            let acknowledged = Int(put.headers["x-roster-revision"] ?? "") ?? 0
            for _ in 0..<2 {
                let get = try #require(reader.request("GET", "/v1/kv/lin"))  // linearizable: the default
                #expect(get.status == 200)
                #expect(get.text.contains("\"value\":\"\(number)\""), "read after write \(number): \(get.text)")
                let revision = Int(get.headers["x-roster-revision"] ?? "") ?? 0
                #expect(revision >= acknowledged && revision >= lastRevision, "revision \(revision) after \(acknowledged)")
                lastRevision = revision
            }
        }
        let after = Self.localReads(cluster, node: follower)
        #expect(after - before >= 40, "the I/O loops answered \(after - before) of 80 linearizable reads")
    }

    @Test("a follower that cannot confirm a linearizable read answers none from its view")
    func unconfirmedReadsAreNotAnswered() throws {
        let (cluster, leader) = try Self.start(size: 3, flags: ["--request-timeout-ms", "2000"])
        let follower = (leader + 1) % 3
        let reader = try #require(KeepAliveClient(port: cluster.nodes[follower].clientPort, receiveTimeoutSeconds: 60))
        _ = reader.request("GET", "/healthz")
        #expect(cluster.request("PUT", "/v1/kv/held", on: leader, body: #"{"value":"1"}"#)?.status == 200)
        try cluster.waitFor("the follower answers linearizable reads on its I/O loop") {
            let get = reader.request("GET", "/v1/kv/held")
            #expect(get?.status == 200)
            return Self.localReads(cluster, node: follower) > 0
        }
        // The rest of the cluster gone, the follower can confirm nothing: its barriers fail and the reads go to its
        // Raft loop, which refuses them in turn.
        cluster.kill(leader)
        cluster.kill((leader + 2) % 3)
        let before = Self.localReads(cluster, node: follower)
        for _ in 0..<3 {
            let get = try #require(reader.request("GET", "/v1/kv/held"))
            #expect(get.status >= 500, "\(get.status) \(get.text)")
        }
        #expect(Self.localReads(cluster, node: follower) == before)
    }

    @Test("a cluster of one member answers linearizable reads on the I/O loops, each seeing the writes before it")
    func soleVoterLinearizableReads() throws {
        let cluster = try Self.start(size: 1).cluster
        let port = cluster.nodes[0].clientPort
        let writer = try #require(KeepAliveClient(port: port))
        let reader = try #require(KeepAliveClient(port: port))
        _ = reader.request("GET", "/healthz")
        let before = Self.localReads(cluster, node: 0)
        for number in 0..<40 {
            let put = try #require(writer.request("PUT", "/v1/services/solo/instances/i\(number)", body: #"{"endpoints":["http://h:1"]}"#))
            #expect(put.status == 200)
            for _ in 0..<2 {
                let get = try #require(reader.request("GET", "/v1/services/solo"))  // linearizable: the default
                #expect(get.status == 200)
                #expect(get.text.contains("\"id\":\"i\(number)\""), "read after write \(number)")
            }
        }
        let after = Self.localReads(cluster, node: 0)
        #expect(after - before >= 40, "the I/O loops answered \(after - before) of 80 linearizable reads")
    }

    @Test("with auth on, reads without a token are refused: the I/O loops answer nothing")
    func authOnAnswersNothingLocally() throws {
        let cluster = try Self.start(size: 1, flags: ["--auth-password-iterations", "1000"]).cluster
        let port = cluster.nodes[0].clientPort
        let user = cluster.request("POST", "/v1/auth/users", on: 0, body: #"{"name":"root","password":"pw"}"#, timeoutSeconds: 60)
        #expect(user?.status == 200)
        #expect(cluster.request("PUT", "/v1/auth/users/root/roles/root", on: 0)?.status == 200)
        let client = try #require(KeepAliveClient(port: port))
        let open = try #require(client.request("GET", "/v1/services?consistency=serializable"))
        #expect(open.status == 200)
        #expect(cluster.request("POST", "/v1/auth/enable", on: 0)?.status == 200)
        let before = Self.localReads(cluster, node: 0)
        for _ in 0..<5 {
            let refused = try #require(client.request("GET", "/v1/services?consistency=serializable"))
            #expect(refused.status == 401, "\(refused.status) \(refused.text)")
        }
        #expect(Self.localReads(cluster, node: 0) == before)
    }
}
