// Goal: ProtoWriter produces exactly the bytes the protobuf encoding specifies.
// Method: known vectors from the protobuf encoding guide (150 as 08 96 01, "testing", a nested message,
// a packed repeated field) plus edge values (negative int64 takes ten bytes, zigzag, little-endian fixed
// widths), and proto3's rule that defaults are omitted unless the caller asks for presence.
import Protobuf
import Testing

@Suite("ProtoWriter")
struct ProtoWriterTests {
    static func written(_ body: (inout ProtoWriter) -> Void) -> String {
        var writer = ProtoWriter()
        body(&writer)
        return hex(writer.bytes)
    }

    @Test("field 1 = 150 encodes as 08 96 01 (the encoding guide's example)")
    func varintExample() {
        #expect(Self.written { $0.writeInt32(150, field: 1) } == "089601")
    }

    @Test("string field 2 = \"testing\" encodes as 12 07 followed by the UTF-8 bytes")
    func stringExample() {
        #expect(Self.written { $0.writeString("testing", field: 2) } == "120774657374696e67")
    }

    @Test("embedded message field 3 holding 150 encodes as 1a 03 08 96 01")
    func nestedExample() {
        var inner = Sample()
        inner.int64 = 150
        #expect(Self.written { $0.writeMessage(inner, field: 3) } == "1a03089601")
    }

    @Test("packed repeated field 4 = [3, 270, 86942] encodes as 22 06 03 8e 02 9e a7 05")
    func packedExample() {
        #expect(Self.written { $0.writePackedInt64s([3, 270, 86942], field: 4) } == "2206038e029ea705")
    }

    @Test("negative int64 and int32 take ten bytes, sign-extended")
    func negativeVarints() {
        #expect(Self.written { $0.writeInt64(-1, field: 1) } == "08ffffffffffffffffff01")
        #expect(Self.written { $0.writeInt32(-1, field: 1) } == "08ffffffffffffffffff01")
    }

    @Test(
        "zigzag maps signed to unsigned as the guide's table says",
        arguments: [(0, 0), (-1, 1), (1, 2), (-2, 3), (Int64(Int32.max), 4_294_967_294), (Int64(Int32.min), 4_294_967_295)]
            as [(Int64, UInt64)])
    func zigzag(value: Int64, expected: UInt64) {
        #expect(Zigzag.encode(value) == expected)
        #expect(Zigzag.decode(expected) == value)
        #expect(UInt64(Zigzag.encode(Int32(value))) == expected)
        #expect(Zigzag.decode(UInt32(expected)) == Int32(value))
    }

    @Test("sint32 -2 is one byte (zigzag 3) where int32 -2 is ten")
    func sintIsShort() {
        #expect(Self.written { $0.writeSInt32(-2, field: 1) } == "0803")
        #expect(Self.written { $0.writeSInt64(Int64.min, field: 1) } == "08ffffffffffffffffff01")
    }

    @Test("fixed32 and fixed64 are little-endian with wire types 5 and 1")
    func fixedWidths() {
        #expect(Self.written { $0.writeFixed32(0x0102_0304, field: 1) } == "0d04030201")
        #expect(Self.written { $0.writeFixed64(0x0102_0304_0506_0708, field: 1) } == "090807060504030201")
        #expect(Self.written { $0.writeDouble(1.0, field: 1) } == "09000000000000f03f")
        #expect(Self.written { $0.writeFloat(1.0, field: 1) } == "0d0000803f")
    }

    @Test("proto3 defaults are omitted: zero, false, empty string and empty bytes write nothing")
    func defaultsOmitted() {
        let output = Self.written { writer in
            writer.writeInt64(0, field: 1)
            writer.writeUInt64(0, field: 2)
            writer.writeBool(false, field: 3)
            writer.writeString("", field: 4)
            writer.writeBytes([], field: 5)
            writer.writeFixed32(0, field: 6)
            writer.writePackedInt64s([], field: 7)
        }
        #expect(output == "")
        #expect(Sample().encoded().isEmpty)
    }

    @Test("presence is kept on request: a oneof member holding 0 or \"\" is still written")
    func defaultsWrittenWhenPresent() {
        #expect(Self.written { $0.writeInt64(0, field: 4, omittingDefault: false) } == "2000")
        #expect(Self.written { $0.writeBytes([], field: 7, omittingDefault: false) } == "3a00")
    }

    @Test("an empty embedded message is written as tag and zero length")
    func emptyMessageWritten() {
        #expect(Self.written { $0.writeMessage(Sample(), field: 1) } == "0a00")
    }

    @Test("repeated strings write every element, empty ones included")
    func repeatedStrings() {
        #expect(Self.written { $0.writeRepeatedStrings(["a", ""], field: 3) } == "1a01611a00")
    }

    @Test("the largest field number produces a five-byte tag")
    func largestFieldNumber() {
        #expect(Self.written { $0.writeBool(true, field: protoMaxFieldNumber) } == "f8ffffff0f01")
    }

    @Test("an embedded message written in place gets the length varint a separately encoded one would",
          arguments: [0, 1, 125, 126, 127, 128, 200, 16_381, 16_382, 16_383, 16_384, 70_000])
    func nestedLengths(dataBytes: Int) throws {
        var inner = Sample()
        inner.data = (0..<dataBytes).map { UInt8(truncatingIfNeeded: $0) }
        var outer = Sample()
        outer.int64 = 7
        outer.children = [inner, Sample(), inner]
        // Reference: each child encoded on its own, then tag, length and payload appended.
        var expected = ProtoWriter()
        expected.writeInt64(7, field: 1)
        for child in outer.children {
            let payload = child.encoded()
            expected.appendTag(field: 12, wireType: .lengthDelimited)
            expected.appendLengthDelimited(payload)
        }
        #expect(outer.encoded() == expected.bytes)
        #expect(try Sample(decoding: outer.encoded()) == outer)
    }
}
