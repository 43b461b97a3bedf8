/// Iterates the fields of one proto3 message in a byte buffer, checking every length against the
/// enclosing message's end.
///
/// The reader does not know the schema: `next()` returns each field's number, wire type and raw value,
/// and the message type decides what to do with it. Fields it does not know are simply not consumed
/// further, which is how proto3 skips unknown fields (all wire types except proto2 groups, refused as
/// `ProtoError.groupNotSupported`). Nested messages get a sub-reader one level deeper; past `maxDepth` levels
/// decoding is refused, so hostile input cannot exhaust the stack.
public struct ProtoReader: Sendable {
    /// Protobuf's customary recursion limit (the C++ and Go runtimes use 100 as well).
    public static let defaultMaxDepth = 100

    private let buffer: [UInt8]
    private var position: Int
    private let end: Int
    /// How many messages enclose the one being read (0 for the top level).
    public let depth: Int
    /// The deepest nesting this reader and its sub-readers accept.
    public let maxDepth: Int

    /// Creates a reader over a whole top-level message.
    /// - Parameters:
    ///   - bytes: the serialized message.
    ///   - maxDepth: the deepest message nesting accepted before `ProtoError.nestingTooDeep`.
    public init(_ bytes: [UInt8], maxDepth: Int = ProtoReader.defaultMaxDepth) {
        self.init(buffer: bytes, range: 0..<bytes.count, depth: 0, maxDepth: maxDepth)
    }

    init(buffer: [UInt8], range: Range<Int>, depth: Int, maxDepth: Int) {
        self.buffer = buffer
        self.position = range.lowerBound
        self.end = range.upperBound
        self.depth = depth
        self.maxDepth = maxDepth
    }

    /// True once every field of this message has been read.
    public var isAtEnd: Bool { position == end }

    /// The offset of the next unread byte, from the start of the top-level buffer.
    public var offset: Int { position }

    /// Reads the next field, or returns nil at the end of the message.
    /// - Returns: the field's number, wire type and value; length-delimited values are bounds-checked.
    /// - Throws: `ProtoError` for a truncated or overlong varint, wire type 3, 4, 6 or 7, field number 0 or
    ///   above 2^29-1, or a length that runs past the end of the message.
    public mutating func next() throws(ProtoError) -> ProtoField? {
        if position == end { return nil }
        let tagOffset = position
        let tag = try readVarint()
        guard let wireType = WireType(rawValue: UInt8(tag & 7)) else {
            throw .invalidWireType(UInt8(tag & 7), offset: tagOffset)
        }
        let number = tag >> 3
        guard number >= 1 && number <= UInt64(protoMaxFieldNumber) else {
            throw .invalidFieldNumber(number, offset: tagOffset)
        }
        let field = Int(number)
        let value: ProtoField.Value
        switch wireType {
        case .varint:
            value = .scalar(try readVarint())
        case .fixed64:
            value = .scalar(try readLittleEndian(byteCount: 8))
        case .fixed32:
            value = .scalar(try readLittleEndian(byteCount: 4))
        case .lengthDelimited:
            let lengthOffset = position
            let length = try readVarint()
            guard length <= UInt64(end - position) else {
                throw .lengthPastEnd(declared: length, available: end - position, offset: lengthOffset)
            }
            value = .payload(position..<position + Int(length))
            position += Int(length)
        case .startGroup, .endGroup:
            throw .groupNotSupported(field: field, offset: tagOffset)
        }
        return ProtoField(
            number: field, wireType: wireType, offset: tagOffset, value: value,
            buffer: buffer, depth: depth, maxDepth: maxDepth)
    }

    /// Reads a base-128 varint at the current position.
    /// - Throws: `.truncated` at the end of the message, `.varintTooLong` past ten bytes or 64 bits.
    mutating func readVarint() throws(ProtoError) -> UInt64 {
        let start = position
        var result: UInt64 = 0
        for index in 0..<10 {
            guard position < end else { throw .truncated(offset: position) }
            let byte = buffer[position]
            position += 1
            if index == 9 && byte > 1 { throw .varintTooLong(offset: start) }
            result |= UInt64(byte & 0x7F) << (7 * UInt64(index))
            if byte < 0x80 { return result }
        }
        throw .varintTooLong(offset: start)
    }

    private mutating func readLittleEndian(byteCount: Int) throws(ProtoError) -> UInt64 {
        guard end - position >= byteCount else { throw .truncated(offset: end) }
        var result: UInt64 = 0
        for index in 0..<byteCount { result |= UInt64(buffer[position + index]) << (8 * UInt64(index)) }
        position += byteCount
        return result
    }
}
