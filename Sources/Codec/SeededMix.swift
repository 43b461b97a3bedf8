/// A cheap seeded hash for keys that already carry a well-spread value.
///
/// `Dictionary` and `Set` ask every key for `_rawHashValue(seed:)`, whose default runs a full SipHash (`Hasher`
/// init, combine, finalize: about 150 instructions) even over a single integer. A key that already holds a
/// seeded SipHash of its bytes, or an integer that differs between keys, only needs the table's seed mixed in,
/// so each table keeps its own bucket order: MurmurHash3's 64-bit finalizer does that in a few instructions.
public enum SeededMix {
    @inline(__always)
    public static func hash(_ value: UInt64, seed: Int) -> Int {
        var mixed = value ^ UInt64(bitPattern: Int64(seed))
        mixed ^= mixed >> 33
        mixed &*= 0xFF51_AFD7_ED55_8CCD
        mixed ^= mixed >> 33
        mixed &*= 0xC4CE_B9FE_1A85_EC53
        mixed ^= mixed >> 33
        return Int(truncatingIfNeeded: mixed)
    }
}
