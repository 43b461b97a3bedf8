// Goal: under the default number of I/O threads, the Raft loop carries one client connection itself (a lone
// client's writes then skip the hand-offs between threads) and the I/O loops every other one: a lone connection's
// serializable reads are answered by the Raft loop, a second connection's by an I/O loop, and once the first closes
// the next new connection is the Raft loop's again. Every answer is the same either way (the relay's own tests).
// Method: one real `roster` process with the default settings, on a machine with at least two cores (the default
// then runs I/O threads); keep-alive connections that make one request at a time; which loop answered a read is
// told by `roster_local_reads_total` (reads an I/O loop answered from its view), read on a connection of its own.
import Foundation
import RosterTestSupport
import Testing

@Suite("The Raft loop's own client connection", .serialized)
struct RaftLoopConnectionIntegrationTests {
    static let reads = 5
    static let read = "/v1/services/web?consistency=serializable"

    static func metric(_ name: String, on client: KeepAliveClient) -> Int {
        let text = client.request("GET", "/metrics")?.text ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? -1
    }

    /// How many of `reads` serializable reads on `client` an I/O loop answered (after the connection's first request
    /// and a read that makes sure a view of the current state is published, both of which the Raft loop answers).
    static func readsAnsweredOnIOLoops(_ client: KeepAliveClient, metrics: KeepAliveClient) throws -> Int {
        _ = try #require(client.request("GET", "/healthz"))
        _ = try #require(client.request("GET", read))
        let before = metric("roster_local_reads_total", on: metrics)
        for _ in 0..<reads { #expect(client.request("GET", read)?.status == 200) }
        return metric("roster_local_reads_total", on: metrics) - before
    }

    @Test("one connection at a time is the Raft loop's, the others an I/O loop's; once it closes the next takes its place",
          .enabled(if: ProcessInfo.processInfo.activeProcessorCount >= 2, "the default runs no I/O threads on one core"))
    func raftLoopKeepsOneConnection() throws {
        let cluster = try ProcessCluster(size: 1)
        try cluster.startAll()
        _ = try cluster.waitForLeader()
        let port = cluster.nodes[0].clientPort
        let put = cluster.request("PUT", "/v1/services/web/instances/a", on: 0, body: #"{"endpoints":["http://a:1"]}"#)
        #expect(put?.status == 200)
        // Once the node counts this connection alone, every connection of the setup is closed there: the Raft loop's
        // place is this connection's or free.
        var first = KeepAliveClient(port: port)
        try #require(first != nil)
        try cluster.waitFor("the setup's connections closed") { Self.metric("roster_client_connections", on: first!) == 1 }
        var second = KeepAliveClient(port: port)
        try #require(second != nil)
        let answered = [
            try Self.readsAnsweredOnIOLoops(first!, metrics: first!), try Self.readsAnsweredOnIOLoops(second!, metrics: first!),
        ]
        #expect(answered.sorted() == [0, Self.reads], "exactly one of two connections is the Raft loop's: \(answered)")

        // Close the Raft loop's connection; the next new one takes its place, the relayed one stays relayed.
        if answered[0] == 0 { first = nil } else { second = nil }
        let relayed = try #require(first ?? second)
        try cluster.waitFor("the Raft loop's connection closed") { Self.metric("roster_client_connections", on: relayed) == 1 }
        let next = try #require(KeepAliveClient(port: port))
        #expect(try Self.readsAnsweredOnIOLoops(next, metrics: relayed) == 0, "the next connection is the Raft loop's")
        #expect(try Self.readsAnsweredOnIOLoops(relayed, metrics: relayed) == Self.reads, "the relayed one is still relayed")
    }
}
