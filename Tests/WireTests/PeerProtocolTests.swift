// Goal: every Raft message survives the wire exactly, and no byte sequence from a peer can crash a
// node: malformed messages and frames end in a typed error.
// Method: seeded random messages of every kind round-trip; every strict prefix of an encoding must
// throw; seeded garbage and single-bit flips must throw or decode, never trap; frames are fed in
// arbitrary splits and checked for cluster, magic, version, size and checksum refusal.
import Codec
import Raft
import Testing
import Wire

@Suite("Peer protocol")
struct PeerProtocolTests {
    static func randomMessage(_ random: inout SplitMix64) -> Message {
        func id() -> NodeID { NodeID(1 + random.next() % 7) }
        func index() -> LogIndex { LogIndex(random.next() % 1_000) }
        func term() -> Term { Term(random.next() % 50) }
        let configuration = Configuration(voters: [id(), id()], learners: [id()])
        let body: MessageBody
        switch random.next() % 13 {
        case 0: body = .preVote(lastLogIndex: index(), lastLogTerm: term())
        case 1: body = .preVoteResponse(granted: random.next() % 2 == 0)
        case 2: body = .vote(lastLogIndex: index(), lastLogTerm: term(), isLeadershipTransfer: random.next() % 2 == 0)
        case 3: body = .voteResponse(granted: random.next() % 2 == 0)
        case 4:
            let prev = index()
            let entries = (0..<random.next() % 5).map { offset -> Entry in
                let payload: EntryPayload
                switch random.next() % 3 {
                case 0: payload = .noop
                case 1: payload = .command((0..<random.next() % 20).map { _ in UInt8(truncatingIfNeeded: random.next()) })
                default: payload = .membership(.remove(id()))
                }
                return Entry(term: Term(60), index: prev + (offset + 1), payload: payload)
            }
            body = .append(AppendEntries(prevLogIndex: prev, prevLogTerm: term(), entries: entries, commit: index()))
        case 5:
            let choices: [AppendResponse] = [
                .accepted(matchIndex: index()), .rejected(rejectedIndex: index(), hintIndex: index(), hintTerm: term()), .needsSnapshot,
            ]
            body = .appendResponse(choices[Int(random.next() % 3)])
        case 6: body = .heartbeat(commit: index(), readRound: random.next())
        case 7: body = .heartbeatResponse(readRound: random.next())
        case 8:
            let data = (0..<random.next() % 16).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            body = .snapshotChunk(
                SnapshotChunk(
                    metadata: SnapshotMetadata(index: index(), term: term(), configuration: configuration),
                    totalBytes: 100, offset: 10, data: data))
        case 9: body = .snapshotResponse(SnapshotResponse(snapshotIndex: index(), nextOffset: random.next() % 99, isComplete: random.next() % 2 == 0))
        case 10: body = .timeoutNow
        case 11: body = .readIndex(requestID: random.next())
        default: body = .readIndexResponse(requestID: random.next(), index: random.next() % 2 == 0 ? index() : nil)
        }
        return Message(from: id(), to: id(), term: term(), body: body)
    }

    static func encode(_ message: Message) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(message)
        return writer.bytes
    }

    @Test("every kind of message round-trips exactly", arguments: 0..<200)
    func roundTrip(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let message = Self.randomMessage(&random)
        var reader = ByteReader(Self.encode(message))
        #expect(try reader.readMessage() == message)
        try reader.expectEnd()
    }

    @Test("every strict prefix of an encoded message is refused", arguments: 0..<40)
    func truncations(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let bytes = Self.encode(Self.randomMessage(&random))
        for length in 0..<bytes.count {
            var reader = ByteReader(Array(bytes[0..<length]))
            #expect(throws: CodecError.self) { try reader.readMessage() }
        }
    }

    @Test("bit flips and garbage never trap the decoder", arguments: 0..<100)
    func garbage(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var bytes = Self.encode(Self.randomMessage(&random))
        let position = Int(random.next() % UInt64(bytes.count))
        bytes[position] ^= UInt8(1 << (random.next() % 8))
        let noise = (0..<(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        for input in [bytes, noise] {
            var reader = ByteReader(input)
            // Whatever the decoder accepts must be a well-formed message: it re-encodes and decodes to itself.
            if case .success(let message) = Result(catching: { () throws(CodecError) in try reader.readMessage() }) {
                var again = ByteReader(Self.encode(message))
                #expect(try again.readMessage() == message)
            }
        }
    }

    @Test("appends whose entries are out of order are refused")
    func outOfOrderEntries() {
        let entries = [Entry(term: Term(2), index: LogIndex(5), payload: .noop), Entry(term: Term(2), index: LogIndex(7), payload: .noop)]
        let message = Message(
            from: NodeID(1), to: NodeID(2), term: Term(2),
            body: .append(AppendEntries(prevLogIndex: LogIndex(4), prevLogTerm: Term(1), entries: entries, commit: .zero)))
        var reader = ByteReader(Self.encode(message))
        #expect(throws: CodecError.self) { try reader.readMessage() }
    }

    @Test("a node ID of 0 from a peer is an error, not a trap")
    func zeroNodeID() {
        var reader = ByteReader([0, 1, 1, 10])
        #expect(throws: CodecError.invalidValue(field: "message.from", reason: "node ID 0 is reserved")) { try reader.readMessage() }
    }

    @Test("an index or a term beyond 2^62 from a peer is an error, not a trap")
    func indexAndTermBounds() throws {
        func message(term: Term = Term(2), _ body: MessageBody) -> Message {
            Message(from: NodeID(1), to: NodeID(2), term: term, body: body)
        }
        func append(after index: LogIndex, entries: [Entry] = []) -> MessageBody {
            .append(AppendEntries(prevLogIndex: index, prevLogTerm: Term(1), entries: entries, commit: .zero))
        }
        let largest = LogIndex.largestDecodable
        // `scripts/fuzz` found the first: an append after index 2^64−1 trapped computing its first entry's index.
        let refused: [(Message, String)] = [
            (message(append(after: LogIndex(.max))), "prevLogIndex"),
            (message(append(after: largest, entries: [Entry(term: Term(2), index: largest.next, payload: .noop)])),
             "entry.index"),
            (message(term: Term(Term.largestDecodable.rawValue + 1), .timeoutNow), "message.term"),
            (message(.heartbeat(commit: largest.next, readRound: 1)), "commit"),
            (message(.appendResponse(.rejected(rejectedIndex: .zero, hintIndex: .zero, hintTerm: Term(.max)))), "hintTerm"),
        ]
        for (beyond, field) in refused {
            var reader = ByteReader(Self.encode(beyond))
            let error = #expect(throws: CodecError.self) { try reader.readMessage() }
            guard case .invalidValue(let refusedField, _) = error else {
                Issue.record("\(beyond): \(String(describing: error)), not an invalid value")
                continue
            }
            #expect(refusedField == field)
        }
        // The bound itself is accepted.
        let atBound = message(term: Term.largestDecodable, append(after: largest))
        var reader = ByteReader(Self.encode(atBound))
        #expect(try reader.readMessage() == atBound)
    }

    @Test("frames arrive whole whatever the split of the byte stream")
    func frameSplits() throws {
        let frames = (0..<5).map { PeerFrame(kind: .raft, clusterID: 9, senderID: 2, payload: Array(repeating: UInt8($0), count: $0 * 7)) }
        let stream = frames.flatMap { $0.encoded() }
        for split in [1, 2, 3, 7, 31, stream.count] {
            var decoder = PeerFrameDecoder(clusterID: 9, maxPayloadBytes: 1_024)
            var received: [PeerFrame] = []
            var offset = 0
            while offset < stream.count {
                decoder.feed(stream[offset..<min(offset + split, stream.count)])
                offset += split
                while let frame = try decoder.next() { received.append(frame) }
            }
            #expect(received == frames)
        }
    }

    @Test("a frame from another cluster is refused")
    func wrongCluster() {
        var decoder = PeerFrameDecoder(clusterID: 9, maxPayloadBytes: 1_024)
        decoder.feed(PeerFrame(kind: .raft, clusterID: 8, senderID: 2, payload: [1]).encoded())
        #expect(throws: PeerFrameError.wrongCluster(expected: 9, received: 8)) { try decoder.next() }
    }

    @Test("an oversized frame is refused from its header, before its payload arrives")
    func oversized() {
        var decoder = PeerFrameDecoder(clusterID: 9, maxPayloadBytes: 16)
        let bytes = PeerFrame(kind: .raft, clusterID: 9, senderID: 2, payload: Array(repeating: 0, count: 17)).encoded()
        decoder.feed(bytes.prefix(PeerFrame.headerBytes))
        #expect(throws: PeerFrameError.frameTooLarge(length: 17, limit: 16)) { try decoder.next() }
    }

    @Test("bytes that are not Roster's are refused at the first bytes")
    func badMagic() {
        var decoder = PeerFrameDecoder(clusterID: 9, maxPayloadBytes: 16)
        decoder.feed(Array("GET ".utf8))
        #expect(throws: PeerFrameError.badMagic(Array("GET ".utf8))) { try decoder.next() }
    }

    @Test("a corrupted payload fails its checksum")
    func checksum() {
        var decoder = PeerFrameDecoder(clusterID: 9, maxPayloadBytes: 16)
        var bytes = PeerFrame(kind: .raft, clusterID: 9, senderID: 2, payload: [1, 2, 3]).encoded()
        bytes[bytes.count - 1] ^= 0x40
        decoder.feed(bytes)
        #expect(throws: PeerFrameError.self) { try decoder.next() }
    }

    @Test("an unknown protocol version is refused")
    func version() {
        var decoder = PeerFrameDecoder(clusterID: 9, maxPayloadBytes: 16)
        var bytes = PeerFrame(kind: .raft, clusterID: 9, senderID: 2, payload: [1]).encoded()
        bytes[4] = 2
        decoder.feed(bytes)
        #expect(throws: PeerFrameError.unsupportedVersion(2)) { try decoder.next() }
    }
}
