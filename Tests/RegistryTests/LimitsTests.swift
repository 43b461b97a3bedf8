// Goal: every bound in `RegistryLimits` is enforced as a typed rejection that changes nothing. Method: a
// table with one case per limit: tightened limits, the commands that set the scene, the command that
// crosses the limit and the rejection it must get; the state after the rejection must equal the state
// before it (apart from the applied index).
import Registry
import Testing

struct LimitCase: Sendable, CustomTestStringConvertible {
    var name: String
    var limits: RegistryLimits
    var setup: [RegistryCommand]
    var command: RegistryCommand
    var rejection: RegistryRejection

    var testDescription: String { name }

    static func with(_ adjust: (inout RegistryLimits) -> Void) -> RegistryLimits {
        var limits = RegistryLimits()
        adjust(&limits)
        return limits
    }

    static let all: [LimitCase] = {
        var manyMetadata = makeInstance("i")
        manyMetadata.metadata = ["a": "1", "b": "2", "c": "3"]
        var longMetadata = makeInstance("i")
        longMetadata.metadata = ["k": String(repeating: "v", count: 20)]
        var manyEndpoints = makeInstance("i")
        manyEndpoints.endpoints = ["grpc://a:1", "grpc://b:1", "grpc://c:1"]
        var longEndpoint = makeInstance("i")
        longEndpoint.endpoints = ["http://" + String(repeating: "h", count: 40)]
        var longVersion = makeInstance("i")
        longVersion.version = String(repeating: "1", count: 9)
        let put = { (key: String, size: Int) in RegistryCommand.put(PutRequest(key: bytes(key), value: Array(repeating: 7, count: size))) }
        let grant = { (id: UInt64) in RegistryCommand.grantLease(id: LeaseID(id), ttlMilliseconds: 5_000, grantedAtMilliseconds: 0) }
        return [
            LimitCase(name: "empty key", limits: .standard, setup: [], command: put("", 1), rejection: .emptyKey),
            LimitCase(name: "key bytes", limits: with { $0.keyBytes = 4 }, setup: [], command: put("12345", 1),
                rejection: .keyTooLong(bytes: 5, limit: 4)),
            LimitCase(name: "value bytes", limits: with { $0.valueBytes = 8 }, setup: [], command: put("k", 9),
                rejection: .valueTooLong(bytes: 9, limit: 8)),
            LimitCase(name: "request bytes", limits: with { $0.requestBytes = 10 }, setup: [], command: put("key", 8),
                rejection: .requestTooLarge(bytes: 11, limit: 10)),
            LimitCase(name: "operations per transaction", limits: with { $0.transactionOperations = 2 }, setup: [],
                command: .transaction(TransactionRequest(compares: [], success: [
                    .put(PutRequest(key: bytes("a"), value: [])), .put(PutRequest(key: bytes("b"), value: [])),
                    .put(PutRequest(key: bytes("c"), value: [])),
                ])), rejection: .tooManyOperations(count: 3, limit: 2)),
            LimitCase(name: "name bytes", limits: with { $0.nameBytes = 3 }, setup: [],
                command: .registerInstance(makeInstance("i", service: "four", namespace: "ns")),
                rejection: .invalidName(field: "service", name: "four", reason: "4 bytes, limit 3")),
            LimitCase(name: "version bytes", limits: with { $0.versionBytes = 8 }, setup: [],
                command: .registerInstance(longVersion),
                rejection: .invalidName(field: "version", name: "111111111", reason: "9 bytes, limit 8")),
            LimitCase(name: "metadata entries", limits: with { $0.metadataEntries = 2 }, setup: [],
                command: .registerInstance(manyMetadata), rejection: .tooManyMetadataEntries(count: 3, limit: 2)),
            LimitCase(name: "metadata entry bytes", limits: with { $0.metadataEntryBytes = 10 }, setup: [],
                command: .registerInstance(longMetadata), rejection: .invalidMetadataEntry(key: "k", reason: "21 bytes, limit 10")),
            LimitCase(name: "endpoints per instance", limits: with { $0.endpointsPerInstance = 2 }, setup: [],
                command: .registerInstance(manyEndpoints), rejection: .tooManyEndpoints(count: 3, limit: 2)),
            LimitCase(name: "endpoint bytes", limits: with { $0.endpointBytes = 20 }, setup: [],
                command: .registerInstance(longEndpoint),
                rejection: .invalidEndpoint(longEndpoint.endpoints[0], reason: "47 bytes, limit 20")),
            LimitCase(name: "instances per service", limits: with { $0.instancesPerService = 2 },
                setup: [.registerInstance(makeInstance("a")), .registerInstance(makeInstance("b"))],
                command: .registerInstance(makeInstance("c")),
                rejection: .serviceFull(namespace: "prod", service: "payments", limit: 2)),
            LimitCase(name: "leases", limits: with { $0.leases = 2 }, setup: [grant(1), grant(2)], command: grant(3),
                rejection: .tooManyLeases(limit: 2)),
            LimitCase(name: "expiry batch", limits: with { $0.leaseBatch = 2 }, setup: [grant(1)],
                command: .expireLeases([1, 2, 3]), rejection: .leaseBatchTooLarge(count: 3, limit: 2)),
            LimitCase(name: "checkpoint batch", limits: with { $0.leaseBatch = 1 }, setup: [grant(1)],
                command: .checkpointLeases([LeaseCheckpoint(id: 1, remainingMilliseconds: 1), LeaseCheckpoint(id: 1, remainingMilliseconds: 1)]),
                rejection: .leaseBatchTooLarge(count: 2, limit: 1)),
            LimitCase(name: "minimum TTL", limits: with { $0.minimumTTLMilliseconds = 6_000 }, setup: [], command: grant(1),
                rejection: .ttlOutOfRange(ttlMilliseconds: 5_000, minimum: 6_000, maximum: 9_000_000_000_000)),
            LimitCase(name: "maximum TTL", limits: with { $0.maximumTTLMilliseconds = 4_000 }, setup: [], command: grant(1),
                rejection: .ttlOutOfRange(ttlMilliseconds: 5_000, minimum: 2_000, maximum: 4_000)),
        ]
    }()
}

@Suite("Limits")
struct LimitsTests {
    @Test("each limit is a typed rejection that changes nothing", arguments: LimitCase.all)
    func limit(_ limitCase: LimitCase) throws {
        var harness = Harness(limits: limitCase.limits)
        for command in limitCase.setup { #expect(harness.apply(command).rejection == nil) }
        let before = harness.state
        #expect(harness.apply(limitCase.command) == .rejected(limitCase.rejection))
        #expect(harness.state.revision == before.revision)
        #expect(try harness.state.stateHash() == before.stateHash())
        #expect(harness.state.leases() == before.leases())
        #expect(harness.state.historyCount == before.historyCount)
    }

    @Test("the history limits bound the retained events", arguments: [(Int64(5), 1_000), (1_000, 7)])
    func historyLimits(revisions: Int64, events: Int) {
        var limits = RegistryLimits()
        limits.historyRevisions = revisions
        limits.historyEvents = events
        var harness = Harness(limits: limits)
        for round in 0..<50 { harness.put("k\(round % 3)", "v") }
        #expect(harness.state.historyCount <= min(Int(revisions), events))
    }
}
