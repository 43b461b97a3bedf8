// Shared helpers for the HPACK tests: hex dumps as the RFC prints them, short field constructors, and a seeded
// generator so randomized tests replay exactly from their seed.
@testable import HPACK

/// Parses a hex dump such as "8286 8441", ignoring spaces and newlines.
func hex(_ dump: String) -> [UInt8] {
    let digits = dump.filter { $0.isHexDigit }
    precondition(digits.count % 2 == 0, "odd hex dump: \(dump)")
    var bytes: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        bytes.append(UInt8(digits[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

/// A field from strings with automatic indexing, as decoded fields (other than never-indexed) carry.
func field(_ name: String, _ value: String) -> HeaderField {
    HeaderField(name, value)
}

/// The dynamic table as (name, value) strings, newest first, as the RFC's examples list it.
func tableContents(_ table: DynamicTable) -> [[String]] {
    table.entries.map { [$0.nameString, $0.valueString] }
}

/// A tiny seeded generator (SplitMix64) so fuzz runs are reproducible from their seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
