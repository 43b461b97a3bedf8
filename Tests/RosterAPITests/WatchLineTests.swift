// Goal: watch streams and long polls are newline-delimited JSON a client can parse line by line, with each
// line kind (event, progress, resync, error) in its documented shape. Method: take genuine event batches from a
// `RegistryState` (register, update, deregister, plain puts, a compaction), encode them with `WatchLines`, split
// on newlines and parse each line with JSONSerialization.
import Foundation
import HTTP
import Raft
import Registry
import RosterNode
import Testing

@testable import RosterAPI

private func lines(_ bytes: [UInt8]) throws -> [[String: Any]] {
    #expect(bytes.last == 0x0A, "every line ends in a newline")
    return try bytes.split(separator: 0x0A).map { try jsonObject(Array($0)) }
}

private func history() -> RegistryState {
    var state = RegistryState()
    var instance = sampleInstance(lease: nil)
    _ = state.apply(.registerInstance(instance), at: 1)
    instance.weight = 1
    _ = state.apply(
        .updateInstance(InstanceUpdate(name: instance.name, incarnation: instance.incarnation, weight: 1)), at: 2)
    _ = state.apply(.deregisterInstance(instance.name, incarnation: nil), at: 3)
    _ = state.apply(.put(PutRequest(key: Array("k".utf8), value: [0xFF])), at: 4)
    return state
}

@Suite("Watch lines")
struct WatchLineTests {
    @Test("events encode revision, type, cause, key and the value as an instance object or bytes")
    func events() throws {
        let state = history()
        let batch = try state.events(after: .zero, matching: .all)
        let parsed = try lines(WatchLines.batch(batch, includePrevious: true))
        #expect(parsed.count == 4)
        #expect(parsed.map { $0["cause"] as? String } == ["registered", "updated", "deregistered", "put"])
        #expect(parsed.map { $0["type"] as? String } == ["put", "put", "delete", "put"])
        #expect(parsed.map { $0["revision"] as? Int } == [1, 2, 3, 4])
        #expect(parsed[0]["key"] as? String == "prod/web/w-1")
        #expect((parsed[0]["instance"] as? [String: Any])?["weight"] as? Int == 50)
        #expect((parsed[1]["instance"] as? [String: Any])?["weight"] as? Int == 1)
        #expect((parsed[1]["prev_instance"] as? [String: Any])?["weight"] as? Int == 50)
        #expect(parsed[2]["instance"] == nil, "a delete carries no current value")
        #expect((parsed[2]["prev_instance"] as? [String: Any])?["id"] as? String == "w-1")
        #expect(parsed[3]["value_base64"] as? String == "/w==")
    }

    @Test("previous values are left out unless asked for")
    func noPrevious() throws {
        let batch = try history().events(after: .zero, matching: .all)
        let parsed = try lines(WatchLines.batch(batch, includePrevious: false))
        #expect(parsed.allSatisfy { $0["prev_instance"] == nil && $0["prev_value"] == nil })
    }

    @Test("an empty batch is a progress line")
    func progress() throws {
        let state = history()
        let batch = try state.events(after: state.revision, matching: .all)
        let parsed = try lines(WatchLines.batch(batch, includePrevious: false))
        #expect(parsed.count == 1)
        #expect((parsed[0]["progress"] as? [String: Any])?["revision"] as? Int == Int(state.revision.rawValue))
    }

    @Test("a compacted start is a resync line with the full matching state")
    func resync() throws {
        var state = history()
        _ = state.apply(.compact(Revision(3)), at: 5)
        let batch = try state.events(after: Revision(1), matching: .prefix(Array("k".utf8)))
        let parsed = try lines(WatchLines.batch(batch, includePrevious: false))
        let resync = try #require(parsed.first?["resync"] as? [String: Any])
        #expect(resync["revision"] as? Int == Int(state.revision.rawValue))
        let items = try #require(resync["items"] as? [[String: Any]])
        #expect(items.map { $0["key"] as? String } == ["k"])
    }

    @Test("the error line has the error object shape")
    func errorLine() throws {
        let parsed = try lines(
            WatchLines.error(APIError(rejection: .compactedRevision(Revision(1), compacted: Revision(5)))))
        let error = try #require(parsed.first?["error"] as? [String: Any])
        #expect(error["code"] as? String == "compacted")
    }

    @Test("a long poll answers once with the next index and the events")
    func longPoll() throws {
        let state = history()
        let response = WatchLines.longPollResponse(
            try state.events(after: Revision(2), matching: .all), includePrevious: false, context: testContext)
        let object = try jsonObject(response.body)
        #expect(object["revision"] as? Int == 4)
        #expect((object["events"] as? [[String: Any]])?.count == 2)
        #expect(response.header("X-Roster-Revision") == "4")
    }

    @Test("the stream head is chunked NDJSON and keepalive lines parse")
    func streamHead() throws {
        let head = String(decoding: WatchLines.streamHead(context: testContext, keepAlive: true), as: UTF8.self)
        #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(head.contains("Content-Type: application/x-ndjson\r\n"))
        #expect(head.hasSuffix("Transfer-Encoding: chunked\r\n\r\n"))
        let kept = try lines(WatchLines.keptAlive(LeaseID(3), ttlMilliseconds: 4_000))
        #expect(kept.first?["ttl_ms"] as? Int == 4_000)
    }
}
