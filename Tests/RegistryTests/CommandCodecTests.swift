// Goal: the command encoding that becomes Raft entry payloads round-trips exactly, is versioned, and
// turns any malformed input into a `CodecError` without trapping or allocating past the limits. Method:
// one example of every command kind, seeded random commands, every truncation of every encoding,
// seeded garbage and seeded single-byte mutations.
import Codec
import Registry
import Testing

@Suite("Command codec")
struct CommandCodecTests {
    static let examples: [RegistryCommand] = [
        .put(PutRequest(key: bytes("k"), value: [0, 255], lease: 3, returnPrevious: true)),
        .deleteRange(DeleteRangeRequest(.interval(start: bytes("a"), end: bytes("b")), returnPrevious: true)),
        .transaction(
            TransactionRequest(
                compares: [
                    Compare(key: bytes("k"), .value(bytes("v")), .equal), Compare(key: bytes("k"), .version(2), .less),
                    Compare(key: bytes("k"), .createRevision(4), .greater),
                    Compare(key: bytes("k"), .modRevision(5), .notEqual), Compare(key: bytes("k"), .lease(nil), .equal),
                ],
                success: [
                    .range(RangeRequest(.prefix(bytes("p")), limit: 3, countOnly: true, keysOnly: true)),
                    .put(PutRequest(key: bytes("x"), value: [])),
                ],
                failure: [.deleteRange(DeleteRangeRequest(.fromKey(bytes("z"))))])),
        .grantLease(id: nil, ttlMilliseconds: 5_000, grantedAtMilliseconds: 123_456),
        .grantLease(id: 77, ttlMilliseconds: -1, grantedAtMilliseconds: 0),
        .revokeLease(9),
        .checkpointLeases([LeaseCheckpoint(id: 1, remainingMilliseconds: 1_000), LeaseCheckpoint(id: 2, remainingMilliseconds: -3)]),
        .elapseLeases(milliseconds: 1_000), .elapseLeases(milliseconds: UInt64.max),
        .expireLeases([1, 2, 3]),
        .registerInstance(makeInstance("10.0.0.5:9000", lease: 4, incarnation: 1_700_000_000)),
        .updateInstance(InstanceUpdate(name: makeInstance("i").name, incarnation: 2, status: .draining, metadata: ["a": "b"], weight: 0)),
        .updateInstance(InstanceUpdate(name: makeInstance("i").name, incarnation: 2)),
        .updateInstance(InstanceUpdate(name: makeInstance("i").name, incarnation: nil, status: .draining)),
        .deregisterInstance(makeInstance("i").name, incarnation: nil),
        .deregisterInstance(makeInstance("i").name, incarnation: 0),
        .compact(-5),
    ]

    @Test("every command kind round-trips", arguments: examples)
    func roundTrip(command: RegistryCommand) throws {
        let encoded = command.encoded()
        #expect(encoded.first == RegistryCommand.formatVersion)
        #expect(try RegistryCommand.decode(encoded, limits: .standard) == command)
    }

    @Test("every truncation of a valid encoding throws", arguments: examples)
    func truncations(command: RegistryCommand) {
        let encoded = command.encoded()
        for length in 0..<encoded.count {
            #expect(throws: CodecError.self) { try RegistryCommand.decode(Array(encoded[0..<length]), limits: .standard) }
        }
    }

    @Test("an instance's metadata must come in strictly ascending key order, with UTF-8 keys")
    func metadataOrder() throws {
        let instance = ServiceInstance(namespace: "n", service: "s", id: "i", metadata: ["a": "1", "b": "2"])
        let encoded = instance.encoded()
        #expect(try ServiceInstance(encoded: encoded, limits: .standard) == instance)
        // The two entries are `01 "a" 01 "1" 01 "b" 01 "2"`: swapping the keys breaks the order.
        let a = try #require(encoded.firstIndex(of: UInt8(ascii: "a")))
        let b = try #require(encoded.firstIndex(of: UInt8(ascii: "b")))
        var swapped = encoded
        swapped[a] = UInt8(ascii: "b")
        swapped[b] = UInt8(ascii: "a")
        #expect(throws: CodecError.invalidValue(field: "metadata", reason: "keys not strictly ascending")) {
            try ServiceInstance(encoded: swapped, limits: .standard)
        }
        var repeated = encoded
        repeated[b] = UInt8(ascii: "a")
        #expect(throws: CodecError.invalidValue(field: "metadata", reason: "keys not strictly ascending")) {
            try ServiceInstance(encoded: repeated, limits: .standard)
        }
        var invalid = encoded
        invalid[b] = 0xFF
        #expect(throws: CodecError.invalidUTF8(field: "metadata key")) {
            try ServiceInstance(encoded: invalid, limits: .standard)
        }
    }

    @Test("trailing bytes and unknown versions are refused")
    func framing() {
        let encoded = RegistryCommand.revokeLease(1).encoded()
        #expect(throws: CodecError.trailingBytes(count: 1)) { try RegistryCommand.decode(encoded + [0], limits: .standard) }
        #expect(throws: CodecError.unknownTag(field: "command version", tag: 2)) {
            try RegistryCommand.decode([2] + encoded.dropFirst(), limits: .standard)
        }
    }

    @Test("seeded random commands round-trip", arguments: [UInt64(1), 2, 3])
    func randomRoundTrip(seed: UInt64) throws {
        var generator = CommandGenerator(seed: seed)
        for command in generator.commands(500, limits: smallLimits()) {
            #expect(try RegistryCommand.decode(command.encoded(), limits: .standard) == command)
        }
    }

    @Test("seeded garbage and mutated encodings throw or decode, never trap", arguments: [UInt64(7), 8, 9])
    func garbage(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        for _ in 0..<3_000 {
            let length = Int.random(in: 0..<64, using: &random)
            var garbage = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            if !garbage.isEmpty && Bool.random(using: &random) { garbage[0] = RegistryCommand.formatVersion }
            _ = try? RegistryCommand.decode(garbage, limits: .standard)
        }
        for example in Self.examples {
            let encoded = example.encoded()
            for _ in 0..<200 {
                var mutated = encoded
                mutated[Int.random(in: 0..<mutated.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                if let decoded = try? RegistryCommand.decode(mutated, limits: .standard) {
                    // Whatever decodes must survive a second round trip unchanged. (Bytes may differ: Codec
                    // accepts overlong varints, which is harmless since every node decodes the same entry.)
                    #expect(try RegistryCommand.decode(decoded.encoded(), limits: .standard) == decoded)
                }
            }
        }
    }

    @Test("a length over its limit is refused before allocating")
    func lengthLimit() {
        var writer = ByteWriter()
        writer.write(RegistryCommand.formatVersion)
        writer.write(UInt8(1))  // put
        writer.writeVarint(UInt64(Int.max))  // key length
        #expect(throws: CodecError.lengthOverLimit(field: "key", length: UInt64(Int.max), limit: 4_096)) {
            try RegistryCommand.decode(writer.bytes, limits: .standard)
        }
    }

    @Test("a command larger than the request limit is refused")
    func requestLimit() {
        var limits = RegistryLimits()
        limits.requestBytes = 16
        let command = RegistryCommand.put(PutRequest(key: bytes("k"), value: Array(repeating: 1, count: 32)))
        #expect(throws: CodecError.self) { try RegistryCommand.decode(command.encoded(), limits: limits) }
    }

    @Test("a non-UTF-8 instance name is refused by the decoder")
    func nonUTF8Name() {
        var encoded = RegistryCommand.deregisterInstance(InstanceName(namespace: "ns", service: "svc", id: "id"), incarnation: nil).encoded()
        encoded[3] = 0xFF  // first byte of the namespace
        #expect(throws: CodecError.invalidUTF8(field: "namespace")) { try RegistryCommand.decode(encoded, limits: .standard) }
    }
}
