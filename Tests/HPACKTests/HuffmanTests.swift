// Goal: show the Huffman coder implements the full Appendix B code and the §5.2 error rules exactly.
// Method: known vectors from Appendix C, a round trip of every octet value (so every one of the 256 codes is
// exercised), and hand-built invalid inputs for each decoding error.
import Testing
@testable import HPACK

@Suite("Huffman coding")
struct HuffmanTests {
    @Test("known strings encode to the RFC's octets and back", arguments: [
        ("www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff"),
        ("no-cache", "a8eb 1064 9cbf"),
        ("custom-key", "25a8 49e9 5ba9 7d7f"),
        ("custom-value", "25a8 49e9 5bb8 e8b4 bf"),
        ("302", "6402"),
        ("private", "aec3 771a 4b"),
        ("gzip", "9bd9 ab"),
    ])
    func knownVectors(text: String, wire: String) throws {
        var encoded: [UInt8] = []
        Huffman.encode(Array(text.utf8), into: &encoded)
        #expect(encoded == hex(wire))
        #expect(Huffman.encodedLength(of: Array(text.utf8)) == encoded.count)
        let decoded = try Huffman.decode(encoded, 0..<encoded.count, maxLength: 100)
        #expect(decoded == Array(text.utf8))
    }

    @Test("every octet value round-trips, alone and together")
    func everyOctet() throws {
        for byte in 0...255 {
            var encoded: [UInt8] = []
            Huffman.encode([UInt8(byte)], into: &encoded)
            #expect(try Huffman.decode(encoded, 0..<encoded.count, maxLength: 1) == [UInt8(byte)])
        }
        let all = (0...255).map { UInt8($0) }
        var encoded: [UInt8] = []
        Huffman.encode(all + all.reversed(), into: &encoded)
        #expect(try Huffman.decode(encoded, 0..<encoded.count, maxLength: 512) == all + all.reversed())
    }

    @Test("the empty string is zero octets")
    func empty() throws {
        #expect(try Huffman.decode([], 0..<0, maxLength: 1) == [])
    }

    @Test("EOS inside the string is an error")
    func endOfString() {
        // EOS is 30 one-bits; four 0xFF octets hold it with two bits to spare.
        #expect(throws: HPACKError.huffmanEndOfString) {
            try Huffman.decode([0xFF, 0xFF, 0xFF, 0xFF], 0..<4, maxLength: 10)
        }
    }

    @Test("padding of 8 or more bits is an error")
    func paddingTooLong() {
        // '0' is 00000 (5 bits) then 3 one-bits of padding, then a whole octet of ones: 11 bits of padding.
        #expect(throws: HPACKError.huffmanInvalidPadding) {
            try Huffman.decode([0x07, 0xFF], 0..<2, maxLength: 10)
        }
        #expect(throws: HPACKError.huffmanInvalidPadding) { try Huffman.decode([0xFF], 0..<1, maxLength: 10) }
    }

    @Test("padding that is not all ones is an error")
    func paddingNotOnes() {
        // '0' (00000) followed by 010 instead of 111.
        #expect(throws: HPACKError.huffmanInvalidPadding) { try Huffman.decode([0x02], 0..<1, maxLength: 10) }
    }

    @Test("output longer than the limit is refused while decoding")
    func outputLimit() {
        var encoded: [UInt8] = []
        Huffman.encode(Array(repeating: UInt8(ascii: "0"), count: 16), into: &encoded)
        #expect(throws: HPACKError.stringTooLong(length: 9, limit: 8)) {
            try Huffman.decode(encoded, 0..<encoded.count, maxLength: 8)
        }
    }
}
