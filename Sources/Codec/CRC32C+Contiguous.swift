/// Concrete overloads of the checksum for byte arrays and slices.
///
/// The generic `update(_:_:)` is not inlinable, so a caller in another module runs it unspecialized,
/// fetching every byte through protocol witnesses: about 40 ns per byte, which made checksumming a 20 MB
/// registry snapshot take longer than encoding it. These overloads are specialized here, inside Codec,
/// and overload resolution picks them for `[UInt8]` and `ArraySlice<UInt8>` arguments.
extension CRC32C {
    public static func update(_ crc: UInt32, _ bytes: [UInt8]) -> UInt32 {
        updateSpecialized(crc, bytes)
    }

    public static func update(_ crc: UInt32, _ bytes: ArraySlice<UInt8>) -> UInt32 {
        updateSpecialized(crc, bytes)
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        updateSpecialized(0, bytes)
    }

    public static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        updateSpecialized(0, bytes)
    }

    /// Goes straight to the eight-bytes-at-a-time buffer path.
    @inline(__always)
    private static func updateSpecialized<Bytes: Sequence<UInt8>>(_ crc: UInt32, _ bytes: Bytes) -> UInt32 {
        bytes.withContiguousStorageIfAvailable { update(crc, UnsafeRawBufferPointer($0)) } ?? update(crc, bytes)
    }
}
