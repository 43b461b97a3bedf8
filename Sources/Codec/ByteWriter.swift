/// An append-only little-endian byte buffer.
///
/// Every on-disk and on-wire format in Roster is built from the handful of primitives here so that
/// their layout is described in one place: fixed-width little-endian integers, LEB128 varints, and
/// length-prefixed byte strings.
public struct ByteWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    public mutating func write(_ value: UInt8) {
        bytes.append(value)
    }

    public mutating func write(_ value: Bool) {
        bytes.append(value ? 1 : 0)
    }

    public mutating func writeFixed(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeFixed(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Writes an unsigned LEB128 varint (1 to 10 bytes).
    public mutating func writeVarint(_ value: UInt64) {
        var remaining = value
        while remaining >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(remaining))
    }

    /// Writes a signed integer as a zig-zag varint, so small negative numbers stay short.
    public mutating func writeSignedVarint(_ value: Int64) {
        writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// Writes a varint length followed by the bytes.
    public mutating func writeLengthPrefixed(_ value: some Collection<UInt8>) {
        writeVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// Writes a string as length-prefixed UTF-8.
    public mutating func writeString(_ value: String) {
        // From the string's own buffer (copied out first when it is small and inline): going through the UTF-8
        // view's generic iteration cost several hundred instructions per string, and a command holds dozens.
        var value = value
        value.withUTF8 { utf8 in
            writeVarint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    public mutating func writeRaw(_ value: some Collection<UInt8>) {
        bytes.append(contentsOf: value)
    }

    /// Overwrites four bytes at `offset` with `value`; used to back-patch lengths and checksums.
    public mutating func patchFixed(_ value: UInt32, at offset: Int) {
        precondition(offset >= 0 && offset + 4 <= bytes.count, "patch at \(offset) outside \(bytes.count) bytes")
        withUnsafeBytes(of: value.littleEndian) { raw in
            for position in 0..<4 { bytes[offset + position] = raw[position] }
        }
    }
}
