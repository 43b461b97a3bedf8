/// The six wire types of the protobuf encoding, the low three bits of every field tag.
///
/// The wire type tells a reader how many bytes a value occupies without knowing the schema, which is what
/// lets a proto3 reader skip fields it does not know. Types 3 and 4 (groups) are a proto2 relic that no
/// proto3 schema produces; `ProtoReader` refuses them rather than guess at their nesting.
public enum WireType: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// Base-128 varint: int32, int64, uint32, uint64, sint32, sint64, bool, enum.
    case varint = 0
    /// Eight little-endian bytes: fixed64, sfixed64, double.
    case fixed64 = 1
    /// A varint length followed by that many bytes: string, bytes, messages, packed repeated fields.
    case lengthDelimited = 2
    /// Start of a proto2 group (never valid in proto3).
    case startGroup = 3
    /// End of a proto2 group (never valid in proto3).
    case endGroup = 4
    /// Four little-endian bytes: fixed32, sfixed32, float.
    case fixed32 = 5

    /// The wire type's name, for error messages.
    public var description: String {
        switch self {
        case .varint: "varint"
        case .fixed64: "fixed64"
        case .lengthDelimited: "length-delimited"
        case .startGroup: "start-group"
        case .endGroup: "end-group"
        case .fixed32: "fixed32"
        }
    }
}

/// The largest field number protobuf allows (2^29 - 1); the tag varint holds it shifted left by three.
public let protoMaxFieldNumber = 536_870_911
