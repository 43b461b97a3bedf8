/// ZigZag mapping of signed to unsigned integers (0, -1, 1, -2 ... to 0, 1, 2, 3 ...), used by `sint32`
/// and `sint64` so that small negative numbers encode as short varints instead of ten bytes.
public enum Zigzag {
    /// Maps a signed 32-bit value to its zigzag form.
    public static func encode(_ value: Int32) -> UInt32 {
        UInt32(bitPattern: (value << 1) ^ (value >> 31))
    }

    /// Maps a signed 64-bit value to its zigzag form.
    public static func encode(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    /// Inverse of `encode(_:)` for 32 bits.
    public static func decode(_ value: UInt32) -> Int32 {
        Int32(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    /// Inverse of `encode(_:)` for 64 bits.
    public static func decode(_ value: UInt64) -> Int64 {
        Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }
}
