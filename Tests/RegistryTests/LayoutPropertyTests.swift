// Goal: however writes, deletes, transactions, native registrations and lease ends interleave, the two views stay
// one: every key at a layout that holds the framework's JSON for an instance is paired with that instance, every
// pair is intact (`checkInvariants`), every command's events share one revision, and replicas and restored
// snapshots agree.
// Method: seeded random commands over a small name space where kratos keys, kitex keys, native instances of the
// same names, garbage values and shared leases collide; the checks run after every command.
import Testing

@testable import Registry

@Suite("Framework layouts: random interleavings")
struct LayoutPropertyTests {
    static let seeds: [UInt64] = Array(1...12)

    struct Generator {
        var random: SplitMix64

        mutating func pick<T>(_ values: [T]) -> T { values[Int.random(in: 0..<values.count, using: &random)] }
        mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }
        mutating func lease() -> LeaseID? { chance(50) ? LeaseID(UInt64(Int.random(in: 1...3, using: &random))) : nil }

        mutating func layoutPut() -> PutRequest {
            let service = pick(["pay", "echo"])
            let value: String
            let key: String
            if chance(50) {
                let id = pick(["i1", "i2", "10.0.0.1:80"])
                key = "/microservices/\(service)/\(id)"
                value = chance(80)
                    ? #"{"id":"\#(id)","name":"\#(service)","metadata":{"v":"\#(Int.random(in: 0...3, using: &random))"},"endpoints":["grpc://10.0.0.1:80"]}"#
                    : pick(["garbage", #"{"id":"other"}"#])
            } else {
                let address = pick(["10.0.0.1:80", "10.0.0.2:80"])
                key = "kitex/registry-etcd/\(service)/\(address)"
                value = chance(80) ? #"{"network":"tcp","address":"\#(address)","weight":\#(Int.random(in: 0...9, using: &random))}"# : "x"
            }
            return PutRequest(key: bytes(key), value: bytes(value), lease: lease(), returnPrevious: chance(30))
        }

        mutating func native() -> RegistryCommand {
            let name = InstanceName(namespace: pick(["default", "prod"]), service: pick(["pay", "echo"]), id: pick(["i1", "i2", "10.0.0.1:80"]))
            switch Int.random(in: 0..<3, using: &random) {
            case 0:
                return .registerInstance(ServiceInstance(
                    namespace: name.namespace, service: name.service, id: name.id,
                    endpoints: [pick(["grpc://10.0.0.1:80", "grpc://10.0.0.2:80", "unix:///s"])], lease: lease(),
                    incarnation: UInt64.random(in: 0...2, using: &random)))
            case 1: return .updateInstance(InstanceUpdate(name: name, incarnation: nil, status: .draining, metadata: ["m": "1"]))
            default: return .deregisterInstance(name, incarnation: nil)
            }
        }

        mutating func range() -> KeyRange {
            pick([.prefix(bytes("/microservices/")), .prefix(bytes("default/")), .prefix(bytes("kitex/")), .prefix([]),
                  .key(bytes("default/pay/i1")), .key(bytes("/microservices/pay/i1"))])
        }

        mutating func command() -> RegistryCommand {
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<35: return .put(layoutPut())
            case 35..<60: return native()
            case 60..<68: return .deleteRange(DeleteRangeRequest(range(), returnPrevious: chance(50)))
            case 68..<78:
                return .transaction(TransactionRequest(
                    compares: [], success: [.put(layoutPut()), chance(50) ? .deleteRange(DeleteRangeRequest(range())) : .put(layoutPut())],
                    failure: []))
            case 78..<88: return .grantLease(id: LeaseID(UInt64(Int.random(in: 1...3, using: &random))), ttlMilliseconds: 10_000, grantedAtMilliseconds: 0)
            case 88..<94: return .expireLeases([LeaseID(UInt64(Int.random(in: 1...3, using: &random)))])
            default: return .revokeLease(LeaseID(UInt64(Int.random(in: 1...3, using: &random))))
            }
        }
    }

    @Test("every layout key holding its framework's JSON is paired with its instance; pairs stay intact", arguments: seeds)
    func viewsStayOne(seed: UInt64) throws {
        var generator = Generator(random: SplitMix64(seed: seed))
        var h = Harness(layouts: FrameworkLayout.standard)
        var replica = RegistryState(layouts: FrameworkLayout.standard)
        var pairedSteps = 0
        for step in 0..<400 {
            let command = generator.command()
            let result = h.apply(command)
            _ = replica.apply(command, at: h.nextIndex - 1)
            h.state.checkInvariants()
            if let applied = result.applied {
                #expect(applied.events.allSatisfy { $0.revision == applied.revision }, "seed \(seed) step \(step)")
            }
            try checkPaired(h.state, seed: seed, step: step)
            let linked = try h.state.range(RangeRequest(.prefix([]))).keyValues.contains { $0.layoutLink != nil }
            if linked { pairedSteps += 1 }
        }
        #expect(pairedSteps > 100, "seed \(seed): the sequence should hold pairs most of the time, held them \(pairedSteps) steps")
        #expect(replica == h.state && replica.snapshotBytes() == h.state.snapshotBytes(), "seed \(seed)")
        let restored = try RegistryState.restore(from: h.state.snapshotBytes(), limits: .standard, layouts: FrameworkLayout.standard)
        #expect(restored == h.state, "seed \(seed)")
    }

    /// Every key under a layout whose value describes an instance is a source mirrored by exactly that instance.
    private func checkPaired(_ state: RegistryState, seed: UInt64, step: Int) throws {
        let all = try state.range(RangeRequest(.prefix([])))
        for record in all.keyValues {
            guard let layout = state.layout(containing: record.key), record.layoutLink?.isMirror != true,
                let described = layout.instance(key: record.key, value: record.value, limits: state.limits)
            else { continue }
            let instance = state.instance(named: described.name)
            #expect(record.layoutLink == .source(mirrors: [described.name.key]), "seed \(seed) step \(step): \(String(decoding: record.key, as: UTF8.self))")
            #expect(instance?.endpoints == described.endpoints && instance?.lease == record.lease, "seed \(seed) step \(step)")
        }
    }
}
