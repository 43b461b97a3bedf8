// Goal: a node whose client connections are carried by I/O threads (`--io-threads N`) answers exactly as one
// whose Raft loop carries them (`--io-threads 0`): every client gets its own answers, in order, on its own
// connection; a watch sees every write once, in revision order; serializable reads never go back in time on
// one connection; and SIGTERM still ends the process cleanly.
// Method: one real `roster` process per case, once per mode (0 and 3 threads, more than this machine's default,
// so connections spread over several loops); clients run on threads; every wait polls against a deadline.
import Foundation
import Glibc
import RosterTestSupport
import Testing

@Suite("Client connections on I/O threads", .serialized)
struct IOThreadsIntegrationTests {
    static func start(ioThreads: Int) throws -> ProcessCluster {
        let cluster = try ProcessCluster(size: 1, extraFlags: ["--io-threads", "\(ioThreads)"])
        try cluster.startAll()
        _ = try cluster.waitForLeader()
        return cluster
    }

    static let workers = 24
    static let perWorker = 10

    @Test("concurrent clients each read back their own registrations; a watch sees every one, in revision order",
          arguments: [0, 3])
    func concurrentClientsAndWatch(ioThreads: Int) throws {
        let cluster = try Self.start(ioThreads: ioThreads)
        let port = cluster.nodes[0].clientPort
        let stream = try #require(StreamReader(port: port, method: "POST", path: "/v1/watch"))
        defer { stream.close() }
        stream.send(#"{"create":{"id":1,"service":"spread"}}"#)
        try cluster.waitFor("the watch created") { stream.lines.contains { $0["created"] != nil } }

        let failures = LargeAnswers.populate(count: Self.workers * Self.perWorker, connections: Self.workers) { number in
            let id = "i\(number)"
            guard let put = TestHTTP.request(
                "PUT", port: port, path: "/v1/services/spread/instances/\(id)", body: #"{"endpoints":["http://h:\#(number + 1000)"]}"#),
                put.status == 200
            else { return nil }
            guard var get = TestHTTP.request("GET", port: port, path: "/v1/services/spread/instances/\(id)?consistency=serializable")
            else { return nil }
            if !get.text.contains("\"http://h:\(number + 1000)\"") { get.status = 599 }  // someone else's answer
            return get
        }
        #expect(failures.isEmpty, "\(failures.prefix(3))")

        let total = Self.workers * Self.perWorker
        try cluster.waitFor("every registration on the watch") {
            stream.lines.filter { $0["type"] != nil }.count >= total
        }
        let events = stream.lines.filter { $0["type"] != nil }
        let revisions = events.compactMap { $0["revision"] as? Int }
        #expect(revisions.count == total)
        #expect(revisions == revisions.sorted() && Set(revisions).count == total, "revision order, no duplicates")
        #expect(Set(events.compactMap { $0["key"] as? String }).count == total)
    }

    @Test("one keep-alive connection's serializable reads see its own writes and never an older revision",
          arguments: [0, 3])
    func readsFollowWritesOnOneConnection(ioThreads: Int) throws {
        let cluster = try Self.start(ioThreads: ioThreads)
        let client = try #require(KeepAliveClient(port: cluster.nodes[0].clientPort))
        var lastRevision = 0
        for number in 0..<50 {
            let put = try #require(client.request("PUT", "/v1/kv/seq", body: #"{"value":"\#(number)"}"#))
            #expect(put.status == 200)
            let get = try #require(client.request("GET", "/v1/kv/seq?consistency=serializable"))
            #expect(get.status == 200)
            #expect(get.text.contains("\"value\":\"\(number)\""), "read \(number) sees the write before it: \(get.text)")
            let revision = Int(get.headers["x-roster-revision"] ?? "") ?? 0
            #expect(revision >= lastRevision, "revision \(revision) after \(lastRevision)")
            lastRevision = revision
        }
    }

    @Test("SIGTERM stops a node with I/O threads cleanly, connections open")
    func gracefulStop() throws {
        let cluster = try Self.start(ioThreads: 3)
        let port = cluster.nodes[0].clientPort
        let stream = try #require(StreamReader(port: port, method: "POST", path: "/v1/watch"))
        defer { stream.close() }
        let idle = try #require(KeepAliveClient(port: port))
        #expect(idle.request("GET", "/healthz")?.status == 200)
        let ended = cluster.kill(0, signal: SIGTERM)
        #expect(ended?.isCleanExit == true, "\(ended.map { "\($0)" } ?? "still running"): \(cluster.logsTail())")
        let log = (try? String(contentsOfFile: cluster.nodes[0].logPath, encoding: .utf8)) ?? ""
        #expect(log.contains("stopped"))
        try cluster.waitFor("the watch stream closed by the server") { !stream.isOpen }
    }
}

/// One keep-alive HTTP/1.1 connection, one request at a time, so a test can make claims about what one
/// connection sees.
final class KeepAliveClient {
    private let descriptor: Int32

    init?(port: UInt16, receiveTimeoutSeconds: Int = 5) {
        let timeout = receiveTimeoutSeconds * 1_000_000
        guard let descriptor = LoopbackSocket.connect(port: port, receiveTimeoutMicroseconds: timeout) else { return nil }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    func request(_ method: String, _ path: String, body: String? = nil) -> HTTPResult? {
        let payload = Array((body ?? "").utf8)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if body != nil { head += "Content-Type: application/json\r\nContent-Length: \(payload.count)\r\n" }
        let bytes = Array((head + "\r\n").utf8) + payload
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { return nil }
            sent += written
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { return nil }
            response += buffer[0..<count]
            if let parsed = TestHTTP.parse(response), parsed.complete { return parsed.result }
        }
    }
}
