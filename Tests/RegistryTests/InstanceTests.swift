// Goal: typed instances on the key space: register, update, deregister, list instances and services,
// each answering with its revision, with incarnation fencing and typed rejections for bad input.
// Method: hand-built scenarios on one service, checking both the typed view and the underlying record
// and events.
import Codec
import Registry
import Testing

@Suite("Instances")
struct InstanceTests {
    @Test("a registered instance is stored under namespace/service/id and listed with its revision")
    func register() throws {
        var harness = Harness()
        let instance = makeInstance("i-1")
        let applied = try #require(harness.apply(.registerInstance(instance)).applied)
        #expect(applied.response == .instanceRegistered(instance, previous: nil))
        #expect(applied.events.first?.cause == .registered)
        #expect(applied.events.first?.key == bytes("prod/payments/i-1"))
        let record = try #require(harness.get("prod/payments/i-1"))
        #expect(record.isInstance && record.instance == instance)
        let list = try harness.state.instances(namespace: "prod", service: "payments")
        #expect(list.instances == [instance] && list.revision == 1)
    }

    @Test("services are listed by name with instance counts")
    func services() throws {
        var harness = Harness()
        harness.apply(.registerInstance(makeInstance("1", service: "b")))
        harness.apply(.registerInstance(makeInstance("2", service: "b")))
        harness.apply(.registerInstance(makeInstance("1", service: "a")))
        harness.apply(.registerInstance(makeInstance("1", service: "z", namespace: "dev")))
        let list = try harness.state.services(namespace: "prod")
        #expect(list.services.map(\.name) == ["a", "b"])
        #expect(list.services.map(\.instanceCount) == [1, 2])
        #expect(list.revision == 4)
    }

    @Test("an update changes only the given fields and carries the updated cause")
    func update() throws {
        var harness = Harness()
        harness.apply(.registerInstance(makeInstance("i-1")))
        let update = InstanceUpdate(
            name: makeInstance("i-1").name, incarnation: 1, status: .draining, weight: 0)
        let applied = try #require(harness.apply(.updateInstance(update)).applied)
        var expected = makeInstance("i-1")
        expected.status = .draining
        expected.weight = 0
        #expect(applied.response == .instanceUpdated(expected))
        #expect(applied.events.first?.cause == .updated)
        #expect(harness.state.instance(named: expected.name) == expected)
    }

    @Test("a stale re-registration can never overwrite a newer incarnation")
    func fencing() {
        var harness = Harness()
        harness.apply(.registerInstance(makeInstance("i-1", incarnation: 5)))
        #expect(
            harness.apply(.registerInstance(makeInstance("i-1", incarnation: 4)))
                == .rejected(.staleIncarnation(current: 5, offered: 4)))
        #expect(
            harness.apply(.deregisterInstance(makeInstance("i-1").name, incarnation: 4))
                == .rejected(.staleIncarnation(current: 5, offered: 4)))
        #expect(
            harness.apply(.updateInstance(InstanceUpdate(name: makeInstance("i-1").name, incarnation: 4, weight: 1)))
                == .rejected(.staleIncarnation(current: 5, offered: 4)))
        #expect(harness.state.instance(named: makeInstance("i-1").name)?.incarnation == 5)
        #expect(harness.state.revision == 1)
    }

    @Test("an equal or newer incarnation re-registers and reports the previous record")
    func reRegister() throws {
        var harness = Harness()
        harness.apply(.registerInstance(makeInstance("i-1", incarnation: 5)))
        let applied = try #require(harness.apply(.registerInstance(makeInstance("i-1", incarnation: 6))).applied)
        #expect(applied.response == .instanceRegistered(makeInstance("i-1", incarnation: 6), previous: makeInstance("i-1", incarnation: 5)))
        #expect(try harness.state.services(namespace: "prod").services.first?.instanceCount == 1)
    }

    @Test("deregister removes the record with the deregistered cause")
    func deregister() throws {
        var harness = Harness()
        harness.apply(.registerInstance(makeInstance("i-1")))
        let applied = try #require(harness.apply(.deregisterInstance(makeInstance("i-1").name, incarnation: nil)).applied)
        #expect(applied.events.first?.cause == .deregistered)
        #expect(applied.events.first?.previous?.instance == makeInstance("i-1"))
        #expect(try harness.state.services(namespace: "prod").services.isEmpty)
        #expect(
            harness.apply(.deregisterInstance(makeInstance("i-1").name, incarnation: nil))
                == .rejected(.instanceNotFound(namespace: "prod", service: "payments", id: "i-1")))
    }

    @Test("a plain put over an instance record turns it into a plain key")
    func plainPutOverInstance() throws {
        var harness = Harness()
        harness.apply(.registerInstance(makeInstance("i-1")))
        harness.put("prod/payments/i-1", "raw")
        #expect(try harness.state.instances(namespace: "prod", service: "payments").instances.isEmpty)
        #expect(try harness.state.services(namespace: "prod").services.isEmpty)
    }

    @Test("an update without incarnation changes the live record; one with a different incarnation is refused")
    func updateOfLiveIncarnation() {
        var harness = Harness()
        var instance = makeInstance("i-1")
        instance.incarnation = 7
        harness.apply(.registerInstance(instance))
        let live = harness.apply(.updateInstance(InstanceUpdate(name: instance.name, incarnation: nil, status: .draining)))
        guard case .applied(let applied) = live, case .instanceUpdated(let updated) = applied.response else {
            Issue.record("expected the live incarnation to be updated, got \(live)")
            return
        }
        #expect(updated.status == .draining)
        #expect(updated.incarnation == 7)
        #expect(
            harness.apply(.updateInstance(InstanceUpdate(name: instance.name, incarnation: 6, weight: 1)))
                == .rejected(.staleIncarnation(current: 7, offered: 6)))
    }

    @Test("invalid names are typed rejections that change nothing", arguments: [
        ("", "svc", "id", "namespace"), ("ns", "a/b", "id", "service"), ("ns", "svc", "sp ace", "id"),
        ("ns", "svc", String(repeating: "x", count: 129), "id"), ("ns", "sv\u{e9}", "id", "service"),
        ("ns", "..", "id", "service"), ("ns", ".", "id", "service"), ("ns", "svc", "...", "id"),
        ("..", "svc", "id", "namespace"),
    ])
    func invalidNames(namespace: String, service: String, id: String, field: String) {
        var harness = Harness()
        let result = harness.apply(.registerInstance(makeInstance(id, service: service, namespace: namespace)))
        guard case .rejected(.invalidName(let rejected, _, _)) = result else {
            Issue.record("expected an invalid name, got \(result)")
            return
        }
        #expect(rejected == field)
        #expect(harness.state.revision == 0)
    }

    @Test("malformed endpoints are rejected", arguments: ["10.0.0.5:9000", "://x", "grpc://", "grpc://a b", "1http://x"])
    func invalidEndpoints(endpoint: String) {
        var harness = Harness()
        var instance = makeInstance("i-1")
        instance.endpoints = [endpoint]
        guard case .rejected(.invalidEndpoint) = harness.apply(.registerInstance(instance)) else {
            Issue.record("\(endpoint) accepted")
            return
        }
    }

    @Test("registering on an unknown lease is rejected")
    func unknownLease() {
        var harness = Harness()
        #expect(harness.apply(.registerInstance(makeInstance("i-1", lease: 9))) == .rejected(.leaseNotFound(9)))
    }

    @Test("an update of a missing instance is rejected")
    func updateMissing() {
        var harness = Harness()
        let update = InstanceUpdate(name: makeInstance("nope").name, incarnation: 1, weight: 3)
        #expect(harness.apply(.updateInstance(update)) == .rejected(.instanceNotFound(namespace: "prod", service: "payments", id: "nope")))
    }

    @Test("the restore-time encoding check gives the decoder's verdict on valid, damaged and truncated values")
    func wellFormedMatchesDecoder() {
        var random = SplitMix64(seed: 41)
        let instances = [
            makeInstance("i-1"),
            ServiceInstance(namespace: "n", service: "s", id: "é-ü", version: "", endpoints: [], metadata: [:]),
            ServiceInstance(
                namespace: "n", service: "s", id: "x", version: "v", endpoints: ["http://h:1"],
                metadata: ["a": "1", "b": "ß", "c": ""], weight: UInt32.max, status: .draining, lease: 7,
                incarnation: .max),
        ]
        func agree(_ bytes: [UInt8]) {
            let decodes = (try? ServiceInstance(encoded: bytes, limits: .standard)) != nil
            #expect(ServiceInstance.isWellFormedEncoding(bytes, limits: .standard) == decodes, "\(bytes)")
        }
        for instance in instances {
            let bytes = instance.encoded()
            #expect(ServiceInstance.isWellFormedEncoding(bytes, limits: .standard))
            for length in 0..<bytes.count { agree(Array(bytes[0..<length])) }
            agree(bytes + [0])
            for _ in 0..<300 {
                var damaged = bytes
                let position = Int.random(in: 0..<damaged.count, using: &random)
                damaged[position] = UInt8.random(in: 0...255, using: &random)
                agree(damaged)
            }
        }
        // Invalid UTF-8, unsorted and duplicate metadata keys, an unknown status, a weight over UInt32.
        var writer = ByteWriter()
        writer.write(UInt8(1))
        for _ in 0..<4 { writer.writeLengthPrefixed([0x61]) }
        writer.writeVarint(0)
        writer.writeVarint(2)
        for key in [[UInt8(0x62)], [0x61]] {
            writer.writeLengthPrefixed(key)
            writer.writeLengthPrefixed([0xC3, 0x28])
        }
        writer.writeVarint(1)
        writer.write(UInt8(1))
        writer.writeVarint(0)
        writer.writeVarint(1)
        agree(writer.bytes)
        #expect(!ServiceInstance.isWellFormedEncoding(writer.bytes, limits: .standard))
    }
}

/// Goal: an operator can see what a mistaken delete removed: instances read as at an older revision, inside the
/// history window, and a clear refusal outside it. Method: register, update, delete, re-register one service's
/// instances and read each revision back.
@Suite("Instances at a revision")
struct InstancesAtRevisionTests {
    @Test("every revision reads back the instances that were live then")
    func history() throws {
        var harness = Harness()
        let first = makeInstance("i-1"), second = makeInstance("i-2")
        harness.apply(.registerInstance(first))                                   // r1
        harness.apply(.registerInstance(second))                                  // r2
        harness.apply(.registerInstance(makeInstance("x-1", service: "other")))   // r3
        harness.apply(.deregisterInstance(first.name, incarnation: nil))          // r4
        var heavier = second
        heavier.weight = 9
        harness.apply(.registerInstance(heavier))                                 // r5
        let state = harness.state
        func ids(_ revision: Int64) throws -> [String] {
            try state.instances(namespace: "prod", service: "payments", atRevision: Revision(revision)).instances.map(\.name.id)
        }
        #expect(try ids(0) == [])
        #expect(try ids(1) == ["i-1"])
        #expect(try ids(3) == ["i-1", "i-2"])
        #expect(try ids(4) == ["i-2"])
        #expect(try state.instances(namespace: "prod", service: "payments", atRevision: 4).revision == 4)
        #expect(try state.instance(named: first.name, atRevision: 3) == first)
        #expect(try state.instance(named: first.name, atRevision: 4) == nil)
        #expect(try state.instance(named: second.name, atRevision: 4)?.weight == second.weight)
        #expect(try state.instance(named: second.name, atRevision: 5)?.weight == 9)
        #expect(throws: RegistryRejection.futureRevision(6, current: 5)) {
            try state.instances(namespace: "prod", service: "payments", atRevision: 6)
        }
    }

    @Test("a compacted revision is refused, naming the compaction point")
    func compacted() throws {
        var harness = Harness()
        harness.apply(.registerInstance(makeInstance("i-1")))
        harness.apply(.registerInstance(makeInstance("i-2")))
        harness.apply(.compact(2))
        #expect(throws: RegistryRejection.compactedRevision(1, compacted: 2)) {
            try harness.state.instance(named: makeInstance("i-1").name, atRevision: 1)
        }
        #expect(try harness.state.instances(namespace: "prod", service: "payments", atRevision: 2).instances.count == 2)
    }
}
