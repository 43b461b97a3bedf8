/// Why bytes are not a DNS message this node will read: each case names the offset where decoding stopped,
/// so a packet capture can be lined up with the refusal.
///
/// The server answers a query it cannot read with FORMERR when at least its 12-byte header is readable and
/// drops it otherwise; nothing in here is ever fatal to the node.
public enum DNSWireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The message ended inside `field`.
    case truncated(field: String, offset: Int)
    /// A name longer than 255 bytes on the wire, counting length bytes and the root.
    case nameTooLong(offset: Int)
    /// A length byte whose top bits are neither 00 (a label of at most 63 bytes) nor 11 (a pointer): the
    /// extended and binary labels of RFC 6891 §5 and RFC 2673 are obsolete, and 64 or more is no length.
    case unsupportedLabelType(byte: UInt8, offset: Int)
    /// A compression pointer at `offset` that does not point strictly before the name it is part of; such a
    /// pointer is how a packet builds a loop.
    case pointerNotBackward(offset: Int, target: Int)
    /// A record's RDATA whose length does not fit its type.
    case badRecordData(type: UInt16, offset: Int, reason: String)
    /// More bytes after the last record the counts announce.
    case trailingBytes(count: Int)
    /// A message over 65,535 bytes, the most a DNS length field can describe.
    case messageTooLong(bytes: Int)
    /// A section count larger than the bytes left could possibly hold.
    case countTooLarge(section: String, count: Int)
    /// A name in text form that cannot be a domain name.
    case invalidName(String)

    public var description: String {
        switch self {
        case .truncated(let field, let offset): "message ends inside \(field) at offset \(offset)"
        case .nameTooLong(let offset): "name at offset \(offset) longer than 255 bytes"
        case .unsupportedLabelType(let byte, let offset):
            "unsupported label type 0x\(String(byte, radix: 16)) at offset \(offset)"
        case .pointerNotBackward(let offset, let target):
            "compression pointer at offset \(offset) to \(target) does not point backward"
        case .badRecordData(let type, let offset, let reason): "record data of type \(type) at offset \(offset): \(reason)"
        case .trailingBytes(let count): "\(count) bytes after the last record"
        case .messageTooLong(let bytes): "message of \(bytes) bytes (limit 65535)"
        case .countTooLarge(let section, let count): "\(section) count \(count) cannot fit in the message"
        case .invalidName(let text): "not a domain name: \(text)"
        }
    }
}
