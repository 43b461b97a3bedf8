// Goal: ProtoReader decodes every wire type, skips unknown fields, applies proto3's merge rules, and
// refuses each kind of malformed input with its own typed ProtoError.
// Method: hand-built byte vectors decoded into the Sample message (TestSupport.swift), one claim per test;
// error vectors are a table mapping bytes to the exact error expected.
import Protobuf
import Testing
import Raft

@Suite("ProtoReader")
struct ProtoReaderTests {
    @Test("08 96 01 decodes as field 1 = 150")
    func varintExample() throws {
        var reader = ProtoReader(bytes(hex: "089601"))
        let field = try #require(try reader.next())
        #expect(field.number == 1)
        #expect(field.wireType == .varint)
        #expect(try field.int64() == 150)
        #expect(try reader.next() == nil)
    }

    @Test("every field kind round-trips through the Sample message")
    func allKinds() throws {
        var random = SplitMix64(seed: 7)
        for _ in 0..<200 {
            let sample = Sample.random(&random)
            #expect(try Sample(decoding: sample.encoded()) == sample)
        }
    }

    @Test("unknown fields of every wire type are skipped")
    func unknownFieldsSkipped() throws {
        // field 100 varint, field 101 fixed64, field 102 length-delimited, field 103 fixed32, then field 1 = 5.
        let input = bytes(hex: "a006 2a a906 0102030405060708 b206 03616263 bd06 01020304 0805")
        let sample = try Sample(decoding: input)
        #expect(sample.int64 == 5)
    }

    @Test("the last occurrence of a singular scalar field wins")
    func lastValueWins() throws {
        let sample = try Sample(decoding: bytes(hex: "0801 0802 0803 5201 61 5201 62"))
        #expect(sample.int64 == 3)
        #expect(sample.text == "b")
    }

    @Test("a repeated numeric field accepts packed and unpacked occurrences, appending both")
    func packedAndUnpacked() throws {
        // field 13 unpacked 1, packed [2, 3], unpacked 4.
        let sample = try Sample(decoding: bytes(hex: "6801 6a020203 6804"))
        #expect(sample.packed == [1, 2, 3, 4])
    }

    @Test("an embedded message appearing twice is merged, as protobuf specifies")
    func messagesMerge() throws {
        var outer = ProtoWriter()
        var first = Sample()
        first.int64 = 1
        first.texts = ["a"]
        var second = Sample()
        second.uint64 = 2
        second.texts = ["b"]
        outer.writeMessage(first, field: 1)
        outer.writeMessage(second, field: 1)
        var reader = ProtoReader(outer.bytes)
        var merged = Sample()
        while let field = try reader.next() { merged = try field.message(merging: merged) }
        #expect(merged.int64 == 1)
        #expect(merged.uint64 == 2)
        #expect(merged.texts == ["a", "b"])
    }

    @Test("int32 read from a 64-bit varint keeps the low 32 bits, as protobuf truncates")
    func int32Truncates() throws {
        let sample = try Sample(decoding: bytes(hex: "18 8180808010"))  // 2^32 + 1
        #expect(sample.int32 == 1)
    }

    @Test("a ten-byte varint whose last byte is 1 is accepted (it is UInt64's top bit)")
    func tenByteVarint() throws {
        let sample = try Sample(decoding: bytes(hex: "10 80808080808080808001"))
        #expect(sample.uint64 == 1 << 63)
    }

    @Test(
        "malformed input is refused with the matching typed error",
        arguments: [
            ("08", ProtoError.truncated(offset: 1)),
            ("0896", .truncated(offset: 2)),
            ("08 8080808080808080808001", .varintTooLong(offset: 1)),
            ("08 80808080808080808002", .varintTooLong(offset: 1)),
            ("0e 00", .invalidWireType(6, offset: 0)),
            ("0f 00", .invalidWireType(7, offset: 0)),
            ("0b 0c", .groupNotSupported(field: 1, offset: 0)),
            ("0c", .groupNotSupported(field: 1, offset: 0)),
            ("00 00", .invalidFieldNumber(0, offset: 0)),
            ("02 00", .invalidFieldNumber(0, offset: 0)),
            ("8080808080 01", .invalidFieldNumber(1 << 32, offset: 0)),
            ("52 05 616263", .lengthPastEnd(declared: 5, available: 3, offset: 1)),
            ("52 ffffffff0f", .lengthPastEnd(declared: 4_294_967_295, available: 0, offset: 1)),
            ("09 01020304", .truncated(offset: 5)),
            ("0d 0102", .truncated(offset: 3)),
            ("52 02 c328", .invalidUTF8(field: 10)),
            ("52 01 ff", .invalidUTF8(field: 10)),
            ("0a 01 00", .wireTypeMismatch(field: 1, expected: .varint, actual: .lengthDelimited)),
            ("55 00000000", .wireTypeMismatch(field: 10, expected: .lengthDelimited, actual: .fixed32)),
            ("62 02 0801 62 01 08", .truncated(offset: 7)),
            ("6a 01 80", .truncated(offset: 3)),
        ])
    func errors(input: String, expected: ProtoError) {
        let result = decode(Sample.self, bytes(hex: input))
        #expect(result.failure == expected)
    }

    @Test("nesting deeper than the limit is refused, and accepted at the limit")
    func nestingLimit() throws {
        var innermost = Sample()
        innermost.int64 = 1
        var sample = innermost
        for _ in 0..<5 {
            var parent = Sample()
            parent.children = [sample]
            sample = parent
        }
        let encoded = sample.encoded()
        #expect(try Sample(decoding: encoded, maxDepth: 5) == sample)
        var reader = ProtoReader(encoded, maxDepth: 4)
        #expect(throws: ProtoError.nestingTooDeep(limit: 4)) { try Sample(decoding: &reader) }
    }

    @Test("a deeply nested hostile input is refused without exhausting the stack")
    func hostileNesting() {
        // 100 000 levels of "field 12, length = rest", built inside out.
        var input: [UInt8] = []
        for _ in 0..<100_000 {
            var writer = ProtoWriter()
            writer.writeBytes(input, field: 12, omittingDefault: false)
            input = writer.bytes
            if input.count > 300_000 { break }
        }
        #expect(decode(Sample.self, input).failure == .nestingTooDeep(limit: ProtoReader.defaultMaxDepth))
    }

    @Test("every error message names what went wrong")
    func errorDescriptions() {
        #expect(ProtoError.truncated(offset: 3).description.contains("byte 3"))
        #expect(ProtoError.invalidUTF8(field: 2).description.contains("UTF-8"))
        #expect(ProtoError.nestingTooDeep(limit: 9).description.contains("9"))
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
