// Goal: instance listings answered through `InstanceJSONCache` are byte-identical to encoding every instance
// afresh, and a read never returns a stale encoding: after an update, a deregistration, a lease expiry, a
// re-registration or a snapshot install (even one from a different history that reuses a key and revision).
// The cache stays within its byte bound. Method: a real `RegistryState` driven through the commands, each
// listing encoded with one long-lived cache and compared with a cache-less encoding and with the instances
// decoded from the state, parsed back with JSONSerialization.
import Foundation
import HTTP
import Raft
import Registry
import RosterNode
import Testing

@testable import RosterAPI

private struct State {
    var registry = RegistryState()
    var index: UInt64 = 0

    mutating func apply(_ command: RegistryCommand) {
        index += 1
        let result = registry.apply(command, at: index)
        if case .rejected(let rejection) = result { Issue.record("rejected \(command): \(rejection)") }
    }

    func listing(_ service: String = "web") throws -> InstanceList {
        try registry.instances(namespace: "prod", service: service)
    }
}

/// Instances with strings that need escapes, non-ASCII text, many metadata keys out of order, extreme numbers.
private func variedInstances() -> [ServiceInstance] {
    var metadata: [String: String] = [:]
    for number in 0..<20 { metadata["key-\(19 - number)"] = "value \(number)" }
    return [
        ServiceInstance(namespace: "prod", service: "web", id: "a"),
        ServiceInstance(
            namespace: "prod", service: "web", id: "b", version: "v\"1\"\\2", endpoints: ["http://x/?q=\"y\"\\z"],
            metadata: ["zone": "a\nb\tc\r\u{8}\u{C}\u{1F}", "é": "ünïcödé ✓ 𝄞", "k\"q\\": "quoted key"], weight: UInt32(Int32.max),
            status: .draining, lease: LeaseID(UInt64.max), incarnation: UInt64.max),
        ServiceInstance(
            namespace: "prod", service: "web", id: "c:1@h", version: "", endpoints: [], metadata: metadata, weight: 0,
            status: .up, lease: nil, incarnation: 0),
        ServiceInstance(
            namespace: "prod", service: "web", id: "d", version: "1.0", endpoints: ["grpc://10.0.0.5:9000", "tcp://h:1"],
            metadata: ["b": "2", "a": "1", "B": "3"], weight: 7, lease: LeaseID(1), incarnation: 1_700_000_000_000),
    ]
}

private let readContext = ReadContext(revision: 42, consistency: .linearizable, leaderContactAgeMilliseconds: 0)

/// The listing body as the encoder wrote it before the cache: every instance encoded from its decoded form.
private func referenceBody(_ list: InstanceList) -> [UInt8] {
    var writer = JSONWriter()
    writer.beginObject()
    writer.field("revision", readContext.revision.rawValue)
    writer.key("instances")
    writer.beginArray()
    for instance in list.instances { writer.instance(instance) }
    writer.endArray()
    writer.endObject()
    return writer.bytes
}

private func cachedBody(_ list: InstanceList, _ cache: inout InstanceJSONCache) -> [UInt8] {
    APIResponse.encode(.read(.instances(list), readContext), context: testContext, cache: &cache).body
}

/// The instances as an independent JSON parser reads them back.
private func parsedIDs(_ body: [UInt8]) throws -> [String] {
    let object = try jsonObject(body)
    let instances = try #require(object["instances"] as? [[String: Any]])
    return instances.compactMap { $0["id"] as? String }
}

@Suite("Instance JSON cache")
struct InstanceJSONCacheTests {
    @Test("cold and warm listings are byte-identical to encoding each instance afresh")
    func byteIdentical() throws {
        var state = State()
        state.apply(.grantLease(id: LeaseID(1), ttlMilliseconds: 10_000, grantedAtMilliseconds: 0))
        state.apply(.grantLease(id: LeaseID(UInt64.max), ttlMilliseconds: 10_000, grantedAtMilliseconds: 0))
        for instance in variedInstances() { state.apply(.registerInstance(instance)) }
        let list = try state.listing()
        #expect(list.records.count == 4)
        var cache = InstanceJSONCache()
        let cold = cachedBody(list, &cache)
        let warm = cachedBody(list, &cache)
        #expect(cold == referenceBody(list))
        #expect(warm == cold)
        #expect(cache.misses == 4 && cache.hits == 4)
        #expect(APIResponse.encode(.read(.instances(list), readContext), context: testContext).body == cold)
        let object = try jsonObject(cold)
        let instances = try #require(object["instances"] as? [[String: Any]])
        let b = try #require(instances.first { $0["id"] as? String == "b" })
        #expect(b["version"] as? String == "v\"1\"\\2")
        #expect((b["metadata"] as? [String: String])?["zone"] == "a\nb\tc\r\u{8}\u{C}\u{1F}")
        #expect((b["metadata"] as? [String: String])?["é"] == "ünïcödé ✓ 𝄞")
        #expect((b["incarnation"] as? NSNumber)?.uint64Value == UInt64.max)
        #expect((b["lease"] as? NSNumber)?.uint64Value == UInt64.max)
        #expect(b["weight"] as? Int == Int(Int32.max))
    }

    @Test("updates, deregistrations, lease expiry and re-registration are never answered from stale entries")
    func invalidation() throws {
        var state = State()
        var cache = InstanceJSONCache()
        state.apply(.grantLease(id: LeaseID(5), ttlMilliseconds: 10_000, grantedAtMilliseconds: 0))
        state.apply(.registerInstance(ServiceInstance(namespace: "prod", service: "web", id: "a", weight: 1)))
        state.apply(
            .registerInstance(ServiceInstance(namespace: "prod", service: "web", id: "b", weight: 2, lease: LeaseID(5))))
        func check(_ expectedIDs: [String]) throws {
            let list = try state.listing()
            let body = cachedBody(list, &cache)
            #expect(body == referenceBody(list))
            #expect(try parsedIDs(body) == expectedIDs)
        }
        try check(["a", "b"])
        var update = InstanceUpdate(name: InstanceName(namespace: "prod", service: "web", id: "a"), incarnation: 0)
        update.weight = 9
        update.metadata = ["changed": "yes"]
        state.apply(.updateInstance(update))
        try check(["a", "b"])
        let weights = try #require(try jsonObject(cachedBody(try state.listing(), &cache))["instances"] as? [[String: Any]])
        #expect(weights.first?["weight"] as? Int == 9)
        state.apply(.expireLeases([LeaseID(5)]))
        try check(["a"])
        state.apply(.deregisterInstance(InstanceName(namespace: "prod", service: "web", id: "a"), incarnation: nil))
        try check([])
        state.apply(.registerInstance(ServiceInstance(namespace: "prod", service: "web", id: "a", version: "again")))
        try check(["a"])
        let again = try #require(try jsonObject(cachedBody(try state.listing(), &cache))["instances"] as? [[String: Any]])
        #expect(again.first?["version"] as? String == "again")
    }

    @Test("a snapshot from another history reusing a key and revision gets its own encoding")
    func snapshotInstall() throws {
        var first = State()
        first.apply(.registerInstance(ServiceInstance(namespace: "prod", service: "web", id: "a", version: "first")))
        var second = State()
        second.apply(.registerInstance(ServiceInstance(namespace: "prod", service: "web", id: "a", version: "second")))
        let firstList = try first.listing()
        let installed = try RegistryState.restore(from: second.registry.snapshotBytes(), limits: .standard)
        let secondList = try installed.instances(namespace: "prod", service: "web")
        #expect(firstList.records[0].key == secondList.records[0].key)
        #expect(firstList.records[0].modRevision == secondList.records[0].modRevision)
        var cache = InstanceJSONCache()
        _ = cachedBody(firstList, &cache)
        let body = cachedBody(secondList, &cache)
        #expect(body == referenceBody(secondList))
        let instances = try #require(try jsonObject(body)["instances"] as? [[String: Any]])
        #expect(instances.first?["version"] as? String == "second")
    }

    @Test("the cache stays within its byte bound and keeps recently read instances")
    func bounded() throws {
        var state = State()
        for number in 0..<200 {
            state.apply(.registerInstance(ServiceInstance(namespace: "prod", service: "web", id: "i\(number)", version: "1")))
        }
        let list = try state.listing()
        var cache = InstanceJSONCache(byteLimit: 20_000)
        for _ in 0..<3 { #expect(cachedBody(list, &cache) == referenceBody(list)) }
        // Each entry is a few hundred bytes, so a 20 kB bound holds well under 200 of them.
        #expect(cache.count < 120)
        let small = InstanceList(records: Array(list.records.prefix(10)), revision: list.revision)
        _ = cachedBody(small, &cache)
        let hitsBefore = cache.hits
        _ = cachedBody(small, &cache)
        #expect(cache.hits == hitsBefore + 10)
        var disabled = InstanceJSONCache(byteLimit: 0)
        #expect(cachedBody(list, &disabled) == referenceBody(list))
        #expect(disabled.count == 0)
    }

    @Test("an instance's JSON is the exact text the encoder has always written (golden)")
    func golden() {
        var writer = JSONWriter()
        writer.instance(sampleInstance())
        #expect(
            String(decoding: writer.bytes, as: UTF8.self)
                == #"{"namespace":"prod","service":"web","id":"w-1","version":"1.2.3","endpoints":["grpc://10.0.0.5:9000","http://[::1]:8080/health"],"metadata":{"az":"a","zone":"b"},"weight":50,"status":"draining","lease":9,"incarnation":1700000000000}"#
        )
        var escaped = JSONWriter()
        escaped.instance(
            ServiceInstance(
                namespace: "n", service: "s", id: "i", version: "v\"1\\", endpoints: [],
                metadata: ["k\"q\\": "a\nb\t\u{1}\r\u{8}\u{C}\u{1F}é", "B": "", "a": "x"], weight: 0, lease: nil))
        #expect(
            String(decoding: escaped.bytes, as: UTF8.self)
                == #"{"namespace":"n","service":"s","id":"i","version":"v\"1\\","endpoints":[],"metadata":{"B":"","a":"x","k\"q\\":"a\nb\t\u0001\r\b\f\u001fé"},"weight":0,"status":"up","lease":null,"incarnation":0}"#
        )
    }

    @Test("integers are written exactly as String(_:) writes them", arguments: [
        Int64.min, Int64.min + 1, -1_000_000_007, -10, -9, -1, 0, 1, 9, 10, 99, 100, 1_700_000_000_000, Int64.max - 1, Int64.max,
    ])
    func integers(value: Int64) {
        var writer = JSONWriter()
        writer.integer(value)
        #expect(writer.bytes == Array(String(value).utf8))
        var unsigned = JSONWriter()
        unsigned.integer(UInt64(bitPattern: value))
        #expect(unsigned.bytes == Array(String(UInt64(bitPattern: value)).utf8))
    }
}
