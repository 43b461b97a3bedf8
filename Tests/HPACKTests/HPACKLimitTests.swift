// Goal: show each malformed or abusive header block becomes the right typed `HPACKError`, that limits fire, and
// that the one stream-level error (an oversized header list) leaves the dynamic table in step with the encoder.
// Method: hand-built blocks, one per rule, each checked for the exact error and, where it matters, the table.
import Testing
@testable import HPACK

@Suite("HPACK decoder limits and errors")
struct HPACKLimitTests {
    @Test("malformed blocks throw the exact error", arguments: [
        ("index 0", "80", HPACKError.invalidIndex(0)),
        ("index past the tables", "be", .invalidIndex(62)),
        ("name index past the tables", "7f01 0161", .invalidIndex(64)),
        ("integer ends early", "ff", .truncatedBlock),
        ("integer too large", "ff ffff ffff ff0f", .integerOverflow),
        ("integer with endless continuation", "ff 8080 8080 8080 8001", .integerOverflow),
        ("string length past the block", "400a 6162", .truncatedBlock),
        ("value missing", "4001 61", .truncatedBlock),
        ("size update after a field", "82 3f e11f", .tableSizeUpdateNotAtBlockStart),
        ("size update above our setting", "3fe2 1f", .tableSizeUpdateTooLarge(requested: 4097, limit: 4096)),
        ("Huffman EOS in a value", "0001 61 84ff ffff ff", .huffmanEndOfString),
    ] as [(String, String, HPACKError)])
    func rejects(name: String, wire: String, error: HPACKError) {
        var decoder = HPACKDecoder()
        #expect(throws: error, "\(name)") { try decoder.decode(hex(wire)) }
        #expect(error.isConnectionError)
    }

    @Test("size updates at the block start shrink and evict, and two in a row are allowed")
    func sizeUpdates() throws {
        var decoder = HPACKDecoder()
        _ = try decoder.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"))
        #expect(decoder.table.count == 1)
        // Size 0 then size 4096 (3fe1 1f): the entry is evicted by the first update.
        #expect(try decoder.decode(hex("20 3fe1 1f 82")) == [field(":method", "GET")])
        #expect(decoder.table.count == 0)
        #expect(decoder.table.maxSize == 4096)
    }

    @Test("a string longer than the limit is refused")
    func stringLimit() {
        var decoder = HPACKDecoder(maxStringLength: 4)
        #expect(throws: HPACKError.stringTooLong(length: 5, limit: 4)) {
            try decoder.decode(hex("0005 6162 6364 65 01 61"))
        }
    }

    @Test("an oversized header list is a stream error and the table stays in step")
    func headerListLimit() throws {
        var encoder = HPACKEncoder()
        var decoder = HPACKDecoder(maxHeaderListSize: 100)
        let big = [HeaderField("x-one", String(repeating: "a", count: 40), indexing: .incremental),
                   HeaderField("x-two", String(repeating: "b", count: 40), indexing: .incremental)]
        let error = #expect(throws: HPACKError.self) { try decoder.decode(encoder.encode(big)) }
        #expect(error == .headerListTooLarge(size: 154, limit: 100))
        #expect(error?.isConnectionError == false)
        #expect(decoder.table == encoder.table)
        // The next block refers to both entries by index and must decode to the same values.
        let next = try decoder.decode(encoder.encode([big[1]]))
        #expect(next.map(\.valueString) == [String(repeating: "b", count: 40)])
    }

    @Test("a field bigger than the whole table empties it without error")
    func oversizedEntry() throws {
        var decoder = HPACKDecoder(maxTableSize: 64)
        var encoder = HPACKEncoder(maxTableSize: 64, tableSizeCeiling: 64)
        _ = try decoder.decode(encoder.encode([HeaderField("a", "b", indexing: .incremental)]))
        #expect(decoder.table.count == 1)
        let big = HeaderField("big", String(repeating: "z", count: 64), indexing: .incremental)
        #expect(try decoder.decode(encoder.encode([big])) == [HeaderField("big", String(repeating: "z", count: 64))])
        #expect(decoder.table.count == 0)
        #expect(decoder.table.size == 0)
    }
}
