/// Appends proto3 wire-format fields to a byte buffer.
///
/// Two layers: `append*` writes raw tags and values (for callers that need exact control, such as oneof
/// members and repeated elements, which are written even when they hold a default value), and `write*`
/// writes one field with proto3's rule that a singular scalar holding its default (0, false, empty) is
/// not written at all, so an empty request encodes to zero bytes exactly as protoc-generated code does.
///
/// The methods are `@inlinable` so the message types of other modules (EtcdAPI) get them specialized and inlined:
/// called across modules otherwise, every varint is a function call and every generic one (`writeMessage`,
/// `writeBytes`) runs unspecialized, which costs more than the encoding itself for the small messages an etcd
/// call answers with.
public struct ProtoWriter: Sendable {
    /// The encoded bytes so far; only this type appends to them.
    @usableFromInline internal var buffer: [UInt8]

    /// The encoded bytes so far.
    @inlinable public var bytes: [UInt8] { buffer }

    /// Creates an empty writer.
    /// - Parameter capacity: bytes to reserve up front, when the caller knows roughly how much it will write.
    @inlinable public init(capacity: Int = 0) {
        buffer = []
        buffer.reserveCapacity(capacity)
    }

    // MARK: - Raw values

    /// Appends `value` as a base-128 varint (1 to 10 bytes, low groups first).
    @inlinable public mutating func appendVarint(_ value: UInt64) {
        Self.appendVarint(value, to: &buffer)
    }

    /// Appends `value` as a base-128 varint to `bytes`: for callers that assemble a message from parts they
    /// encoded earlier (a watch fan-out) in their own buffer.
    @inlinable public static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// The tag of field `field` with wire type `wireType`, as the varint `appendTag` writes.
    /// - Precondition: `field` is in 1...2^29-1 (a schema constant, so a violation is a programmer error).
    @inlinable public static func tag(field: Int, wireType: WireType) -> UInt64 {
        precondition(field >= 1 && field <= protoMaxFieldNumber, "protobuf field number \(field) out of range")
        return UInt64(field) << 3 | UInt64(wireType.rawValue)
    }

    /// Appends the tag of field `field` with wire type `wireType`.
    /// - Precondition: `field` is in 1...2^29-1 (a schema constant, so a violation is a programmer error).
    @inlinable public mutating func appendTag(field: Int, wireType: WireType) {
        appendVarint(Self.tag(field: field, wireType: wireType))
    }

    /// Appends four little-endian bytes.
    @inlinable public mutating func appendFixed32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { buffer.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    /// Appends eight little-endian bytes.
    @inlinable public mutating func appendFixed64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { buffer.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    /// Appends a varint length followed by `payload`.
    @inlinable public mutating func appendLengthDelimited(_ payload: some Collection<UInt8>) {
        appendVarint(UInt64(payload.count))
        buffer.append(contentsOf: payload)
    }

    // MARK: - Varint fields

    /// Writes a `uint64` field; skipped when zero unless `omittingDefault` is false (oneof members).
    @inlinable public mutating func writeUInt64(_ value: UInt64, field: Int, omittingDefault: Bool = true) {
        if omittingDefault && value == 0 { return }
        appendTag(field: field, wireType: .varint)
        appendVarint(value)
    }

    /// Writes an `int64` field (negative values take ten bytes, as the encoding specifies).
    @inlinable public mutating func writeInt64(_ value: Int64, field: Int, omittingDefault: Bool = true) {
        writeUInt64(UInt64(bitPattern: value), field: field, omittingDefault: omittingDefault)
    }

    /// Writes a `uint32` field.
    @inlinable public mutating func writeUInt32(_ value: UInt32, field: Int, omittingDefault: Bool = true) {
        writeUInt64(UInt64(value), field: field, omittingDefault: omittingDefault)
    }

    /// Writes an `int32` or enum field; negative values are sign-extended to 64 bits, as protobuf requires.
    @inlinable public mutating func writeInt32(_ value: Int32, field: Int, omittingDefault: Bool = true) {
        writeUInt64(UInt64(bitPattern: Int64(value)), field: field, omittingDefault: omittingDefault)
    }

    /// Writes a `bool` field as varint 0 or 1.
    @inlinable public mutating func writeBool(_ value: Bool, field: Int, omittingDefault: Bool = true) {
        writeUInt64(value ? 1 : 0, field: field, omittingDefault: omittingDefault)
    }

    /// Writes a `sint32` field, zigzag-encoded so small negative numbers stay short.
    @inlinable public mutating func writeSInt32(_ value: Int32, field: Int, omittingDefault: Bool = true) {
        writeUInt64(UInt64(Zigzag.encode(value)), field: field, omittingDefault: omittingDefault)
    }

    /// Writes a `sint64` field, zigzag-encoded.
    @inlinable public mutating func writeSInt64(_ value: Int64, field: Int, omittingDefault: Bool = true) {
        writeUInt64(Zigzag.encode(value), field: field, omittingDefault: omittingDefault)
    }

    // MARK: - Fixed-width fields

    /// Writes a `fixed32` field (also `sfixed32` and `float` through their bit patterns).
    @inlinable public mutating func writeFixed32(_ value: UInt32, field: Int, omittingDefault: Bool = true) {
        if omittingDefault && value == 0 { return }
        appendTag(field: field, wireType: .fixed32)
        appendFixed32(value)
    }

    /// Writes a `fixed64` field (also `sfixed64` and `double` through their bit patterns).
    @inlinable public mutating func writeFixed64(_ value: UInt64, field: Int, omittingDefault: Bool = true) {
        if omittingDefault && value == 0 { return }
        appendTag(field: field, wireType: .fixed64)
        appendFixed64(value)
    }

    /// Writes a `double` field; only +0.0 counts as the default, so -0.0 survives a round trip.
    @inlinable public mutating func writeDouble(_ value: Double, field: Int, omittingDefault: Bool = true) {
        writeFixed64(value.bitPattern, field: field, omittingDefault: omittingDefault)
    }

    /// Writes a `float` field; only +0.0 counts as the default.
    @inlinable public mutating func writeFloat(_ value: Float, field: Int, omittingDefault: Bool = true) {
        writeFixed32(value.bitPattern, field: field, omittingDefault: omittingDefault)
    }

    // MARK: - Length-delimited fields

    /// Writes a `bytes` field; skipped when empty unless `omittingDefault` is false.
    @inlinable public mutating func writeBytes(_ value: some Collection<UInt8>, field: Int, omittingDefault: Bool = true) {
        if omittingDefault && value.isEmpty { return }
        appendTag(field: field, wireType: .lengthDelimited)
        appendLengthDelimited(value)
    }

    /// Writes a `string` field as its UTF-8 bytes; skipped when empty unless `omittingDefault` is false.
    @inlinable public mutating func writeString(_ value: String, field: Int, omittingDefault: Bool = true) {
        writeBytes(value.utf8, field: field, omittingDefault: omittingDefault)
    }

    /// Writes an embedded message field. Always written, even when empty: a present-but-empty message is
    /// distinguishable from an absent one in proto3, so callers model absence as `nil` and skip the call.
    ///
    /// The message is encoded in place after one octet reserved for its length, which is all a length below 128
    /// needs; a longer message is moved up to make room for its longer length varint. That move is the one copy
    /// a separate nested buffer would cost, without that buffer's allocation and growth.
    /// - Complexity: O(n), plus an O(n) move when the message is 128 bytes or more.
    @inlinable public mutating func writeMessage(_ message: some ProtoMessage, field: Int) {
        appendTag(field: field, wireType: .lengthDelimited)
        let lengthAt = buffer.count
        buffer.append(0)
        message.encode(into: &self)
        let length = buffer.count - lengthAt - 1
        if length < 0x80 {
            buffer[lengthAt] = UInt8(truncatingIfNeeded: length)
            return
        }
        var lengthVarint = ProtoWriter(capacity: 10)
        lengthVarint.appendVarint(UInt64(length))
        buffer.replaceSubrange(lengthAt..<(lengthAt + 1), with: lengthVarint.buffer)
    }

    // MARK: - Repeated fields

    /// Writes every element of a repeated `string` field, empty ones included (repeated elements have no default).
    @inlinable public mutating func writeRepeatedStrings(_ values: [String], field: Int) {
        for value in values { writeString(value, field: field, omittingDefault: false) }
    }

    /// Writes every element of a repeated `bytes` field, empty ones included.
    @inlinable public mutating func writeRepeatedBytes(_ values: [[UInt8]], field: Int) {
        for value in values { writeBytes(value, field: field, omittingDefault: false) }
    }

    /// Writes every element of a repeated message field.
    @inlinable public mutating func writeRepeatedMessages<Message: ProtoMessage>(_ values: [Message], field: Int) {
        for value in values { writeMessage(value, field: field) }
    }

    /// Writes a repeated varint field in packed form (proto3's default for numeric repeated fields):
    /// one length-delimited record holding the varints back to back. Nothing is written for an empty array.
    /// - Complexity: O(n).
    @inlinable public mutating func writePackedVarints(_ values: [UInt64], field: Int) {
        if values.isEmpty { return }
        var packed = ProtoWriter(capacity: values.count)
        for value in values { packed.appendVarint(value) }
        appendTag(field: field, wireType: .lengthDelimited)
        appendLengthDelimited(packed.buffer)
    }

    /// Writes a repeated `int32` or enum field in packed form, sign-extending negative values.
    @inlinable public mutating func writePackedInt32s(_ values: [Int32], field: Int) {
        writePackedVarints(values.map { UInt64(bitPattern: Int64($0)) }, field: field)
    }

    /// Writes a repeated `int64` field in packed form.
    @inlinable public mutating func writePackedInt64s(_ values: [Int64], field: Int) {
        writePackedVarints(values.map { UInt64(bitPattern: $0) }, field: field)
    }
}
