// Goal: the Wire encoding of the persisted Raft types (Entry, HardState, Configuration,
// SnapshotMetadata) round-trips every value exactly and turns every malformed input into a
// CodecError, never a trap or an oversized allocation. Method: seeded random values encoded and
// decoded; every strict prefix of an encoding must throw; hand-made bad inputs for the rules the
// decoder enforces (reserved node ID 0, ordering, limits, unknown tags).
import Codec
import Raft
import Testing
import Wire

@testable import Storage

@Suite("Wire encoding of Raft types")
struct RaftTypesWireTests {
    static func randomNode(_ random: inout TestRandom) -> NodeID { NodeID(1 + random.next() % 1000) }

    /// An index or term a decoder accepts (below `LogIndex.largestDecodable`), of any encoded length.
    static func decodable(_ random: inout TestRandom) -> UInt64 { random.next() >> (2 + random.next() % 62) }

    static func randomEntry(_ random: inout TestRandom) -> Entry {
        let payload: EntryPayload
        switch random.next() % 5 {
        case 0: payload = .noop
        case 1: payload = .membership(.addLearner(randomNode(&random)))
        case 2: payload = .membership(.promoteLearner(randomNode(&random)))
        case 3: payload = .membership(.remove(randomNode(&random)))
        default: payload = .command((0..<(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        }
        return Entry(
            term: Term(decodable(&random)), index: LogIndex(decodable(&random)),
            payload: payload)
    }

    static func randomConfiguration(_ random: inout TestRandom) -> Configuration {
        Configuration(
            voters: (0..<(random.next() % 7)).map { _ in randomNode(&random) },
            learners: (0..<(random.next() % 4)).map { _ in randomNode(&random) })
    }

    @Test("random entries round-trip and every strict prefix throws", arguments: 0..<20)
    func entryRoundTrip(seed: UInt64) throws {
        var random = TestRandom(seed: seed)
        let original = Self.randomEntry(&random)
        var writer = ByteWriter()
        writer.write(original)
        var reader = ByteReader(writer.bytes)
        #expect(try reader.readEntry() == original)
        try reader.expectEnd()
        for cut in 0..<writer.bytes.count {
            var truncated = ByteReader(Array(writer.bytes[0..<cut]))
            #expect(throws: CodecError.self) { try truncated.readEntry() }
        }
    }

    @Test("random hard states, configurations and snapshot metadata round-trip", arguments: 0..<20)
    func otherTypesRoundTrip(seed: UInt64) throws {
        var random = TestRandom(seed: seed)
        let hardState = HardState(
            term: Term(Self.decodable(&random)), vote: random.next() % 3 == 0 ? nil : Self.randomNode(&random),
            commit: LogIndex(Self.decodable(&random)))
        let metadata = SnapshotMetadata(
            index: LogIndex(Self.decodable(&random)), term: Term(Self.decodable(&random)),
            configuration: Self.randomConfiguration(&random))
        var writer = ByteWriter()
        writer.write(hardState)
        writer.write(metadata)
        var reader = ByteReader(writer.bytes)
        #expect(try reader.readHardState() == hardState)
        #expect(try reader.readSnapshotMetadata() == metadata)
        try reader.expectEnd()
        for cut in 0..<writer.bytes.count {
            var truncated = ByteReader(Array(writer.bytes[0..<cut]))
            #expect(throws: CodecError.self) {
                _ = try truncated.readHardState()
                _ = try truncated.readSnapshotMetadata()
            }
        }
    }

    @Test("a node ID of 0 is an error, not a trap")
    func reservedNodeID() {
        var reader = ByteReader([2, 0])  // remove(node 0)
        #expect(throws: CodecError.self) { try reader.readMembershipChange() }
        var configuration = ByteReader([1, 0, 0])
        #expect(throws: CodecError.invalidValue(field: "configuration.voters", reason: "node ID 0 is reserved")) {
            try configuration.readConfiguration()
        }
    }

    @Test("configuration IDs out of order or shared by voters and learners are refused")
    func configurationOrder() {
        var descending = ByteReader([2, 5, 3, 0])
        #expect(throws: CodecError.self) { try descending.readConfiguration() }
        var overlapping = ByteReader([1, 4, 1, 4])
        #expect(throws: CodecError.self) { try overlapping.readConfiguration() }
    }

    @Test("a command over the limit is refused before it is copied")
    func commandLimit() {
        var writer = ByteWriter()
        writer.write(Entry(term: Term(1), index: LogIndex(1), payload: .command([UInt8](repeating: 9, count: 100))))
        var reader = ByteReader(writer.bytes)
        #expect(throws: CodecError.lengthOverLimit(field: "entry.command", length: 100, limit: 10)) {
            try reader.readEntry(limits: RaftDecodingLimits(commandBytes: 10))
        }
    }

    @Test("an unknown payload tag is an error")
    func unknownTag() {
        var reader = ByteReader([1, 1, 9])
        #expect(throws: CodecError.unknownTag(field: "entry.payload", tag: 9)) { try reader.readEntry() }
    }
}
