/// A proto3 message type: encodes itself and merges fields from a reader.
///
/// Decoding is expressed as *merge* because that is protobuf's semantics: when an embedded message field
/// appears twice, the second occurrence merges into the first (scalars overwrite, repeated fields append).
/// Starting from the default value and merging a whole buffer is an ordinary decode.
public protocol ProtoMessage: Sendable, Equatable {
    /// The message with every field at its proto3 default.
    init()

    /// Appends this message's fields (not a tag or length for the message itself) to `writer`.
    func encode(into writer: inout ProtoWriter)

    /// Reads fields from `reader` until it is exhausted and merges them into `self`; unknown fields are skipped.
    /// - Throws: `ProtoError` when the bytes are malformed or a known field has the wrong wire type.
    mutating func merge(from reader: inout ProtoReader) throws(ProtoError)
}

extension ProtoMessage {
    /// Decodes a message from a reader (see `merge(from:)`).
    /// - Throws: `ProtoError` for malformed input.
    public init(decoding reader: inout ProtoReader) throws(ProtoError) {
        self.init()
        try merge(from: &reader)
    }

    /// Decodes a message from a whole buffer.
    /// - Parameters:
    ///   - bytes: the serialized message.
    ///   - maxDepth: how deeply messages may nest before decoding is refused.
    /// - Throws: `ProtoError` for malformed input.
    public init(decoding bytes: [UInt8], maxDepth: Int = ProtoReader.defaultMaxDepth) throws(ProtoError) {
        var reader = ProtoReader(bytes, maxDepth: maxDepth)
        try self.init(decoding: &reader)
    }

    /// The message's wire encoding.
    ///
    /// Starts with room for a typical etcd answer, so a small message is written without growing its buffer.
    @inlinable public func encoded() -> [UInt8] {
        var writer = ProtoWriter(capacity: 256)
        encode(into: &writer)
        return writer.buffer
    }
}
