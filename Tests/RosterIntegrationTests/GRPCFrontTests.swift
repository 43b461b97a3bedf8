// Goal: with the HTTP/2 layer of etcd connections on the I/O loops (`GRPCFront`), a member answers the etcd API
// exactly as one whose Raft loop runs it (`--io-threads 0`): the same Range answers (serializable, linearizable, at
// a revision, count only, of a missing key), the reads of the I/O loops counted as theirs; a follower's linearizable
// Range calls, answered on its I/O loops after a read barrier, see every write acknowledged on another member; and a
// watch whose client
// stops reading falls behind and, once it reads again, catches up with every event, in order (the watch's lag and
// its drain now cross threads as `StreamProgress`).
// Method: real `roster` processes and a raw h2c client (`H2TestClient`); each call's HEADERS and DATA leave in one
// write, as gRPC-Go's clients send them, so the I/O loop sees the whole request in one read. Waits poll against
// deadlines.
import EtcdAPI
import Foundation
import HTTP2
import Protobuf
import RosterTestSupport
import Testing

@Suite("etcd calls with the HTTP/2 layer on the I/O loops", .serialized)
struct GRPCFrontTests {
    static func startNode(ioThreads: Int) throws -> ProcessCluster {
        let cluster = try ProcessCluster(size: 1, extraFlags: ["--io-threads", "\(ioThreads)"])
        try cluster.startAll()
        _ = try cluster.waitForLeader()
        return cluster
    }

    /// A unary call's HEADERS and DATA (with END_STREAM) in one write.
    static func callInOneWrite(_ client: H2TestClient, _ stream: StreamID, _ path: String, _ message: some ProtoMessage) {
        let block = client.encoder.encode(H2TestClient.requestHeaders(path))
        let headers = Frame.headers(stream: stream, fragment: block, endStream: false, endHeaders: true, priority: nil, padding: nil)
        let data = Frame.data(stream: stream, payload: H2TestClient.grpcMessage(message.encoded()), endStream: true, padding: nil)
        client.send(headers.encoded + data.encoded)
    }

    /// The one message of a finished unary call, decoded; records an issue and returns nil if the call failed.
    static func answer<Message: ProtoMessage>(
        _ client: H2TestClient, _ stream: StreamID, as type: Message.Type, _ cluster: ProcessCluster
    ) -> Message? {
        let outcome = client.outcome(of: stream)
        guard case .status(0, _, _) = outcome, let body = client.bodies[stream], body.count >= 5 else {
            Issue.record("stream \(stream) ended \(outcome)\n\(cluster.logsTail())")
            return nil
        }
        return try? Message(decoding: Array(body.dropFirst(5)))
    }

    static func localReads(_ cluster: ProcessCluster) -> Int {
        let metrics = cluster.request("GET", "/metrics", on: 0)?.text ?? ""
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("roster_local_reads_total ") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    }

    /// What a Range answer says, without the header's cluster and member IDs (each node has its own).
    struct RangeOutcome: Equatable {
        var revision: Int64
        var kvs: [[Int64]]
        var values: [[UInt8]]
        var count: Int64
        var more: Bool

        init(_ response: RangeResponse) {
            revision = response.header?.revision ?? -1
            kvs = response.kvs.map { [$0.createRevision, $0.modRevision, $0.version] }
            values = response.kvs.map(\.value)
            count = response.count
            more = response.more
        }
    }

    /// Writes three keys and runs the same Range calls; returns their outcomes.
    static func rangeOutcomes(ioThreads: Int) throws -> (outcomes: [RangeOutcome], localReads: Int) {
        let cluster = try startNode(ioThreads: ioThreads)
        defer { cluster.stopAll() }
        let client = try #require(H2TestClient(port: cluster.nodes[0].clientPort))
        try client.handshake()
        var stream: StreamID = 1
        func next() -> StreamID {
            defer { stream = StreamID(rawValue: stream.rawValue + 2) }
            return stream
        }
        for (key, value) in [("front/a", "1"), ("front/b", "22"), ("front/c", "333")] {
            var put = EtcdAPI.PutRequest()
            put.key = Array(key.utf8)
            put.value = Array(value.utf8)
            let id = next()
            callInOneWrite(client, id, "/etcdserverpb.KV/Put", put)
            _ = try #require(answer(client, id, as: PutResponse.self, cluster))
        }
        var ranges: [EtcdAPI.RangeRequest] = []
        var prefix = EtcdAPI.RangeRequest()
        prefix.key = Array("front/".utf8)
        prefix.rangeEnd = Array("front0".utf8)
        prefix.serializable = true
        ranges.append(prefix)
        var linearizable = prefix
        linearizable.serializable = false
        ranges.append(linearizable)
        var atRevision = prefix
        atRevision.revision = 2
        ranges.append(atRevision)
        var countOnly = prefix
        countOnly.countOnly = true
        ranges.append(countOnly)
        var limited = prefix
        limited.limit = 1
        ranges.append(limited)
        var missing = EtcdAPI.RangeRequest()
        missing.key = Array("front/none".utf8)
        missing.serializable = true
        ranges.append(missing)
        var outcomes: [RangeOutcome] = []
        for range in ranges {
            let id = next()
            callInOneWrite(client, id, GRPCBadInputTests.rangePath, range)
            outcomes.append(RangeOutcome(try #require(answer(client, id, as: RangeResponse.self, cluster))))
        }
        if ioThreads > 0 {
            // The first read after a write may find no view of the current state yet (it then asks for one and goes
            // to the Raft loop); once one is published, the I/O loop answers.
            try cluster.waitFor("a Range answered on an I/O loop") {
                let id = next()
                callInOneWrite(client, id, GRPCBadInputTests.rangePath, prefix)
                guard let answer = answer(client, id, as: RangeResponse.self, cluster) else { return true }
                #expect(RangeOutcome(answer) == outcomes[0])
                return localReads(cluster) > 0
            }
        }
        return (outcomes, localReads(cluster))
    }

    @Test("Range calls answered on an I/O loop match those the Raft loop answers")
    func rangeAnswersMatch() throws {
        let relayed = try Self.rangeOutcomes(ioThreads: 2)
        let direct = try Self.rangeOutcomes(ioThreads: 0)
        #expect(relayed.outcomes == direct.outcomes)
        #expect(relayed.localReads > 0)
        #expect(direct.localReads == 0)
        #expect(direct.outcomes.first?.values == [Array("1".utf8), Array("22".utf8), Array("333".utf8)])
        #expect(direct.outcomes.count == 6 && direct.outcomes[2].values == [Array("1".utf8), Array("22".utf8)])
    }

    @Test("a follower's linearizable Range calls, answered after a read barrier, see the writes made on another member")
    func followerLinearizableRanges() throws {
        let cluster = try ProcessCluster(size: 3, extraFlags: ["--io-threads", "2"])
        try cluster.startAll()
        defer { cluster.stopAll() }
        let leader = try cluster.waitForLeader()
        let follower = (leader + 1) % 3
        let writer = try #require(H2TestClient(port: cluster.nodes[(leader + 2) % 3].clientPort))
        let reader = try #require(H2TestClient(port: cluster.nodes[follower].clientPort))
        try writer.handshake()
        try reader.handshake()
        func localReads() -> Int {
            let metrics = cluster.request("GET", "/metrics", on: follower)?.text ?? ""
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("roster_local_reads_total ") }
            return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        }
        let before = localReads()
        var stream: UInt32 = 1
        for number in 0..<30 {
            var put = EtcdAPI.PutRequest()
            put.key = Array("front/lin".utf8)
            put.value = Array("\(number)".utf8)
            Self.callInOneWrite(writer, StreamID(rawValue: stream), "/etcdserverpb.KV/Put", put)
            let written = try #require(Self.answer(writer, StreamID(rawValue: stream), as: PutResponse.self, cluster))
            var range = EtcdAPI.RangeRequest()
            range.key = Array("front/lin".utf8)  // linearizable: etcd's default
            Self.callInOneWrite(reader, StreamID(rawValue: stream), GRPCBadInputTests.rangePath, range)
            let read = try #require(Self.answer(reader, StreamID(rawValue: stream), as: RangeResponse.self, cluster))
            #expect(read.kvs.first?.value == Array("\(number)".utf8), "read after write \(number)")
            #expect((read.header?.revision ?? 0) >= (written.header?.revision ?? 0))
            stream += 2
        }
        #expect(localReads() - before >= 15, "the I/O loops answered \(localReads() - before) of 30 Range calls")
    }

    @Test("a watch whose client stops reading falls behind, then catches up with every event in order", arguments: [2, 0])
    func stalledWatchCatchesUp(ioThreads: Int) throws {
        let cluster = try Self.startNode(ioThreads: ioThreads)
        defer { cluster.stopAll() }
        let watcher = try #require(H2TestClient(port: cluster.nodes[0].clientPort))
        // A small stream window: the node can send the watch almost nothing until the client opens it.
        try watcher.handshake(settings: [.init(.initialWindowSize, 1_024)])
        var create = WatchCreateRequest()
        create.key = Array("lag/".utf8)
        create.rangeEnd = Array("lag0".utf8)
        var request = WatchRequest()
        request.requestUnion = .createRequest(create)
        let block = watcher.encoder.encode(H2TestClient.requestHeaders("/etcdserverpb.Watch/Watch"))
        watcher.send(.headers(stream: 1, fragment: block, endStream: false, endHeaders: true, priority: nil, padding: nil))
        watcher.send(.data(stream: 1, payload: H2TestClient.grpcMessage(request.encoded()), endStream: false, padding: nil))
        _ = try watcher.waitFor("the watch's response headers") { frame in
            if case .headers(1, _, _, _, _, _) = frame { return true }
            return false
        }

        // More than the watch's lag bound (1 MiB) of events while the client reads nothing more.
        let writer = try #require(H2TestClient(port: cluster.nodes[0].clientPort))
        try writer.handshake()
        let writes = 200
        let value = [UInt8](repeating: 0x76, count: 8 * 1_024)
        for index in 0..<writes {
            var put = EtcdAPI.PutRequest()
            put.key = Array("lag/\(index)".utf8)
            put.value = value
            let stream = StreamID(rawValue: UInt32(2 * index + 1))
            Self.callInOneWrite(writer, stream, "/etcdserverpb.KV/Put", put)
            #expect(Self.answer(writer, stream, as: PutResponse.self, cluster) != nil)
        }

        // The client reads again: open the stream's and the connection's windows wide, and collect every event.
        watcher.send(.windowUpdate(stream: 0, increment: 1 << 30))
        watcher.send(.windowUpdate(stream: 1, increment: 1 << 30))
        var revisions: [Int64] = []
        var decoded = 0
        try cluster.waitFor("all \(writes) events on the watch", seconds: 30) {
            watcher.poll()
            let body = watcher.bodies[1] ?? []
            while decoded + 5 <= body.count {
                let length = Int(body[decoded + 1]) << 24 | Int(body[decoded + 2]) << 16 | Int(body[decoded + 3]) << 8
                    | Int(body[decoded + 4])
                guard decoded + 5 + length <= body.count else { break }
                if let response = try? WatchResponse(decoding: Array(body[(decoded + 5)..<(decoded + 5 + length)])) {
                    revisions += response.events.compactMap { $0.kv?.modRevision }
                }
                decoded += 5 + length
            }
            return revisions.count >= writes
        }
        // Every write is one revision, from 1; each event arrives once, in order.
        #expect(revisions == (1...Int64(writes)).map { $0 }, "\(revisions.prefix(10))…")
        #expect(cluster.request("GET", "/healthz", on: 0)?.status == 200)
    }
}
