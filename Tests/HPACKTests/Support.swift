// Shared helpers for the HPACK tests: hex dumps as the RFC prints them, short field constructors, and a seeded
// generator so randomized tests replay exactly from their seed.
@testable import HPACK
import Raft  // SplitMix64: the project's one seeded generator

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

