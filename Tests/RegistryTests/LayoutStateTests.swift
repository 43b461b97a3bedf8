// Goal: framework layouts on the state machine keep the etcd view and the native view of an instance one thing:
// a write or delete of either is a write or delete of both, in one command at one revision, leases included;
// kratos clients read back exactly the bytes they wrote; values that are not the framework's stay plain keys.
// Method: commands applied to a state with the standard layouts (kratos at /microservices, kitex at
// kitex/registry-etcd, both in namespace "default"), checking records, events and `checkInvariants()` (which
// checks every pair link) after each step.
import Codec
import Testing

@testable import Registry

@Suite("Framework layouts: one state, two views")
struct LayoutStateTests {
    static let kratosKey = "/microservices/payments/i1"
    static let kratosJSON = #"{"id":"i1","name":"payments","version":"v1","metadata":{"zone":"a"},"endpoints":["grpc://10.0.0.5:9000"]}"#
    static let kitexKey = "kitex/registry-etcd/echo/10.0.1.1:8888"
    static let kitexJSON = #"{"network":"tcp","address":"10.0.1.1:8888","weight":10,"tags":{}}"#

    func harness() -> Harness { Harness(layouts: FrameworkLayout.standard) }

    func instances(_ harness: Harness, _ service: String) -> [ServiceInstance] {
        (try? harness.state.instances(namespace: "default", service: service).instances) ?? []
    }

    @Test("a kratos put with a lease is also an instance bound to the lease, in one revision; Range returns its bytes")
    func kratosPut() throws {
        var h = harness()
        h.grant(LeaseID(7))
        let applied = try #require(h.put(Self.kratosKey, Self.kratosJSON, lease: LeaseID(7)).applied)
        #expect(applied.events.map(\.key) == [bytes(Self.kratosKey), bytes("default/payments/i1")])
        #expect(applied.events.allSatisfy { $0.revision == applied.revision })
        #expect(applied.events.map(\.cause) == [.put, .registered])
        #expect(h.get(Self.kratosKey)?.value == bytes(Self.kratosJSON))
        let instance = try #require(instances(h, "payments").first)
        #expect(instance.endpoints == ["grpc://10.0.0.5:9000"] && instance.metadata == ["zone": "a"] && instance.version == "v1")
        #expect(instance.lease == LeaseID(7))
        #expect(h.get("default/payments/i1")?.lease == LeaseID(7))
        #expect(h.get("kitex/registry-etcd/payments/10.0.0.5:9000") == nil, "an instance written through a layout shows only there")
        #expect(try h.state.timeToLive(LeaseID(7), includeKeys: true).keys == [bytes(Self.kratosKey)], "the lease lists what the client attached")
        h.state.checkInvariants()
    }

    @Test("lease expiry removes both views at one revision, each event caused by the expiry")
    func leaseExpiry() throws {
        var h = harness()
        h.grant(LeaseID(7))
        h.put(Self.kratosKey, Self.kratosJSON, lease: LeaseID(7))
        let applied = try #require(h.apply(.expireLeases([LeaseID(7)])).applied)
        #expect(Set(applied.events.map(\.key)) == [bytes(Self.kratosKey), bytes("default/payments/i1")])
        #expect(applied.events.allSatisfy { $0.kind == .delete && $0.cause == .leaseExpired && $0.revision == applied.revision })
        #expect(instances(h, "payments").isEmpty && h.get(Self.kratosKey) == nil)
        h.state.checkInvariants()
    }

    @Test("kratos' Deregister (a delete of its key) deregisters the instance; a native deregister deletes the key")
    func deletesEitherWay() throws {
        var h = harness()
        h.put(Self.kratosKey, Self.kratosJSON)
        let deleted = try #require(h.apply(.deleteRange(DeleteRangeRequest(.key(bytes(Self.kratosKey))))).applied)
        #expect(deleted.events.map(\.cause) == [.delete, .deregistered])
        #expect(instances(h, "payments").isEmpty)
        h.put(Self.kratosKey, Self.kratosJSON)
        let deregistered = try #require(
            h.apply(.deregisterInstance(InstanceName(namespace: "default", service: "payments", id: "i1"), incarnation: nil)).applied)
        #expect(deregistered.events.map(\.cause) == [.deregistered, .delete])
        #expect(h.get(Self.kratosKey) == nil)
        h.state.checkInvariants()
    }

    @Test("a native instance is visible at both layouts with their JSON, and every view goes when any is deleted")
    func nativeRegistration() throws {
        var h = harness()
        h.grant(LeaseID(3))
        let instance = ServiceInstance(
            namespace: "default", service: "payments", id: "i1", version: "v2", endpoints: ["grpc://10.0.0.5:9000"],
            metadata: ["zone": "b"], weight: 20, lease: LeaseID(3), incarnation: 4)
        let applied = try #require(h.apply(.registerInstance(instance)).applied)
        #expect(applied.events.map(\.key) == [
            bytes("default/payments/i1"), bytes("/microservices/payments/i1"), bytes("kitex/registry-etcd/payments/10.0.0.5:9000"),
        ])
        #expect(h.get("/microservices/payments/i1")?.value
            == bytes(#"{"id":"i1","name":"payments","version":"v2","metadata":{"zone":"b"},"endpoints":["grpc://10.0.0.5:9000"]}"#))
        #expect(h.get("kitex/registry-etcd/payments/10.0.0.5:9000")?.value
            == bytes(#"{"network":"tcp","address":"10.0.0.5:9000","weight":20,"tags":{"zone":"b"}}"#))
        #expect(h.get("/microservices/payments/i1")?.lease == LeaseID(3))
        #expect(try h.state.timeToLive(LeaseID(3), includeKeys: true).keys == [bytes("default/payments/i1")])
        h.state.checkInvariants()
        let deleted = try #require(h.apply(.deleteRange(DeleteRangeRequest(.key(bytes("kitex/registry-etcd/payments/10.0.0.5:9000"))))).applied)
        #expect(deleted.events.count == 3 && deleted.events.allSatisfy { $0.kind == .delete })
        #expect(h.state.instance(named: instance.name) == nil)
        h.state.checkInvariants()
    }

    @Test("a native update of a kratos-written instance renders it again; the instance keeps its lease and incarnation")
    func nativeUpdate() throws {
        var h = harness()
        h.grant(LeaseID(7))
        h.put(Self.kratosKey, Self.kratosJSON, lease: LeaseID(7))
        let update = InstanceUpdate(
            name: InstanceName(namespace: "default", service: "payments", id: "i1"), incarnation: nil, status: .draining,
            metadata: ["zone": "c"], weight: nil)
        let applied = try #require(h.apply(.updateInstance(update)).applied)
        #expect(applied.events.map(\.key) == [
            bytes("default/payments/i1"), bytes(Self.kratosKey), bytes("kitex/registry-etcd/payments/10.0.0.5:9000"),
        ])
        #expect(applied.events.allSatisfy { $0.kind == .put }, "the kratos key is rewritten, not deleted and put")
        #expect(h.get(Self.kratosKey)?.value
            == bytes(#"{"id":"i1","name":"payments","version":"v1","metadata":{"zone":"c"},"endpoints":["grpc://10.0.0.5:9000"]}"#))
        #expect(h.state.instance(named: update.name)?.lease == LeaseID(7))
        h.state.checkInvariants()
    }

    @Test("a kitex put is an instance named by its address, with endpoint network://address")
    func kitexPut() throws {
        var h = harness()
        h.put(Self.kitexKey, Self.kitexJSON)
        let instance = try #require(instances(h, "echo").first)
        #expect(instance.id == "10.0.1.1:8888" && instance.endpoints == ["tcp://10.0.1.1:8888"] && instance.weight == 10)
        #expect(h.get("/microservices/echo/10.0.1.1:8888") == nil)
        h.state.checkInvariants()
    }

    @Test("a value that is not the framework's JSON is stored and served as a plain key",
          arguments: ["not json", #"{"id":"other","name":"payments"}"#, ""])
    func foreignValueIsPlain(value: String) throws {
        var h = harness()
        let applied = try #require(h.put(Self.kratosKey, value).applied)
        #expect(applied.events.count == 1)
        #expect(h.get(Self.kratosKey)?.value == bytes(value) && h.get(Self.kratosKey)?.layoutLink == nil)
        #expect(instances(h, "payments").isEmpty)
        h.state.checkInvariants()
    }

    @Test("overwriting a layout key with a foreign value deregisters the instance it described, at that revision")
    func foreignOverwrite() throws {
        var h = harness()
        h.apply(.registerInstance(ServiceInstance(namespace: "default", service: "payments", id: "i1", endpoints: ["grpc://h:1"])))
        let applied = try #require(h.put(Self.kratosKey, "garbage").applied)
        #expect(applied.events.map(\.cause).sorted { $0.rawValue < $1.rawValue } == [.put, .delete, .deregistered])
        #expect(instances(h, "payments").isEmpty && h.get("kitex/registry-etcd/payments/h:1") == nil)
        #expect(h.get(Self.kratosKey)?.value == bytes("garbage"))
        h.state.checkInvariants()
    }

    @Test("a rendering never takes a key from another instance: two instances at one address keep the first's kitex key")
    func renderingsDoNotSteal() throws {
        var h = harness()
        for id in ["i1", "i2"] {
            h.apply(.registerInstance(ServiceInstance(namespace: "default", service: "s", id: id, endpoints: ["grpc://10.0.0.9:1"])))
        }
        #expect(instances(h, "s").map(\.id) == ["i1", "i2"])
        let kitex = try #require(h.get("kitex/registry-etcd/s/10.0.0.9:1"))
        #expect(kitex.layoutLink == .mirror(of: bytes("default/s/i1")))
        #expect(h.get("/microservices/s/i2") != nil)
        h.state.checkInvariants()
    }

    @Test("a put that would add an instance to a full service is refused, as a native register would be")
    func serviceFull() throws {
        var limits = RegistryLimits()
        limits.instancesPerService = 1
        var h = Harness(limits: limits, layouts: FrameworkLayout.standard)
        h.put(Self.kratosKey, Self.kratosJSON)
        let second = #"{"id":"i2","name":"payments"}"#
        #expect(h.put("/microservices/payments/i2", second) == .rejected(.serviceFull(namespace: "default", service: "payments", limit: 1)))
        #expect(h.put(Self.kratosKey, Self.kratosJSON).applied != nil, "replacing an instance adds none")
    }

    @Test("without layouts, layout-shaped keys are plain keys and native instances have no renderings")
    func noLayouts() throws {
        var h = Harness()
        h.put(Self.kratosKey, Self.kratosJSON)
        h.apply(.registerInstance(ServiceInstance(namespace: "default", service: "payments", id: "i2", endpoints: ["grpc://h:1"])))
        #expect(instances(h, "payments").map(\.id) == ["i2"])
        #expect(h.get("/microservices/payments/i2") == nil)
    }

    @Test("a snapshot keeps the pairs: the restored state is equal and keeps pairing")
    func snapshot() throws {
        var h = harness()
        h.grant(LeaseID(7))
        h.put(Self.kratosKey, Self.kratosJSON, lease: LeaseID(7))
        h.apply(.registerInstance(ServiceInstance(namespace: "default", service: "echo", id: "n1", endpoints: ["grpc://h:2"])))
        var restored = try RegistryState.restore(from: h.state.snapshotBytes(), limits: .standard, layouts: FrameworkLayout.standard)
        #expect(restored == h.state)
        _ = restored.apply(.expireLeases([LeaseID(7)]), at: h.nextIndex)
        #expect(restored.instance(named: InstanceName(namespace: "default", service: "payments", id: "i1")) == nil)
        restored.checkInvariants()
    }
}

@Suite("Framework layouts: damaged snapshots")
struct LayoutSnapshotFuzzTests {
    /// A snapshot holding pairs of both kinds, with a lease.
    static func pairedSnapshot() -> [UInt8] {
        var h = Harness(layouts: FrameworkLayout.standard)
        h.grant(LeaseID(7))
        h.put(LayoutStateTests.kratosKey, LayoutStateTests.kratosJSON, lease: LeaseID(7))
        h.apply(.registerInstance(ServiceInstance(namespace: "default", service: "echo", id: "n1", endpoints: ["grpc://h:2"])))
        return h.state.snapshotBytes()
    }

    /// `bytes` with its checksum recomputed, so the damage reaches the record decoder instead of the CRC check.
    static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes
        let checksum = CRC32C.checksum(bytes[9...])
        for position in 0..<4 { bytes[5 + position] = UInt8(truncatingIfNeeded: checksum >> (8 * position)) }
        return bytes
    }

    @Test("a damaged snapshot with pairs is refused with a CodecError or restores a state whose pairs are intact",
          arguments: [11, 12, 13] as [UInt64])
    func damaged(seed: UInt64) {
        let original = Self.pairedSnapshot()
        var random = SplitMix64(seed: seed)
        var refused = 0
        for _ in 0..<1_500 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let position = Int.random(in: 9..<bytes.count, using: &random)
                bytes[position] = UInt8.random(in: 0...255, using: &random)
            }
            do {
                let state = try RegistryState.restore(from: Self.resealed(bytes), limits: .standard, layouts: FrameworkLayout.standard)
                #expect(state.layoutLinkProblem() == nil, "seed \(seed): restored with a broken pair")
            } catch {
                refused += 1
            }
        }
        #expect(refused > 0, "seed \(seed): damage is noticed")
    }

    @Test("a snapshot whose mirror names a missing source is refused")
    func orphanMirror() throws {
        var h = Harness(layouts: FrameworkLayout.standard)
        h.put(LayoutStateTests.kratosKey, LayoutStateTests.kratosJSON)
        var bytes = h.state.snapshotBytes()
        // Keys come first, in order: the kratos key's record, then the instance record, whose link names the kratos
        // key (the second occurrence of those bytes); point it at a key that does not exist.
        let source = Array(LayoutStateTests.kratosKey.utf8)
        let positions = (0...(bytes.count - source.count)).filter { Array(bytes[$0..<($0 + source.count)]) == source }
        try #require(positions.count >= 2)
        bytes[positions[1] + source.count - 1] = UInt8(ascii: "9")
        #expect(throws: CodecError.self) {
            try RegistryState.restore(from: Self.resealed(bytes), limits: .standard, layouts: FrameworkLayout.standard)
        }
    }
}

@Suite("Framework layouts: leases count what clients attached")
struct LayoutLeaseCountTests {
    @Test("revoking a lease reports the keys clients attached, not the mirrors that went with them")
    func revokeCount() throws {
        var h = Harness(layouts: FrameworkLayout.standard)
        h.grant(LeaseID(5))
        h.apply(.registerInstance(ServiceInstance(
            namespace: "default", service: "s", id: "i1", endpoints: ["grpc://h:1"], lease: LeaseID(5))))
        let applied = try #require(h.apply(.revokeLease(LeaseID(5))).applied)
        #expect(applied.response == .leaseRevoked(LeaseID(5), deletedKeys: 1))
        #expect(applied.events.count == 3, "the instance and its two renderings are deleted")
        h.state.checkInvariants()
    }
}
