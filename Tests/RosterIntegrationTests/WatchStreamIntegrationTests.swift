// Goal: a watch stream (`POST /v1/watch`) keeps, for every watch it carries, the promises of a single watch:
// exactly the matching events, tagged with the right id, in revision order, without gaps or duplicates, from
// history when asked, through back-pressure; a cancel or a refused create touches no other watch.
// Method: one real `roster` process on loopback; a raw socket client writes control lines and collects the
// NDJSON lines on a thread; writes go through the HTTP API; every wait polls against a deadline.
import Foundation
import RosterTestSupport
import Testing

@Suite("Watch streams on a real process", .serialized)
struct WatchStreamIntegrationTests {
    static func register(_ cluster: ProcessCluster, _ service: String, _ id: String) -> Int? {
        cluster.request(
            "PUT", "/v1/services/\(service)/instances/\(id)", on: 0, body: #"{"endpoints":["grpc://10.0.0.5:9000"]}"#)?.status
    }

    static func put(_ cluster: ProcessCluster, _ key: String, _ value: String) -> Int? {
        cluster.request("PUT", "/v1/kv/\(key)", on: 0, body: #"{"value":"\#(value)"}"#)?.status
    }

    /// The event lines of watch `id`, in arrival order.
    static func events(_ stream: StreamReader, watch id: Int) -> [[String: Any]] {
        stream.lines.filter { $0["type"] != nil && $0["watch"] as? Int == id }
    }

    static func lines(_ stream: StreamReader, _ kind: String, id: Int) -> [[String: Any]] {
        stream.lines.compactMap { $0[kind] as? [String: Any] }.filter { $0["id"] as? Int == id }
    }

    static func openStream(_ cluster: ProcessCluster, receiveBufferBytes: Int32? = nil) throws -> StreamReader {
        try #require(
            StreamReader(
                port: cluster.nodes[0].clientPort, method: "POST", path: "/v1/watch", receiveBufferBytes: receiveBufferBytes))
    }

    @Test("two watches on one stream each get exactly their events, tagged, in order; a cancel stops only its watch")
    func twoWatchesAndCancel() throws {
        let cluster = try ProcessCluster(size: 1)
        try cluster.startAll()
        _ = try cluster.waitForLeader()
        let stream = try Self.openStream(cluster)
        defer { stream.close() }
        stream.send(#"{"create":{"id":1,"service":"payments"}}"#, #"{"create":{"id":2,"prefix":"cfg/"}}"#)
        try cluster.waitFor("both created") { !Self.lines(stream, "created", id: 1).isEmpty && !Self.lines(stream, "created", id: 2).isEmpty }
        #expect(Self.register(cluster, "payments", "i1") == 200)
        #expect(Self.put(cluster, "cfg/a", "1") == 200)
        #expect(Self.register(cluster, "orders", "o1") == 200)
        #expect(Self.put(cluster, "cfg/b", "2") == 200)
        #expect(Self.register(cluster, "payments", "i2") == 200)
        try cluster.waitFor("both watches' events") {
            Self.events(stream, watch: 1).count == 2 && Self.events(stream, watch: 2).count == 2
        }
        #expect(Self.events(stream, watch: 1).compactMap { $0["key"] as? String } == ["default/payments/i1", "default/payments/i2"])
        #expect(Self.events(stream, watch: 2).compactMap { $0["key"] as? String } == ["cfg/a", "cfg/b"])
        let revisions = stream.lines.filter { $0["type"] != nil }.compactMap { $0["revision"] as? Int }
        #expect(revisions == revisions.sorted())
        #expect(Set(revisions).count == 4)

        stream.send(#"{"cancel":{"id":2}}"#)
        try cluster.waitFor("the cancel confirmed") { !Self.lines(stream, "canceled", id: 2).isEmpty }
        #expect(Self.lines(stream, "canceled", id: 2).first?["error"] == nil)
        #expect(Self.put(cluster, "cfg/c", "3") == 200)
        #expect(Self.register(cluster, "payments", "i3") == 200)
        // Watch 1's event comes after cfg/c's revision on the same connection: had watch 2 lived, its event was here.
        try cluster.waitFor("watch 1 sees i3") { Self.events(stream, watch: 1).count == 3 }
        #expect(Self.events(stream, watch: 2).count == 2)
        #expect(stream.lines.allSatisfy { $0["type"] == nil || $0["watch"] != nil })
        #expect(stream.isOpen)
    }

    @Test("a watch from a revision replays history; bad creates are refused by id and the stream goes on")
    func historyAndRefusals() throws {
        let cluster = try ProcessCluster(size: 1)
        try cluster.startAll()
        _ = try cluster.waitForLeader()
        for number in 0..<5 { #expect(Self.put(cluster, "h/\(number)", "\(number)") == 200) }
        let stream = try Self.openStream(cluster)
        defer { stream.close() }
        stream.send(
            #"{"create":{"id":5,"prefix":"h/","from_revision":1,"prev_value":true}}"#,
            #"{"create":{"id":6,"servic":"payments"}}"#, #"{"create":{"id":5,"service":"payments"}}"#,
            #"{"cancel":{"id":77}}"#, #"[]"#)
        try cluster.waitFor("five replayed events") { Self.events(stream, watch: 5).count == 5 }
        #expect(Self.events(stream, watch: 5).compactMap { $0["revision"] as? Int } == [1, 2, 3, 4, 5])
        try cluster.waitFor("four refusals") { stream.lines.filter { $0["canceled"] != nil }.count == 4 }
        let codes = stream.lines.compactMap { (($0["canceled"] as? [String: Any])?["error"] as? [String: Any])?["code"] as? String }
        #expect(codes == ["unknown_field", "duplicate_watch_id", "watch_not_found", "malformed_json"])
        #expect(Self.lines(stream, "canceled", id: 6).count == 1)
        #expect(Self.put(cluster, "h/5", "5") == 200)
        try cluster.waitFor("the live event after the refusals") { Self.events(stream, watch: 5).count == 6 }
        #expect(stream.isOpen)
    }

    @Test("a backed-up stream loses nothing: every watch catches up, gapless and without duplicates")
    func backedUpStreamLosesNothing() throws {
        let cluster = try ProcessCluster(size: 1)
        try cluster.startAll()
        _ = try cluster.waitForLeader()
        let stream = try Self.openStream(cluster, receiveBufferBytes: 4_096)
        defer { stream.close() }
        stream.send(#"{"create":{"id":1,"prefix":"big/"}}"#, #"{"create":{"id":2,"prefix":"big/","prev_value":true}}"#)
        try cluster.waitFor("both created") { stream.lines.filter { $0["created"] != nil }.count == 2 }
        stream.pause()
        // 150 puts of 16 KiB, each written to both watches (the second with its previous value): about 7 MiB,
        // far past the connection's 1 MiB high-water mark while the client does not read.
        let value = String(repeating: "v", count: 16 * 1024)
        var written: [Int] = []
        for number in 0..<150 {
            let result = cluster.request("PUT", "/v1/kv/big/\(number % 7)", on: 0, body: #"{"value":"\#(value)"}"#)
            #expect(result?.status == 200)
            if let revision = result?.headers["x-roster-revision"].flatMap({ Int($0) }) { written.append(revision) }
        }
        stream.resume()
        try cluster.waitFor("every event on both watches", seconds: 30) {
            Self.events(stream, watch: 1).count >= 150 && Self.events(stream, watch: 2).count >= 150
        }
        for id in [1, 2] {
            let revisions = Self.events(stream, watch: id).compactMap { $0["revision"] as? Int }
            #expect(revisions == written, "watch \(id)")
        }
        #expect(Self.events(stream, watch: 2).dropFirst(7).allSatisfy { $0["prev_value"] != nil })
        // Live publishing alternates the two watches (one chunk per revision); catching up from history after
        // the connection drained writes one watch's run, then the other's. A run shows the back-pressure path ran.
        let order = stream.lines.filter { $0["type"] != nil }.compactMap { $0["watch"] as? Int }
        #expect(zip(order, order.dropFirst()).contains { $0 == $1 }, "the stream never backed up; the test proves nothing")
        #expect(stream.isOpen)
    }
}
