/// Why bytes could not be decoded. Decoders never trap on input: every malformed byte sequence ends
/// here, so a corrupt file or a hostile peer costs an error, not the process.
public enum CodecError: Error, Equatable, Sendable {
    /// The input ended `needed` bytes short while reading `field`.
    case truncated(field: String, needed: Int)
    /// A varint ran past 10 bytes or overflowed 64 bits.
    case malformedVarint(offset: Int)
    /// A length prefix exceeds the limit the caller set, checked before anything is allocated.
    case lengthOverLimit(field: String, length: UInt64, limit: Int)
    /// A string field is not valid UTF-8.
    case invalidUTF8(field: String)
    /// An enumeration tag has no meaning in this format version.
    case unknownTag(field: String, tag: UInt64)
    /// A value is well-formed but violates a rule of the format (for example an index out of order).
    case invalidValue(field: String, reason: String)
    /// Bytes remained after the value was fully decoded.
    case trailingBytes(count: Int)
    /// A checksum did not match its content.
    case checksumMismatch(expected: UInt32, actual: UInt32)
}

/// A cursor over little-endian bytes, the reading half of `ByteWriter`.
///
/// Every read checks bounds and throws `CodecError`; nothing here can trap on malformed input.
public struct ByteReader: Sendable {
    public let bytes: [UInt8]
    /// Position of the next byte to read.
    public private(set) var offset: Int
    private let end: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
        self.end = bytes.count
    }

    public init(_ bytes: [UInt8], range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count, "range \(range) outside \(bytes.count)")
        self.bytes = bytes
        self.offset = range.lowerBound
        self.end = range.upperBound
    }

    public var remaining: Int { end - offset }
    public var isAtEnd: Bool { offset == end }

    private mutating func take(_ count: Int, field: String) throws(CodecError) -> Range<Int> {
        guard count <= remaining else { throw .truncated(field: field, needed: count - remaining) }
        let range = offset..<(offset + count)
        offset += count
        return range
    }

    public mutating func readByte(_ field: String = "byte") throws(CodecError) -> UInt8 {
        bytes[try take(1, field: field).lowerBound]
    }

    public mutating func readBool(_ field: String = "bool") throws(CodecError) -> Bool {
        switch try readByte(field) {
        case 0: return false
        case 1: return true
        case let other: throw .unknownTag(field: field, tag: UInt64(other))
        }
    }

    public mutating func readFixed32(_ field: String = "u32") throws(CodecError) -> UInt32 {
        let range = try take(4, field: field)
        var value: UInt32 = 0
        for position in range.reversed() { value = value << 8 | UInt32(bytes[position]) }
        return value
    }

    public mutating func readFixed64(_ field: String = "u64") throws(CodecError) -> UInt64 {
        let range = try take(8, field: field)
        var value: UInt64 = 0
        for position in range.reversed() { value = value << 8 | UInt64(bytes[position]) }
        return value
    }

    public mutating func readVarint(_ field: String = "varint") throws(CodecError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        let start = offset
        while true {
            guard offset < end else { throw .truncated(field: field, needed: 1) }
            let byte = bytes[offset]
            offset += 1
            if shift == 63 && byte > 1 { throw .malformedVarint(offset: start) }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
            if shift > 63 { throw .malformedVarint(offset: start) }
        }
    }

    public mutating func readSignedVarint(_ field: String = "signed varint") throws(CodecError) -> Int64 {
        let raw = try readVarint(field)
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    /// Reads a varint that must fit `Int` and stay within `limit`.
    public mutating func readCount(_ field: String, limit: Int) throws(CodecError) -> Int {
        let raw = try readVarint(field)
        guard raw <= UInt64(limit) else { throw .lengthOverLimit(field: field, length: raw, limit: limit) }
        return Int(raw)
    }

    /// Reads a length-prefixed byte string whose length is checked against `limit` before copying.
    public mutating func readLengthPrefixed(_ field: String, limit: Int) throws(CodecError) -> [UInt8] {
        let length = try readCount(field, limit: limit)
        return Array(bytes[try take(length, field: field)])
    }

    /// Reads a length-prefixed byte string as a view of the input, without copying it.
    public mutating func readLengthPrefixedSlice(_ field: String, limit: Int) throws(CodecError) -> ArraySlice<UInt8> {
        let length = try readCount(field, limit: limit)
        return bytes[try take(length, field: field)]
    }

    public mutating func readString(_ field: String, limit: Int) throws(CodecError) -> String {
        // Validated straight from the input: no intermediate array per string.
        guard let text = UTF8Text.string(try readLengthPrefixedSlice(field, limit: limit)) else {
            throw .invalidUTF8(field: field)
        }
        return text
    }

    /// Reads a length-prefixed string and checks that it is UTF-8, without building a `String`: what
    /// `readString` accepts, at a fraction of the cost, for validating records that are kept as bytes.
    public mutating func skipString(_ field: String, limit: Int) throws(CodecError) -> ArraySlice<UInt8> {
        let raw = try readLengthPrefixedSlice(field, limit: limit)
        let isASCII = raw.withUnsafeBufferPointer { buffer in buffer.allSatisfy { $0 < 0x80 } }
        guard isASCII || String(validating: raw, as: UTF8.self) != nil else { throw .invalidUTF8(field: field) }
        return raw
    }

    public mutating func readRaw(_ count: Int, field: String) throws(CodecError) -> ArraySlice<UInt8> {
        bytes[try take(count, field: field)]
    }

    /// Throws unless every byte has been consumed.
    public func expectEnd() throws(CodecError) {
        guard isAtEnd else { throw .trailingBytes(count: remaining) }
    }
}
