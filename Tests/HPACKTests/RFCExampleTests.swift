// Goal: show the decoder and encoder agree byte for byte with every worked example of RFC 7541 Appendix C,
// including the dynamic table's contents and size after each block. Method: each example sequence is a table
// row (blocks in connection order); one decoder and one encoder walk the sequence, the decoder checking fields
// and table state, the encoder (with the example's indexing and Huffman choices) checking the exact octets.
import Testing
@testable import HPACK

struct ExampleBlock: Sendable {
    let wire: String
    let fields: [HeaderField]
    let table: [[String]]
    let tableSize: Int
}

struct ExampleSequence: Sendable, CustomTestStringConvertible {
    let name: String
    let maxTableSize: Int
    let huffman: HPACKEncoder.HuffmanPolicy
    let blocks: [ExampleBlock]
    var testDescription: String { name }
}

private let requestFields: [[HeaderField]] = [
    [field(":method", "GET"), field(":scheme", "http"), field(":path", "/"), field(":authority", "www.example.com")],
    [field(":method", "GET"), field(":scheme", "http"), field(":path", "/"), field(":authority", "www.example.com"),
     field("cache-control", "no-cache")],
    [field(":method", "GET"), field(":scheme", "https"), field(":path", "/index.html"),
     field(":authority", "www.example.com"), field("custom-key", "custom-value")],
]
private let requestTables: [[[String]]] = [
    [[":authority", "www.example.com"]],
    [["cache-control", "no-cache"], [":authority", "www.example.com"]],
    [["custom-key", "custom-value"], ["cache-control", "no-cache"], [":authority", "www.example.com"]],
]
private let date1 = "Mon, 21 Oct 2013 20:13:21 GMT"
private let date2 = "Mon, 21 Oct 2013 20:13:22 GMT"
private let cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"
private let responseFields: [[HeaderField]] = [
    [field(":status", "302"), field("cache-control", "private"), field("date", date1),
     field("location", "https://www.example.com")],
    [field(":status", "307"), field("cache-control", "private"), field("date", date1),
     field("location", "https://www.example.com")],
    [field(":status", "200"), field("cache-control", "private"), field("date", date2),
     field("location", "https://www.example.com"), field("content-encoding", "gzip"), field("set-cookie", cookie)],
]
private let responseTables: [[[String]]] = [
    [["location", "https://www.example.com"], ["date", date1], ["cache-control", "private"], [":status", "302"]],
    [[":status", "307"], ["location", "https://www.example.com"], ["date", date1], ["cache-control", "private"]],
    [["set-cookie", cookie], ["content-encoding", "gzip"], ["date", date2]],
]

private func sequence(_ name: String, tableSize: Int, huffman: HPACKEncoder.HuffmanPolicy, wires: [String],
                      fields: [[HeaderField]], tables: [[[String]]], sizes: [Int]) -> ExampleSequence {
    ExampleSequence(name: name, maxTableSize: tableSize, huffman: huffman, blocks: (0..<wires.count).map {
        ExampleBlock(wire: wires[$0], fields: fields[$0], table: tables[$0], tableSize: sizes[$0])
    })
}

let appendixCSequences: [ExampleSequence] = [
    sequence("C.3 requests without Huffman", tableSize: 4096, huffman: .never, wires: [
        "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        "8286 84be 5808 6e6f 2d63 6163 6865",
        "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
    ], fields: requestFields, tables: requestTables, sizes: [57, 110, 164]),
    sequence("C.4 requests with Huffman", tableSize: 4096, huffman: .always, wires: [
        "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        "8286 84be 5886 a8eb 1064 9cbf",
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
    ], fields: requestFields, tables: requestTables, sizes: [57, 110, 164]),
    sequence("C.5 responses without Huffman", tableSize: 256, huffman: .never, wires: [
        """
        4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32
        3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d
        """,
        "4803 3330 37c1 c0bf",
        """
        88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970
        7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61
        6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31
        """,
    ], fields: responseFields, tables: responseTables, sizes: [222, 222, 215]),
    sequence("C.6 responses with Huffman", tableSize: 256, huffman: .always, wires: [
        """
        4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad
        1718 63c7 8f0b 97c8 e9ae 82ae 43d3
        """,
        "4883 640e ffc1 c0bf",
        """
        88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2
        e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07
        """,
    ], fields: responseFields, tables: responseTables, sizes: [222, 222, 215]),
]

@Suite("RFC 7541 Appendix C examples")
struct RFCExampleTests {
    @Test("decoder yields the example's fields and dynamic table after each block", arguments: appendixCSequences)
    func decodes(sequence: ExampleSequence) throws {
        var decoder = HPACKDecoder(maxTableSize: sequence.maxTableSize)
        for block in sequence.blocks {
            let fields = try decoder.decode(hex(block.wire))
            #expect(fields == block.fields)
            #expect(tableContents(decoder.table) == block.table)
            #expect(decoder.table.size == block.tableSize)
        }
    }

    @Test("encoder with incremental indexing reproduces the example's octets", arguments: appendixCSequences)
    func encodes(sequence: ExampleSequence) {
        var encoder = HPACKEncoder(maxTableSize: sequence.maxTableSize, huffman: sequence.huffman)
        for block in sequence.blocks {
            let fields = block.fields.map { HeaderField(name: $0.name, value: $0.value, indexing: .incremental) }
            #expect(encoder.encode(fields) == hex(block.wire))
            #expect(tableContents(encoder.table) == block.table)
            #expect(encoder.table.size == block.tableSize)
        }
    }

    @Test("C.2.1 literal with indexing enters the table")
    func literalWithIndexing() throws {
        var decoder = HPACKDecoder()
        let wire = hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572")
        #expect(try decoder.decode(wire) == [field("custom-key", "custom-header")])
        #expect(tableContents(decoder.table) == [["custom-key", "custom-header"]])
        #expect(decoder.table.size == 55)
        var encoder = HPACKEncoder(huffman: .never)
        #expect(encoder.encode([HeaderField("custom-key", "custom-header", indexing: .incremental)]) == wire)
    }

    @Test("C.2.2 literal without indexing leaves the table empty")
    func literalWithoutIndexing() throws {
        var decoder = HPACKDecoder()
        let wire = hex("040c 2f73 616d 706c 652f 7061 7468")
        #expect(try decoder.decode(wire) == [field(":path", "/sample/path")])
        #expect(decoder.table.count == 0)
        var encoder = HPACKEncoder(huffman: .never)
        #expect(encoder.encode([HeaderField(":path", "/sample/path", indexing: .withoutIndexing)]) == wire)
        #expect(encoder.table.count == 0)
    }

    @Test("C.2.3 never-indexed literal is reported as never-indexed and not stored")
    func literalNeverIndexed() throws {
        var decoder = HPACKDecoder()
        let wire = hex("1008 7061 7373 776f 7264 0673 6563 7265 74")
        #expect(try decoder.decode(wire) == [HeaderField("password", "secret", indexing: .neverIndexed)])
        #expect(decoder.table.count == 0)
        var encoder = HPACKEncoder(huffman: .never)
        #expect(encoder.encode([HeaderField("password", "secret", indexing: .neverIndexed)]) == wire)
    }

    @Test("C.2.4 indexed field from the static table")
    func indexedStatic() throws {
        var decoder = HPACKDecoder()
        #expect(try decoder.decode([0x82]) == [field(":method", "GET")])
        var encoder = HPACKEncoder()
        #expect(encoder.encode([field(":method", "GET")]) == [0x82])
    }

    @Test("C.1 integer examples", arguments: [
        (10, 5, [UInt8(0x0A)]), (1337, 5, [0x1F, 0x9A, 0x0A]), (42, 8, [0x2A]),
    ])
    func integers(value: Int, prefixBits: Int, wire: [UInt8]) throws {
        var encoded: [UInt8] = []
        PrefixInteger.encode(value, prefixBits: prefixBits, flags: 0, into: &encoded)
        #expect(encoded == wire)
        var position = 0
        #expect(try PrefixInteger.decode(wire, at: &position, prefixBits: prefixBits) == value)
        #expect(position == wire.count)
    }
}
