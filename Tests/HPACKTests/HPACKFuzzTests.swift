// Goal: show that whatever the encoder produces the decoder reads back exactly (fields, never-indexed marks and
// the dynamic table itself), and that no byte sequence can trap the decoder or push it past its limits.
// Method: a seeded SplitMix64 builds random header lists (static names, random names, non-UTF-8 values, every
// indexing choice and Huffman policy) with random peer table-size changes; separately it mutates valid blocks
// and generates garbage, checking the decoder's invariants after every accepted or rejected block.
import Testing
@testable import HPACK
import Raft

let hpackFuzzSeeds: [UInt64] = [1, 2, 3, 42, 7541, 0xDEAD_BEEF]

@Suite("HPACK fuzz")
struct HPACKFuzzTests {
    static let names = [":status", "content-type", "grpc-status", "grpc-message", "date", "authorization",
                        "x-custom", "te", ":path", "cookie", "etag", "accept-encoding"].map { Array($0.utf8) }

    static func randomBytes(_ random: inout SplitMix64, maxCount: Int) -> [UInt8] {
        (0..<Int.random(in: 0...maxCount, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
    }

    static func randomField(_ random: inout SplitMix64) -> HeaderField {
        let name = Bool.random(using: &random) ? names.randomElement(using: &random)!
            : randomBytes(&random, maxCount: 12)
        let value = Int.random(in: 0..<4, using: &random) == 0 ? randomBytes(&random, maxCount: 150)
            : Array(String(Int.random(in: 0..<20, using: &random)).utf8)
        let indexing = [HeaderIndexing.automatic, .incremental, .withoutIndexing, .neverIndexed]
            .randomElement(using: &random)!
        return HeaderField(name: name, value: value, indexing: indexing)
    }

    @Test("encoded header lists decode to the same fields and the same table", arguments: hpackFuzzSeeds)
    func roundTrip(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var encoder = HPACKEncoder(huffman: [.never, .always, .whenShorter].randomElement(using: &random)!)
        var decoder = HPACKDecoder(maxHeaderListSize: 1 << 20)
        for _ in 0..<200 {
            if Int.random(in: 0..<10, using: &random) == 0 {
                encoder.setPeerMaxTableSize(Int.random(in: 0...8192, using: &random))
            }
            let fields = (0..<Int.random(in: 0...12, using: &random)).map { _ in Self.randomField(&random) }
            let decoded = try decoder.decode(encoder.encode(fields))
            try #require(decoded.count == fields.count)
            for (sent, received) in zip(fields, decoded) {
                #expect(sent.name == received.name && sent.value == received.value)
                // Automatic indexing protects credentials by itself (see `HPACKEncoder.sensitiveNames`).
                let protected = sent.indexing == .neverIndexed
                    || (sent.indexing == .automatic && HPACKEncoder.sensitiveNames.contains(sent.name))
                #expect(protected == (received.indexing == .neverIndexed))
            }
            #expect(decoder.table == encoder.table)
            #expect(decoder.table.size <= decoder.table.maxSize)
        }
    }

    @Test("mutated and random blocks decode within limits or throw a typed error", arguments: hpackFuzzSeeds)
    func mutations(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var encoder = HPACKEncoder()
        var decoder = HPACKDecoder(maxTableSize: 512, maxHeaderListSize: 600, maxStringLength: 200)
        var (accepted, rejected) = (0, 0)
        for round in 0..<1500 {
            var block = round % 3 == 0 ? Self.randomBytes(&random, maxCount: 64)
                : encoder.encode((0..<Int.random(in: 1...6, using: &random)).map { _ in Self.randomField(&random) })
            for _ in 0..<Int.random(in: 0...3, using: &random) where !block.isEmpty {
                let position = Int.random(in: 0..<block.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: block[position] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
                case 1: block.removeSubrange(position...)
                default: block.insert(UInt8.random(in: 0...255, using: &random), at: position)
                }
            }
            do {
                let fields = try decoder.decode(block)
                accepted += 1
                #expect(fields.reduce(0) { $0 + $1.size } <= 600)
                #expect(fields.allSatisfy { $0.name.count <= 200 && $0.value.count <= 200 })
            } catch {
                rejected += 1
                // After a connection error the context is lost; a real connection would close, so start over.
                if error.isConnectionError { decoder = HPACKDecoder(maxTableSize: 512, maxHeaderListSize: 600,
                                                                    maxStringLength: 200) }
            }
            #expect(decoder.table.size <= decoder.table.maxSize && decoder.table.maxSize <= 512)
        }
        #expect(accepted > 0 && rejected > 0)
    }
}
