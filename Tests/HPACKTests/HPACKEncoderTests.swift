// Goal: show the encoder's indexing choices suit gRPC responses (static matches, indexed repeatable fields,
// unindexed volatile fields, never-indexed credentials) and that it follows the peer's table size setting with
// correctly placed size updates. Method: encode small lists and inspect octets and the encoder's table, always
// decoding the result with a fresh `HPACKDecoder` to prove the peer would see the same fields.
import Testing
@testable import HPACK
import Raft  // SplitMix64

@Suite("HPACK encoder")
struct HPACKEncoderTests {
    @Test("a repeated gRPC response costs one octet per repeatable field the second time")
    func grpcResponses() throws {
        var encoder = HPACKEncoder()
        var decoder = HPACKDecoder()
        let headers = [field(":status", "200"), field("content-type", "application/grpc")]
        let trailers = [field("grpc-status", "0"), field("grpc-message", "")]
        _ = encoder.encode(headers)
        _ = encoder.encode(trailers)
        #expect(encoder.table.count == 2)  // content-type and grpc-status; grpc-message is volatile
        let second = encoder.encode(headers)
        #expect(second == [0x88, 0xBF])  // :status 200 static, content-type at dynamic index 63
        #expect(encoder.encode(trailers).first == 0xBE)
        var replay = HPACKEncoder()
        _ = try decoder.decode(replay.encode(headers))
        #expect(try decoder.decode(replay.encode(trailers)) == trailers)
    }

    @Test("credentials are never indexed")
    func sensitive() throws {
        var encoder = HPACKEncoder()
        let block = encoder.encode([field("authorization", "Bearer xyz"), field("token", "abc")])
        #expect(encoder.table.count == 0)
        var decoder = HPACKDecoder()
        let decoded = try decoder.decode(block)
        #expect(decoded.map(\.indexing) == [.neverIndexed, .neverIndexed])
        #expect(Array(block.prefix(2)) == [0x1F, 0x08])  // never-indexed, name index 15 + 8 = 23 (authorization)
    }

    @Test("a smaller peer table size is announced at the start of the next block and evicts")
    func peerShrinks() throws {
        var encoder = HPACKEncoder()
        var decoder = HPACKDecoder()
        _ = try decoder.decode(encoder.encode([field("content-type", "application/grpc")]))
        encoder.setPeerMaxTableSize(0)
        let block = encoder.encode([field("content-type", "application/grpc")])
        #expect(block.first == 0x20)
        #expect(encoder.table.count == 0)
        _ = try decoder.decode(block)
        #expect(decoder.table == encoder.table)
    }

    @Test("a dip and recovery of the peer's size announces both the minimum and the final size")
    func dipAndRecover() throws {
        var encoder = HPACKEncoder()
        encoder.setPeerMaxTableSize(100)
        encoder.setPeerMaxTableSize(4096)
        let block = encoder.encode([field(":method", "GET")])
        #expect(Array(block.prefix(2)) == [0x3F, 0x45])  // 100 = 31 + 69
        #expect(Array(block.suffix(4)) == [0x3F, 0xE1, 0x1F, 0x82])  // 4096, then :method GET
    }

    @Test("a peer allowing more than our ceiling is capped")
    func ceiling() {
        var encoder = HPACKEncoder(tableSizeCeiling: 1024)
        _ = encoder.encode([])
        encoder.setPeerMaxTableSize(65536)
        _ = encoder.encode([field("content-type", "application/grpc")])
        #expect(encoder.table.maxSize == 1024)
    }

    @Test("Huffman is used only when shorter by default")
    func huffmanWhenShorter() {
        var encoder = HPACKEncoder()
        let block = encoder.encode([HeaderField("x", "\u{7F}\u{7F}", indexing: .withoutIndexing)])
        // 0x7F has a 28-bit code, so raw is shorter: the value length octet has no H bit.
        #expect(block == [0x00, 0x01, 0x78, 0x02, 0x7F, 0x7F])
    }

    @Test("a remembered block is reused only while the table is unchanged, and decodes as a fresh encoding does")
    func rememberedBlocks() throws {
        let headers = [field(":status", "200"), field("content-type", "application/grpc")]
        let ok = [field("grpc-status", "0")]
        var encoder = HPACKEncoder()
        _ = encoder.encode(headers)  // inserts content-type: not remembered, the table changed
        let first = encoder.encode(headers)  // all references now: remembered
        #expect(first == [0x88, 0xBE])
        #expect(encoder.encode(headers) == first)
        _ = encoder.encode(ok)  // inserts grpc-status 0, which moves content-type to index 63
        #expect(encoder.encode(headers) == [0x88, 0xBF])
    }

    @Test("a remembering encoder writes the same octets as one that encodes every block afresh", arguments: 0..<20)
    func rememberingMatchesFresh(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let responseHeaders = [field(":status", "200"), field("content-type", "application/grpc")]
        let okTrailers = [field("grpc-status", "0")]
        let lists: [[HeaderField]] = [
            responseHeaders, okTrailers, responseHeaders + okTrailers,
            [field("grpc-status", "5"), field("grpc-message", "etcdserver: key not found")],
            [field("grpc-status", "14"), field("grpc-message", "etcdserver: no leader")],
            [field("x-large", String(repeating: "v", count: 1500))],
            [field("x-custom", "a"), field("x-other", "b")],
        ]
        var remembering = HPACKEncoder(maxTableSize: 4096, tableSizeCeiling: 4096)
        var fresh = HPACKEncoder(maxTableSize: 4096, tableSizeCeiling: 4096, rememberedBlockLimit: 0)
        var decoder = HPACKDecoder()
        for step in 0..<400 {
            switch random.next() % 20 {
            case 0:
                let size = Int(random.next() % 5000)
                remembering.setPeerMaxTableSize(size)
                fresh.setPeerMaxTableSize(size)
            case 1:
                let policy: HPACKEncoder.HuffmanPolicy = [.never, .always, .whenShorter][Int(random.next() % 3)]
                remembering.huffman = policy
                fresh.huffman = policy
            default:
                // Mostly the same constant lists, so their blocks are remembered and reused.
                let fields = lists[Int(random.next() % UInt64(lists.count))]
                let block = remembering.encode(fields)
                #expect(block == fresh.encode(fields), "step \(step)")
                #expect(try decoder.decode(block).map { [$0.nameString, $0.valueString] }
                        == fields.map { [$0.nameString, $0.valueString] }, "step \(step)")
                #expect(remembering.table == fresh.table)
                #expect(decoder.table == remembering.table)
            }
        }
    }
}
