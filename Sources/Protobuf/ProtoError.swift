/// Why a protobuf decode failed; every case names the byte offset or field so a bad peer can be diagnosed.
///
/// Offsets count from the start of the reader's buffer. None of these is a programmer error: they all come
/// from bytes a remote sent, so callers close the stream (or answer INTERNAL/INVALID_ARGUMENT), never crash.
public enum ProtoError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The input ended in the middle of a tag or value.
    case truncated(offset: Int)
    /// A varint ran past ten bytes, or its tenth byte carried bits beyond 64.
    case varintTooLong(offset: Int)
    /// The tag's wire type is 6 or 7, which the encoding does not define.
    case invalidWireType(UInt8, offset: Int)
    /// The tag's wire type is 3 or 4 (proto2 groups), which proto3 never produces.
    case groupNotSupported(field: Int, offset: Int)
    /// The tag's field number is 0 or above 2^29 - 1.
    case invalidFieldNumber(UInt64, offset: Int)
    /// A length prefix claims more bytes than remain in the enclosing message.
    case lengthPastEnd(declared: UInt64, available: Int, offset: Int)
    /// Messages nest deeper than the reader's limit (a guard against stack exhaustion).
    case nestingTooDeep(limit: Int)
    /// A `string` field holds bytes that are not valid UTF-8, which proto3 forbids.
    case invalidUTF8(field: Int)
    /// A known field arrived with a wire type its declared type cannot have.
    case wireTypeMismatch(field: Int, expected: WireType, actual: WireType)

    /// A sentence naming the offset or field and what to check.
    public var description: String {
        switch self {
        case .truncated(let offset):
            "protobuf input ends mid-field at byte \(offset); the sender cut the message short"
        case .varintTooLong(let offset):
            "varint at byte \(offset) is longer than 10 bytes or overflows 64 bits; the input is not protobuf"
        case .invalidWireType(let type, let offset):
            "tag at byte \(offset) has wire type \(type), which protobuf does not define; the input is not protobuf"
        case .groupNotSupported(let field, let offset):
            "field \(field) at byte \(offset) is a proto2 group, which proto3 messages never contain"
        case .invalidFieldNumber(let number, let offset):
            "tag at byte \(offset) has field number \(number), outside 1...\(protoMaxFieldNumber)"
        case .lengthPastEnd(let declared, let available, let offset):
            "length at byte \(offset) declares \(declared) bytes but only \(available) remain in the message"
        case .nestingTooDeep(let limit):
            "messages nest deeper than \(limit) levels; raise ProtoReader's depth limit only if the schema needs it"
        case .invalidUTF8(let field):
            "string field \(field) is not valid UTF-8, which proto3 requires; send it as bytes instead"
        case .wireTypeMismatch(let field, let expected, let actual):
            "field \(field) arrived as \(actual) but its type is encoded as \(expected); sender and receiver schemas differ"
        }
    }
}
