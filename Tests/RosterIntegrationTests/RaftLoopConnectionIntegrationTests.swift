// Goal: under the default number of I/O threads, the Raft loop carries one client connection itself, a client's that
// writes (its writes then skip the hand-offs between threads), and hands it to an I/O loop once that client reads,
// so reads stay on the I/O loops; every other connection is an I/O loop's, and the place goes to the next new
// connection once free. Answers are the same either way (the relay's own tests), and a moved connection keeps
// working. An h2c connection (etcd's clients send every call, reads too, on one) moves at once, with what it sent; a
// TLS connection is never the Raft loop's (its I/O loop does the cryptography).
// Method: one real `roster` process with the default settings, on a machine with at least two cores (the default
// then runs I/O threads); keep-alive connections that make one request at a time; which loop carries a connection is
// read from `roster_client_connections_on_raft_loop`, and which answered a read from `roster_local_reads_total`
// (reads an I/O loop answered from its view), both on a connection of their own.
import EtcdAPI
import Foundation
import RosterTestSupport
import Testing

@Suite("The Raft loop's own client connection", .serialized)
struct RaftLoopConnectionIntegrationTests {
    static func metric(_ name: String, on client: KeepAliveClient) -> Int {
        let text = client.request("GET", "/metrics")?.text ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? -1
    }

    static func register(_ id: String, on client: KeepAliveClient) -> Int? {
        client.request("PUT", "/v1/services/web/instances/\(id)", body: #"{"endpoints":["http://\#(id):1"]}"#)?.status
    }

    /// A single member with the default settings, and a reader's connection on an I/O loop once every connection of the
    /// setup is gone (if the Raft loop took it, its first read moved it).
    static func startWithReader() throws -> (cluster: ProcessCluster, port: UInt16, metrics: KeepAliveClient) {
        let cluster = try ProcessCluster(size: 1)
        try cluster.startAll()
        _ = try cluster.waitForLeader()
        let port = cluster.nodes[0].clientPort
        let metrics = try #require(KeepAliveClient(port: port))
        try cluster.waitFor("the setup's connections closed, the reader on an I/O loop") {
            Self.metric("roster_client_connections", on: metrics) == 1
                && Self.metric("roster_client_connections_on_raft_loop", on: metrics) == 0
        }
        return (cluster, port, metrics)
    }

    @Test("a writer's connection is the Raft loop's until it reads; others are relayed; the place goes to the next writer",
          .enabled(if: ProcessInfo.processInfo.activeProcessorCount >= 2, "the default runs no I/O threads on one core"))
    func writerKeepsRaftLoopUntilItReads() throws {
        let (cluster, port, metrics) = try Self.startWithReader()

        let writer = try #require(KeepAliveClient(port: port))
        for id in ["a", "b", "c"] { #expect(Self.register(id, on: writer) == 200) }
        #expect(Self.metric("roster_client_connections_on_raft_loop", on: metrics) == 1, "the writer's is the Raft loop's")
        let other = try #require(KeepAliveClient(port: port))
        #expect(Self.register("d", on: other) == 200)
        #expect(Self.metric("roster_client_connections_on_raft_loop", on: metrics) == 1, "a second connection is relayed")

        // The writer reads: its connection moves, keeps answering, and its reads are then the I/O loop's.
        #expect(writer.request("GET", "/v1/services/web?consistency=serializable")?.status == 200)
        try cluster.waitFor("the writer's connection moved to an I/O loop") {
            Self.metric("roster_client_connections_on_raft_loop", on: metrics) == 0
        }
        #expect(Self.register("e", on: writer) == 200)
        _ = writer.request("GET", "/v1/services/web?consistency=serializable")  // publishes a view of the new state
        let before = Self.metric("roster_local_reads_total", on: metrics)
        for _ in 0..<5 { #expect(writer.request("GET", "/v1/services/web?consistency=serializable")?.status == 200) }
        #expect(Self.metric("roster_local_reads_total", on: metrics) - before == 5, "the moved connection's reads")
        #expect(Self.metric("roster_client_connections", on: metrics) == 3)

        // The place is free: the next new connection takes it, and gives it back when it closes.
        var next = KeepAliveClient(port: port)
        #expect(next.map { Self.register("f", on: $0) } == 200)
        #expect(Self.metric("roster_client_connections_on_raft_loop", on: metrics) == 1, "the next connection took the place")
        next = nil
        try cluster.waitFor("the place freed by a close") {
            Self.metric("roster_client_connections_on_raft_loop", on: metrics) == 0
        }
    }

    @Test("an h2c connection the Raft loop took moves at once to an I/O loop, with what it sent, and is answered there",
          .enabled(if: ProcessInfo.processInfo.activeProcessorCount >= 2, "the default runs no I/O threads on one core"))
    func http2MovesAtOnce() throws {
        let (cluster, port, metrics) = try Self.startWithReader()
        let client = try #require(H2TestClient(port: port))
        try client.handshake()
        var request = EtcdAPI.RangeRequest()
        request.key = Array("/registry".utf8)
        client.call(1, "/etcdserverpb.KV/Range", body: H2TestClient.grpcMessage(request.encoded()))
        guard case .status(let code, _, _) = client.outcome(of: 1) else {
            Issue.record("the Range call ended without trailers\n\(cluster.logsTail())")
            return
        }
        #expect(code == 0)
        #expect(Self.metric("roster_client_connections", on: metrics) == 2)
        #expect(Self.metric("roster_client_connections_on_raft_loop", on: metrics) == 0, "the h2c connection moved")
    }

    @Test("a TLS client's connection is never the Raft loop's, though it writes",
          .enabled(if: ProcessInfo.processInfo.activeProcessorCount >= 2, "the default runs no I/O threads on one core"))
    func tlsIsRelayed() throws {
        let cluster = try ProcessCluster(size: 1, tls: true)
        try cluster.startAll()
        _ = try cluster.waitForLeader()
        for id in ["a", "b", "c"] {
            let put = cluster.request("PUT", "/v1/services/web/instances/\(id)", on: 0, body: #"{"endpoints":["http://x:1"]}"#)
            #expect(put?.status == 200)
            let metrics = cluster.request("GET", "/metrics", on: 0)?.text ?? ""
            #expect(metrics.contains("roster_client_connections_on_raft_loop 0\n"), "after registering \(id)")
        }
    }
}
