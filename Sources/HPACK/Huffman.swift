/// Huffman coding of string literals with the static code of RFC 7541 Appendix B.
enum Huffman {
    /// The number of octets `bytes` takes once Huffman-coded, so the encoder can pick the shorter form.
    /// - Complexity: O(n).
    static func encodedLength(of bytes: [UInt8]) -> Int {
        var bits = 0
        for byte in bytes { bits += Int(HuffmanCode.bitLengths[Int(byte)]) }
        return (bits + 7) / 8
    }

    /// Appends the Huffman code of `bytes`, padded to an octet boundary with the high bits of EOS (all ones).
    /// - Complexity: O(n).
    static func encode(_ bytes: [UInt8], into output: inout [UInt8]) {
        var buffer: UInt64 = 0
        var bitCount = 0
        for byte in bytes {
            let length = Int(HuffmanCode.bitLengths[Int(byte)])
            buffer = (buffer << UInt64(length)) | UInt64(HuffmanCode.codes[Int(byte)])
            bitCount += length
            while bitCount >= 8 {
                bitCount -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt64(bitCount)))
            }
        }
        if bitCount > 0 {
            let padding = 8 - bitCount
            output.append(UInt8(truncatingIfNeeded: (buffer << UInt64(padding)) | ((1 << UInt64(padding)) - 1)))
        }
    }

    /// Decodes `input[range]`, enforcing the error rules of RFC 7541 §5.2.
    /// - Parameters:
    ///   - maxLength: the longest output accepted; Huffman expands up to 8/5, so the encoded length alone
    ///     does not bound the output.
    /// - Throws: `.huffmanEndOfString`, `.huffmanInvalidPadding`, or `.stringTooLong` past `maxLength`.
    /// - Complexity: O(bits): one table probe per input bit.
    static func decode(_ input: [UInt8], _ range: Range<Int>, maxLength: Int) throws(HPACKError) -> [UInt8] {
        let table = HuffmanDecodingTable.shared
        var output: [UInt8] = []
        output.reserveCapacity(min(maxLength, range.count * 8 / 5 + 1))
        var code: UInt32 = 0
        var length = 0
        for position in range {
            let byte = input[position]
            for shift in stride(from: 7, through: 0, by: -1) {
                code = (code << 1) | UInt32((byte >> UInt8(shift)) & 1)
                length += 1
                guard let symbol = table.symbol(code: code, length: length) else {
                    // The code is complete, so 30 bits always resolve; this only guards a corrupted table.
                    if length >= 30 { throw .huffmanInvalidPadding }
                    continue
                }
                guard symbol != HuffmanCode.endOfString else { throw .huffmanEndOfString }
                guard output.count < maxLength else {
                    throw .stringTooLong(length: output.count + 1, limit: maxLength)
                }
                output.append(UInt8(symbol))
                code = 0
                length = 0
            }
        }
        // Leftover bits are padding: at most 7, and all ones (the most significant bits of EOS).
        guard length <= 7, code == (UInt32(1) << UInt32(length)) - 1 else { throw .huffmanInvalidPadding }
        return output
    }
}

/// Per-length ranges of the canonical code: codes of one length are consecutive integers, and their symbols are
/// in ascending order, so a (code, length) pair maps to a symbol with two comparisons and an array lookup.
struct HuffmanDecodingTable: Sendable {
    static let shared = HuffmanDecodingTable()

    /// First code of each bit length (index = length, 0...30).
    private var firstCode = [UInt32](repeating: 0, count: 31)
    /// How many codes have each bit length.
    private var count = [Int](repeating: 0, count: 31)
    /// Where each length's symbols start in `symbols`.
    private var offset = [Int](repeating: 0, count: 31)
    /// All symbols ordered by (length, code).
    private var symbols: [Int] = []

    private init() {
        let order = (0...HuffmanCode.endOfString).sorted {
            (HuffmanCode.bitLengths[$0], HuffmanCode.codes[$0]) < (HuffmanCode.bitLengths[$1], HuffmanCode.codes[$1])
        }
        for symbol in order {
            let length = Int(HuffmanCode.bitLengths[symbol])
            if count[length] == 0 {
                firstCode[length] = HuffmanCode.codes[symbol]
                offset[length] = symbols.count
            }
            precondition(HuffmanCode.codes[symbol] == firstCode[length] + UInt32(count[length]),
                         "RFC 7541 Appendix B table is not canonical at symbol \(symbol)")
            count[length] += 1
            symbols.append(symbol)
        }
    }

    /// The symbol whose code is the low `length` bits of `code`, or nil if no code of that length matches.
    @inline(__always)
    func symbol(code: UInt32, length: Int) -> Int? {
        guard length < count.count, count[length] > 0, code >= firstCode[length] else { return nil }
        let rank = Int(code - firstCode[length])
        return rank < count[length] ? symbols[offset[length] + rank] : nil
    }
}
