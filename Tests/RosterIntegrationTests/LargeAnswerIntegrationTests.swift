// Goal (issue 13, point 1): an answer larger than a connection's outbound bound (8 MiB) is streamed to the
// socket as it drains, never built whole and never dropped: a 20 MiB listing of a real service is read whole
// through raw HTTP (by a slow reader, while the node's resident memory stays far below baseline plus the
// listing), RosterClient and rosterctl; pipelined answers keep request order behind it; a watch's resync line
// of the same size arrives whole and the watch goes on; a large key range is read whole; a reader that stops
// is cut and the node logs why. Method: one real `roster` process on loopback, populated over 16 concurrent
// connections (each registration is valid: 12 metadata entries of 1,000 bytes); the slow reader reads 64 KiB,
// pauses 5 ms (load shape, not synchronisation) and loops while VmRSS is sampled from /proc; every wait for
// state polls against a deadline.
import Foundation
import RosterClient
import RosterTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Large answers on a real process", .serialized)
struct LargeAnswerIntegrationTests {
    static let instanceCount = 1_700
    static let metadataEntries = 12

    static func startNode(_ flags: [String] = []) throws -> ProcessCluster {
        let cluster = try ProcessCluster(size: 1, extraFlags: flags)
        try cluster.startAll()
        _ = try cluster.waitForLeader()
        return cluster
    }

    /// Registers `instanceCount` instances of service `big`, about 20 MiB of JSON.
    static func registerBigService(_ cluster: ProcessCluster) throws {
        let port = cluster.nodes[0].clientPort
        let failures = LargeAnswers.populate(count: instanceCount) { number in
            TestHTTP.request(
                "PUT", port: port, path: "/v1/services/big/instances/i-\(number)",
                body: LargeAnswers.instanceBody(number, entries: metadataEntries), timeoutSeconds: 30)
        }
        #expect(failures.isEmpty, "\(failures.prefix(3))")
    }

    /// Reads a `Connection: close` answer at a slow pace, sampling the node's RSS; returns head, body, peak RSS.
    static func slowRead(_ path: String, port: UInt16, pid: Int32) throws -> (head: String, body: [UInt8], peakRSS: Int) {
        let socket = try #require(PacedSocket(port: port))
        socket.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        var peak = 0
        var reads = 0
        while socket.read(upTo: 64 * 1024) {
            reads += 1
            if reads % 8 == 0 { peak = max(peak, LargeAnswers.residentBytes(pid) ?? 0) }
            Waiting.pace(milliseconds: 5)
        }
        let head = try #require(LargeAnswers.head(socket.received[...]))
        let (body, consumed, ended) = LargeAnswers.dechunk(socket.received[head.bodyStart...])
        #expect(ended && head.bodyStart + consumed == socket.received.count, "the chunked body ends cleanly")
        return (head.text, body, peak)
    }

    static func instanceIDs(_ body: [UInt8]) throws -> [String] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let instances = try #require(object["instances"] as? [[String: Any]])
        return instances.compactMap { $0["id"] as? String }
    }

    @Test("a 20 MiB listing is read whole by a slow reader, RosterClient and rosterctl, with the node's RSS bounded")
    func largeListing() async throws {
        let cluster = try Self.startNode()
        let port = cluster.nodes[0].clientPort
        let pid = try #require(cluster.nodes[0].process?.processIdentifier)
        try Self.registerBigService(cluster)
        let expected = Set((0..<Self.instanceCount).map { "i-\($0)" })

        let baseline = try #require(LargeAnswers.residentBytes(pid))
        let started = ContinuousClock.now
        let (head, body, peak) = try Self.slowRead("/v1/services/big", port: port, pid: pid)
        let drainTime = ContinuousClock.now - started
        #expect(head.hasPrefix("HTTP/1.1 200"))
        #expect(head.contains("Transfer-Encoding: chunked") && head.contains("X-Roster-Revision: "))
        #expect(body.count > 20_000_000, "listing of \(body.count) bytes")
        #expect(Set(try Self.instanceIDs(body)) == expected)
        // Baseline plus the listing would be the old whole-answer cost (had it not been dropped); the stream
        // costs the connection's buffers. Half the listing is a generous bound well below that.
        #expect(peak - baseline < body.count / 2, "RSS \(baseline) -> peak \(peak) while draining \(body.count) bytes")
        print("large listing: \(body.count) bytes drained in \(drainTime); node RSS baseline \(baseline / 1024) KiB, peak \(peak / 1024) KiB (+\((peak - baseline) / 1024) KiB)")

        let serializable = try #require(TestHTTP.request("GET", port: port, path: "/v1/services/big?consistency=serializable", timeoutSeconds: 30))
        #expect(serializable.headers["x-roster-leader-contact-ms"] != nil)
        #expect(Set(try Self.instanceIDs(serializable.body)) == expected)  // TestHTTP removed the chunk framing

        var configuration = RosterClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: port)])
        configuration.attemptTimeout = .seconds(30)
        configuration.callTimeout = .seconds(60)
        let listing = try await RosterClient(configuration: configuration).instances(of: "big")
        #expect(Set(listing.instances.map(\.id)) == expected)
        #expect(listing.instances.allSatisfy { $0.metadata.count == Self.metadataEntries })

        let command = try Self.rosterctl(["list", "big", "-o", "json", "--timeout", "60s", "--endpoints", "127.0.0.1:\(port)"])
        #expect(command.code == 0, "\(command.errors)")
        #expect(Set(try Self.instanceIDs(Array(command.output.utf8))) == expected)
    }

    @Test("pipelined answers keep request order behind a streamed listing; a 20 MiB resync line arrives whole")
    func orderAndResync() throws {
        let cluster = try Self.startNode()
        let port = cluster.nodes[0].clientPort
        try Self.registerBigService(cluster)

        let pipelined = try #require(PacedSocket(port: port))
        pipelined.send(
            "GET /v1/services/big HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/services/nothing HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        while pipelined.read(upTo: 1 << 20) {}
        let all = pipelined.received[...]
        let first = try #require(LargeAnswers.head(all))
        let (listing, consumed, ended) = LargeAnswers.dechunk(all[first.bodyStart...])
        #expect(ended && first.text.hasPrefix("HTTP/1.1 200"))
        #expect(try Self.instanceIDs(listing).count == Self.instanceCount)
        let rest = String(decoding: all[(first.bodyStart + consumed)...], as: UTF8.self)
        let second = try #require(rest.range(of: "\"instances\":[]"))
        let third = try #require(rest.range(of: "{\"status\":\"ok\"}"))
        #expect(second.upperBound < third.lowerBound, "answers in request order")

        // Revision 1 left the 16 MiB history window long ago: the watch starts with a resync of all 20 MiB.
        let watch = try #require(PacedSocket(port: port, receiveBufferBytes: 1 << 20))
        watch.send("GET /v1/watch?service=big&from_revision=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        var lines: [[String: Any]] = []
        var registeredAfter = false
        var scanned = 0
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && !lines.contains(where: { $0["type"] as? String == "put" }) {
            guard watch.read(upTo: 1 << 20) else { break }
            // Parse only once a line has ended (`}` newline, then the chunk's CRLF): lines are 20 MB.
            let from = max(0, scanned - 3)
            scanned = watch.received.count
            guard LargeAnswers.find([0x7D, 0x0A, 0x0D, 0x0A], in: watch.received[from...]) != nil,
                let head = LargeAnswers.head(watch.received[...])
            else { continue }
            let data = LargeAnswers.dechunk(watch.received[head.bodyStart...]).data
            lines = data.split(separator: 10).compactMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
            if !registeredAfter, lines.contains(where: { $0["resync"] != nil }) {
                registeredAfter = true
                #expect(TestHTTP.request("PUT", port: port, path: "/v1/services/big/instances/late", body: #"{"endpoints":["http://h:1"]}"#)?.status == 200)
            }
        }
        let seen = "\(lines.count) lines, \(watch.received.count) bytes: \(String(decoding: watch.received.prefix(600), as: UTF8.self))"
        let resync = try #require(lines.first?["resync"] as? [String: Any], "the first line is the resync; got \(seen)\n\(cluster.logsTail())")
        #expect((resync["items"] as? [Any])?.count == Self.instanceCount)
        #expect(lines.last?["key"] as? String == "default/big/late", "the watch goes on after the resync")
    }

    @Test("a 12 MiB key range is read whole; a reader that stops is cut and the node logs who and why")
    func rangeAndStalledReader() throws {
        // The bound must not cut this test's own reader of the whole range: at 500 ms it once did in CI (the
        // range's JSON ended early), when that reader parsed the growing answer after every piece (quadratic, in
        // a debug build, on a loaded 2-core machine). The reader no longer does, and the margin covers a test
        // process kept off the CPU; the stalled reader below is waited for on a condition.
        let cluster = try Self.startNode(["--client-stall-ms", "3000"])
        let port = cluster.nodes[0].clientPort
        let value = String(repeating: "v", count: 500_000)
        let failures = LargeAnswers.populate(count: 24, connections: 8) { number in
            TestHTTP.request("PUT", port: port, path: "/v1/kv/cfg/\(number)", body: #"{"value":"\#(value)"}"#, timeoutSeconds: 30)
        }
        #expect(failures.isEmpty, "\(failures.prefix(3))")

        let range = try #require(TestHTTP.request("GET", port: port, path: "/v1/kv/cfg/?prefix=true", timeoutSeconds: 30))
        #expect(range.status == 200)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(range.body)) as? [String: Any])
        #expect(object["count"] as? Int == 24)
        #expect((object["kvs"] as? [[String: Any]])?.allSatisfy { ($0["value"] as? String)?.count == 500_000 } == true)

        let stalled = try #require(PacedSocket(port: port, receiveBufferBytes: 16 * 1024))
        stalled.send("GET /v1/kv/cfg/?prefix=true HTTP/1.1\r\nHost: x\r\n\r\n")
        stalled.read(upTo: 16 * 1024)
        try cluster.waitFor("the node to cut the stalled reader") {
            let log = (try? String(contentsOfFile: cluster.nodes[0].logPath, encoding: .utf8)) ?? ""
            return log.contains("cut a client connection") && log.contains("read nothing of a streamed answer")
        }
        while stalled.read(upTo: 1 << 20) {}
        #expect(stalled.received.count < 12_000_000, "the connection ended before the answer did")
        #expect(TestHTTP.request("GET", port: port, path: "/healthz")?.status == 200, "the node serves on")
    }

    // MARK: - rosterctl

    static func rosterctl(_ arguments: [String]) throws -> (code: Int32, output: String, errors: String) {
        let result = try ProcessCluster.runTool(
            ProcessCluster.packageRoot + "/.build/debug/rosterctl", arguments, separateErrors: true)
        return (result.status, result.output, result.errors)
    }
}
