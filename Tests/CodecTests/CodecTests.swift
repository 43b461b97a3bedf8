// Goal: the primitives every Roster format is built from round-trip exactly and reject malformed input
// with a `CodecError`, never a trap. Method: table-driven round trips, known CRC-32C vectors, and seeded
// random garbage fed to the reader.
import Codec
import Testing

@Suite("Codec primitives")
struct CodecTests {
    @Test("varints round-trip across their whole range", arguments: [
        UInt64(0), 1, 127, 128, 300, 16_383, 16_384, UInt64(UInt32.max), UInt64.max - 1, UInt64.max,
    ])
    func varintRoundTrip(value: UInt64) throws {
        var writer = ByteWriter()
        writer.writeVarint(value)
        var reader = ByteReader(writer.bytes)
        #expect(try reader.readVarint() == value)
        try reader.expectEnd()
    }

    @Test("signed varints round-trip", arguments: [Int64(0), -1, 1, -64, 64, Int64.min, Int64.max])
    func signedRoundTrip(value: Int64) throws {
        var writer = ByteWriter()
        writer.writeSignedVarint(value)
        var reader = ByteReader(writer.bytes)
        #expect(try reader.readSignedVarint() == value)
    }

    @Test("an eleven-byte varint is malformed, not a trap")
    func overlongVarint() {
        var reader = ByteReader([UInt8](repeating: 0xFF, count: 11))
        #expect(throws: CodecError.malformedVarint(offset: 0)) { try reader.readVarint() }
    }

    @Test("a length prefix over the limit is refused before allocation")
    func lengthLimit() {
        var writer = ByteWriter()
        writer.writeVarint(1 << 40)
        var reader = ByteReader(writer.bytes)
        #expect(throws: CodecError.lengthOverLimit(field: "blob", length: 1 << 40, limit: 1024)) {
            try reader.readLengthPrefixed("blob", limit: 1024)
        }
    }

    @Test("invalid UTF-8 in a string field is reported")
    func invalidUTF8() {
        var writer = ByteWriter()
        writer.writeLengthPrefixed([0xC3, 0x28])
        var reader = ByteReader(writer.bytes)
        #expect(throws: CodecError.invalidUTF8(field: "name")) { try reader.readString("name", limit: 16) }
    }

    @Test("CRC-32C by eight-byte slices equals the bitwise definition at every length, offset and split")
    func crcSlicingMatchesBitwise() {
        func bitwise(_ bytes: ArraySlice<UInt8>) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            }
            return ~crc
        }
        var state: UInt64 = 7
        let data: [UInt8] = (0..<300).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        for start in 0..<9 {
            for end in stride(from: start, through: data.count, by: 7) {
                let slice = data[start..<end]
                let expected = bitwise(slice)
                #expect(CRC32C.checksum(slice) == expected)
                #expect(CRC32C.checksum(Array(slice)) == expected)
                #expect(CRC32C.checksum(AnySequence(slice)) == expected, "the non-contiguous path")
                let middle = (start + end) / 2
                #expect(CRC32C.update(CRC32C.checksum(data[start..<middle]), data[middle..<end]) == expected)
            }
        }
    }

    @Test("CRC-32C matches the RFC 3720 test vectors")
    func crcVectors() {
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        let split = CRC32C.update(CRC32C.checksum(Array("1234".utf8)), Array("56789".utf8))
        #expect(split == 0xE306_9283)
    }

    @Test("the eight-bytes-at-a-time path equals the bitwise definition at every length and offset")
    func crcSlicing() {
        func reference(_ bytes: some Sequence<UInt8>) -> UInt32 {
            var crc: UInt32 = ~0
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            }
            return ~crc
        }
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        let data = (0..<300).map { _ -> UInt8 in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: seed >> 56)
        }
        for start in 0..<9 {
            for end in start...data.count where (end - start) % 7 == 0 || end - start < 20 {
                let slice = data[start..<end]
                #expect(CRC32C.checksum(slice) == reference(slice), "bytes \(start)..<\(end)")
                #expect(CRC32C.checksum(Array(slice)) == reference(slice))
                #expect(CRC32C.checksum(AnySequence(slice)) == reference(slice), "the non-contiguous path")
            }
        }
        // Extending in pieces of any size equals one pass.
        let whole = CRC32C.checksum(data)
        for cut in [0, 1, 7, 8, 9, 64, 299, 300] {
            #expect(CRC32C.update(CRC32C.checksum(data[..<cut]), data[cut...]) == whole)
        }
    }

    @Test("fixed-width integers are little-endian and back-patchable")
    func fixedWidth() throws {
        var writer = ByteWriter()
        writer.writeFixed(UInt32(0))
        writer.writeFixed(UInt64(0x0102_0304_0506_0708))
        writer.patchFixed(0xDEAD_BEEF, at: 0)
        #expect(Array(writer.bytes[4..<6]) == [0x08, 0x07])
        var reader = ByteReader(writer.bytes)
        #expect(try reader.readFixed32() == 0xDEAD_BEEF)
        #expect(try reader.readFixed64() == 0x0102_0304_0506_0708)
    }

    @Test("seeded garbage never traps the reader", arguments: 0..<64)
    func garbage(seed: Int) {
        var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 | 1
        var bytes: [UInt8] = []
        for _ in 0..<(seed % 40) {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            bytes.append(UInt8(truncatingIfNeeded: state))
        }
        var reader = ByteReader(bytes)
        for _ in 0..<8 {
            let before = reader.offset
            // A failed read leaves the cursor within the input; a successful one only moves it forward.
            _ = try? reader.readVarint()
            _ = try? reader.readString("s", limit: 8)
            _ = try? reader.readFixed32()
            _ = try? reader.readBool()
            #expect(reader.offset >= before)
            #expect(reader.offset <= bytes.count)
            #expect(reader.remaining == bytes.count - reader.offset)
        }
    }
}
