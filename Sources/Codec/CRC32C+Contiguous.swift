/// Concrete overloads of the checksum for byte arrays and slices.
///
/// The generic `update(_:_:)` is not inlinable, so a caller in another module would run it unspecialized,
/// fetching every byte through protocol witnesses: about 40 ns per byte, which made checksumming a 20 MB
/// registry snapshot take longer than encoding it. Overload resolution picks these for `[UInt8]` and
/// `ArraySlice<UInt8>` arguments, and they hand the contiguous bytes straight to the slicing-by-8 loop.
extension CRC32C {
    public static func update(_ crc: UInt32, _ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { update(crc, $0) }
    }

    public static func update(_ crc: UInt32, _ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBytes { update(crc, $0) }
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { update(0, $0) }
    }

    public static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBytes { update(0, $0) }
    }
}
