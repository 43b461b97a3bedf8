/// One field read by `ProtoReader`: its number, wire type and raw value, with typed accessors.
///
/// Each accessor checks that the wire type fits the declared type and throws
/// `ProtoError.wireTypeMismatch` otherwise (as etcd's gogoproto decoders do), so a schema mismatch is
/// reported instead of silently producing garbage. Integer accessors truncate exactly as protobuf does
/// (an `int32` read from a 64-bit varint keeps the low 32 bits).
public struct ProtoField: Sendable {
    enum Value: Sendable {
        case scalar(UInt64)
        case payload(Range<Int>)
    }

    /// The field number from the tag.
    public let number: Int
    /// The wire type from the tag.
    public let wireType: WireType
    /// The byte offset of the field's tag in the top-level buffer.
    public let offset: Int
    let value: Value
    let buffer: [UInt8]
    let depth: Int
    let maxDepth: Int

    // MARK: - Varint types

    /// The value of a `uint64` field.
    public func uint64() throws(ProtoError) -> UInt64 {
        try scalar(.varint)
    }

    /// The value of an `int64` field.
    public func int64() throws(ProtoError) -> Int64 {
        Int64(bitPattern: try scalar(.varint))
    }

    /// The value of a `uint32` field (low 32 bits of the varint).
    public func uint32() throws(ProtoError) -> UInt32 {
        UInt32(truncatingIfNeeded: try scalar(.varint))
    }

    /// The value of an `int32` or enum field (low 32 bits of the varint).
    public func int32() throws(ProtoError) -> Int32 {
        Int32(truncatingIfNeeded: try scalar(.varint))
    }

    /// The value of a `bool` field; any non-zero varint is true.
    public func bool() throws(ProtoError) -> Bool {
        try scalar(.varint) != 0
    }

    /// The value of a `sint32` field (zigzag-decoded).
    public func sint32() throws(ProtoError) -> Int32 {
        Zigzag.decode(UInt32(truncatingIfNeeded: try scalar(.varint)))
    }

    /// The value of a `sint64` field (zigzag-decoded).
    public func sint64() throws(ProtoError) -> Int64 {
        Zigzag.decode(try scalar(.varint))
    }

    // MARK: - Fixed-width types

    /// The value of a `fixed32` field (`sfixed32` and `float` via their bit patterns).
    public func fixed32() throws(ProtoError) -> UInt32 {
        UInt32(truncatingIfNeeded: try scalar(.fixed32))
    }

    /// The value of a `fixed64` field (`sfixed64` and `double` via their bit patterns).
    public func fixed64() throws(ProtoError) -> UInt64 {
        try scalar(.fixed64)
    }

    /// The value of a `double` field.
    public func double() throws(ProtoError) -> Double {
        Double(bitPattern: try fixed64())
    }

    /// The value of a `float` field.
    public func float() throws(ProtoError) -> Float {
        Float(bitPattern: try fixed32())
    }

    // MARK: - Length-delimited types

    /// The value of a `bytes` field.
    /// - Complexity: O(n) copy.
    public func bytes() throws(ProtoError) -> [UInt8] {
        Array(buffer[try payload()])
    }

    /// The value of a `string` field.
    /// - Throws: `.invalidUTF8` when the bytes are not UTF-8, which proto3 requires of strings.
    public func string() throws(ProtoError) -> String {
        guard let text = String(validating: buffer[try payload()], as: UTF8.self) else {
            throw .invalidUTF8(field: number)
        }
        return text
    }

    /// Decodes an embedded message field, merging into `existing` as protobuf specifies for a message
    /// field that appears more than once.
    /// - Throws: `.nestingTooDeep` past the reader's depth limit, or any error inside the nested message.
    public func message<Message: ProtoMessage>(merging existing: Message = Message()) throws(ProtoError) -> Message {
        let range = try payload()
        guard depth < maxDepth else { throw .nestingTooDeep(limit: maxDepth) }
        var nested = ProtoReader(buffer: buffer, range: range, depth: depth + 1, maxDepth: maxDepth)
        var result = existing
        try result.merge(from: &nested)
        return result
    }

    // MARK: - Repeated numeric types

    /// The values of one occurrence of a repeated varint field, packed (length-delimited) or not (a single
    /// varint): proto3 parsers must accept both.
    /// - Complexity: O(n) in the packed payload.
    public func packedVarints() throws(ProtoError) -> [UInt64] {
        switch value {
        case .scalar(let scalar) where wireType == .varint:
            return [scalar]
        case .payload(let range):
            var reader = ProtoReader(buffer: buffer, range: range, depth: depth, maxDepth: maxDepth)
            var values: [UInt64] = []
            while !reader.isAtEnd { values.append(try reader.readVarint()) }
            return values
        default:
            throw .wireTypeMismatch(field: number, expected: .lengthDelimited, actual: wireType)
        }
    }

    /// The values of one occurrence of a repeated `int32` or enum field, packed or not.
    public func packedInt32s() throws(ProtoError) -> [Int32] {
        try packedVarints().map { Int32(truncatingIfNeeded: $0) }
    }

    /// The values of one occurrence of a repeated `int64` field, packed or not.
    public func packedInt64s() throws(ProtoError) -> [Int64] {
        try packedVarints().map { Int64(bitPattern: $0) }
    }

    // MARK: - Wire type checks

    private func scalar(_ expected: WireType) throws(ProtoError) -> UInt64 {
        guard wireType == expected, case .scalar(let scalar) = value else {
            throw .wireTypeMismatch(field: number, expected: expected, actual: wireType)
        }
        return scalar
    }

    private func payload() throws(ProtoError) -> Range<Int> {
        guard case .payload(let range) = value else {
            throw .wireTypeMismatch(field: number, expected: .lengthDelimited, actual: wireType)
        }
        return range
    }
}
