// Goal: shared fixtures for the Protobuf tests: a seeded generator and a sample message that exercises
// every field kind ProtoWriter and ProtoReader support, including recursion.
// Method: plain values; no test lives here.
import Protobuf
import Raft  // SplitMix64: the project's one seeded generator

extension SplitMix64 {
    /// `count` random bytes.
    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { byte in
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }.joined()
}

func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex.filter { $0 != " " })
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

/// A message with one field of every supported kind; `children` makes it recursive.
struct Sample: ProtoMessage {
    var int64: Int64 = 0
    var uint64: UInt64 = 0
    var int32: Int32 = 0
    var uint32: UInt32 = 0
    var flag = false
    var sint32: Int32 = 0
    var sint64: Int64 = 0
    var fixed32: UInt32 = 0
    var fixed64: UInt64 = 0
    var text = ""
    var data: [UInt8] = []
    var children: [Sample] = []
    var packed: [Int64] = []
    var texts: [String] = []
    var enums: [Int32] = []

    func encode(into writer: inout ProtoWriter) {
        writer.writeInt64(int64, field: 1)
        writer.writeUInt64(uint64, field: 2)
        writer.writeInt32(int32, field: 3)
        writer.writeUInt32(uint32, field: 4)
        writer.writeBool(flag, field: 5)
        writer.writeSInt32(sint32, field: 6)
        writer.writeSInt64(sint64, field: 7)
        writer.writeFixed32(fixed32, field: 8)
        writer.writeFixed64(fixed64, field: 9)
        writer.writeString(text, field: 10)
        writer.writeBytes(data, field: 11)
        writer.writeRepeatedMessages(children, field: 12)
        writer.writePackedInt64s(packed, field: 13)
        writer.writeRepeatedStrings(texts, field: 14)
        writer.writePackedInt32s(enums, field: 15)
    }

    mutating func merge(from reader: inout ProtoReader) throws(ProtoError) {
        while let field = try reader.next() {
            switch field.number {
            case 1: int64 = try field.int64()
            case 2: uint64 = try field.uint64()
            case 3: int32 = try field.int32()
            case 4: uint32 = try field.uint32()
            case 5: flag = try field.bool()
            case 6: sint32 = try field.sint32()
            case 7: sint64 = try field.sint64()
            case 8: fixed32 = try field.fixed32()
            case 9: fixed64 = try field.fixed64()
            case 10: text = try field.string()
            case 11: data = try field.bytes()
            case 12: children.append(try field.message())
            case 13: packed += try field.packedInt64s()
            case 14: texts.append(try field.string())
            case 15: enums += try field.packedInt32s()
            default: break
            }
        }
    }

    static func random(_ random: inout SplitMix64, depth: Int = 0) -> Sample {
        func maybe<T>(_ value: @autoclosure () -> T, _ zero: T) -> T { random.next() % 3 == 0 ? zero : value() }
        var sample = Sample()
        sample.int64 = maybe(Int64(bitPattern: random.next()), 0)
        sample.uint64 = maybe(random.next() >> (random.next() % 64), 0)
        sample.int32 = maybe(Int32(truncatingIfNeeded: random.next()), 0)
        sample.uint32 = maybe(UInt32(truncatingIfNeeded: random.next()), 0)
        sample.flag = random.next() % 2 == 0
        sample.sint32 = maybe(Int32(truncatingIfNeeded: random.next()), 0)
        sample.sint64 = maybe(Int64(bitPattern: random.next()), 0)
        sample.fixed32 = maybe(UInt32(truncatingIfNeeded: random.next()), 0)
        sample.fixed64 = maybe(random.next(), 0)
        sample.text = maybe(["héllo", "a", "日本", "x\u{0}y"][Int(random.next() % 4)], "")
        sample.data = random.bytes(Int(random.next() % 6))
        if depth < 3 { sample.children = (0..<random.next() % 3).map { _ in Sample.random(&random, depth: depth + 1) } }
        sample.packed = (0..<random.next() % 4).map { _ in Int64(bitPattern: random.next()) }
        sample.texts = (0..<random.next() % 3).map { _ in ["", "b", "ü"][Int(random.next() % 3)] }
        sample.enums = (0..<random.next() % 3).map { _ in Int32(truncatingIfNeeded: random.next() % 5) - 1 }
        return sample
    }
}

/// Decodes `bytes` as `Message`, returning the typed error instead of throwing.
func decode<Message: ProtoMessage>(_ type: Message.Type, _ bytes: [UInt8]) -> Result<Message, ProtoError> {
    do throws(ProtoError) {
        return .success(try Message(decoding: bytes))
    } catch {
        return .failure(error)
    }
}
