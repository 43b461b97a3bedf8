/// Appends proto3 wire-format fields to a byte buffer.
///
/// Two layers: `append*` writes raw tags and values (for callers that need exact control, such as oneof
/// members and repeated elements, which are written even when they hold a default value), and `write*`
/// writes one field with proto3's rule that a singular scalar holding its default (0, false, empty) is
/// not written at all, so an empty request encodes to zero bytes exactly as protoc-generated code does.
public struct ProtoWriter: Sendable {
    /// The encoded bytes so far.
    public private(set) var bytes: [UInt8]

    /// Creates an empty writer.
    /// - Parameter capacity: bytes to reserve up front, when the caller knows roughly how much it will write.
    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    // MARK: - Raw values

    /// Appends `value` as a base-128 varint (1 to 10 bytes, low groups first).
    public mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// Appends the tag of field `field` with wire type `wireType`.
    /// - Precondition: `field` is in 1...2^29-1 (a schema constant, so a violation is a programmer error).
    public mutating func appendTag(field: Int, wireType: WireType) {
        precondition(field >= 1 && field <= protoMaxFieldNumber, "protobuf field number \(field) out of range")
        appendVarint(UInt64(field) << 3 | UInt64(wireType.rawValue))
    }

    /// Appends four little-endian bytes.
    public mutating func appendFixed32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    /// Appends eight little-endian bytes.
    public mutating func appendFixed64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    /// Appends a varint length followed by `payload`.
    public mutating func appendLengthDelimited(_ payload: some Collection<UInt8>) {
        appendVarint(UInt64(payload.count))
        bytes.append(contentsOf: payload)
    }

    // MARK: - Varint fields

    /// Writes a `uint64` field; skipped when zero unless `omittingDefault` is false (oneof members).
    public mutating func writeUInt64(_ value: UInt64, field: Int, omittingDefault: Bool = true) {
        if omittingDefault && value == 0 { return }
        appendTag(field: field, wireType: .varint)
        appendVarint(value)
    }

    /// Writes an `int64` field (negative values take ten bytes, as the encoding specifies).
    public mutating func writeInt64(_ value: Int64, field: Int, omittingDefault: Bool = true) {
        writeUInt64(UInt64(bitPattern: value), field: field, omittingDefault: omittingDefault)
    }

    /// Writes a `uint32` field.
    public mutating func writeUInt32(_ value: UInt32, field: Int, omittingDefault: Bool = true) {
        writeUInt64(UInt64(value), field: field, omittingDefault: omittingDefault)
    }

    /// Writes an `int32` or enum field; negative values are sign-extended to 64 bits, as protobuf requires.
    public mutating func writeInt32(_ value: Int32, field: Int, omittingDefault: Bool = true) {
        writeUInt64(UInt64(bitPattern: Int64(value)), field: field, omittingDefault: omittingDefault)
    }

    /// Writes a `bool` field as varint 0 or 1.
    public mutating func writeBool(_ value: Bool, field: Int, omittingDefault: Bool = true) {
        writeUInt64(value ? 1 : 0, field: field, omittingDefault: omittingDefault)
    }

    /// Writes a `sint32` field, zigzag-encoded so small negative numbers stay short.
    public mutating func writeSInt32(_ value: Int32, field: Int, omittingDefault: Bool = true) {
        writeUInt64(UInt64(Zigzag.encode(value)), field: field, omittingDefault: omittingDefault)
    }

    /// Writes a `sint64` field, zigzag-encoded.
    public mutating func writeSInt64(_ value: Int64, field: Int, omittingDefault: Bool = true) {
        writeUInt64(Zigzag.encode(value), field: field, omittingDefault: omittingDefault)
    }

    // MARK: - Fixed-width fields

    /// Writes a `fixed32` field (also `sfixed32` and `float` through their bit patterns).
    public mutating func writeFixed32(_ value: UInt32, field: Int, omittingDefault: Bool = true) {
        if omittingDefault && value == 0 { return }
        appendTag(field: field, wireType: .fixed32)
        appendFixed32(value)
    }

    /// Writes a `fixed64` field (also `sfixed64` and `double` through their bit patterns).
    public mutating func writeFixed64(_ value: UInt64, field: Int, omittingDefault: Bool = true) {
        if omittingDefault && value == 0 { return }
        appendTag(field: field, wireType: .fixed64)
        appendFixed64(value)
    }

    /// Writes a `double` field; only +0.0 counts as the default, so -0.0 survives a round trip.
    public mutating func writeDouble(_ value: Double, field: Int, omittingDefault: Bool = true) {
        writeFixed64(value.bitPattern, field: field, omittingDefault: omittingDefault)
    }

    /// Writes a `float` field; only +0.0 counts as the default.
    public mutating func writeFloat(_ value: Float, field: Int, omittingDefault: Bool = true) {
        writeFixed32(value.bitPattern, field: field, omittingDefault: omittingDefault)
    }

    // MARK: - Length-delimited fields

    /// Writes a `bytes` field; skipped when empty unless `omittingDefault` is false.
    public mutating func writeBytes(_ value: some Collection<UInt8>, field: Int, omittingDefault: Bool = true) {
        if omittingDefault && value.isEmpty { return }
        appendTag(field: field, wireType: .lengthDelimited)
        appendLengthDelimited(value)
    }

    /// Writes a `string` field as its UTF-8 bytes; skipped when empty unless `omittingDefault` is false.
    public mutating func writeString(_ value: String, field: Int, omittingDefault: Bool = true) {
        writeBytes(value.utf8, field: field, omittingDefault: omittingDefault)
    }

    /// Writes an embedded message field. Always written, even when empty: a present-but-empty message is
    /// distinguishable from an absent one in proto3, so callers model absence as `nil` and skip the call.
    /// - Complexity: O(n) extra copy of the nested encoding.
    public mutating func writeMessage(_ message: some ProtoMessage, field: Int) {
        var nested = ProtoWriter()
        message.encode(into: &nested)
        appendTag(field: field, wireType: .lengthDelimited)
        appendLengthDelimited(nested.bytes)
    }

    // MARK: - Repeated fields

    /// Writes every element of a repeated `string` field, empty ones included (repeated elements have no default).
    public mutating func writeRepeatedStrings(_ values: [String], field: Int) {
        for value in values { writeString(value, field: field, omittingDefault: false) }
    }

    /// Writes every element of a repeated `bytes` field, empty ones included.
    public mutating func writeRepeatedBytes(_ values: [[UInt8]], field: Int) {
        for value in values { writeBytes(value, field: field, omittingDefault: false) }
    }

    /// Writes every element of a repeated message field.
    public mutating func writeRepeatedMessages<Message: ProtoMessage>(_ values: [Message], field: Int) {
        for value in values { writeMessage(value, field: field) }
    }

    /// Writes a repeated varint field in packed form (proto3's default for numeric repeated fields):
    /// one length-delimited record holding the varints back to back. Nothing is written for an empty array.
    /// - Complexity: O(n).
    public mutating func writePackedVarints(_ values: [UInt64], field: Int) {
        if values.isEmpty { return }
        var packed = ProtoWriter(capacity: values.count)
        for value in values { packed.appendVarint(value) }
        appendTag(field: field, wireType: .lengthDelimited)
        appendLengthDelimited(packed.bytes)
    }

    /// Writes a repeated `int32` or enum field in packed form, sign-extending negative values.
    public mutating func writePackedInt32s(_ values: [Int32], field: Int) {
        writePackedVarints(values.map { UInt64(bitPattern: Int64($0)) }, field: field)
    }

    /// Writes a repeated `int64` field in packed form.
    public mutating func writePackedInt64s(_ values: [Int64], field: Int) {
        writePackedVarints(values.map { UInt64(bitPattern: $0) }, field: field)
    }
}
