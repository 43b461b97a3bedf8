/// Standard base64 (RFC 4648 §4) with padding, strict in both directions.
///
/// Hand-written rather than Foundation's so that decoding refuses everything non-canonical (missing or
/// misplaced padding, non-zero unused bits, whitespace): a value has exactly one spelling, and
/// reliability.md §9 lists bad padding among the inputs that must fail cleanly.
enum Base64 {
    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Appends the encoding of `bytes` to `output`.
    static func encode(_ bytes: [UInt8], into output: inout [UInt8]) {
        var position = 0
        while position + 3 <= bytes.count {
            let word = UInt32(bytes[position]) << 16 | UInt32(bytes[position + 1]) << 8 | UInt32(bytes[position + 2])
            for shift in [18, 12, 6, 0] { output.append(alphabet[Int((word >> UInt32(shift)) & 0x3F)]) }
            position += 3
        }
        let rest = bytes.count - position
        if rest == 1 {
            let word = UInt32(bytes[position]) << 16
            output.append(alphabet[Int(word >> 18)])
            output.append(alphabet[Int((word >> 12) & 0x3F)])
            output.append(contentsOf: "==".utf8)
        } else if rest == 2 {
            let word = UInt32(bytes[position]) << 16 | UInt32(bytes[position + 1]) << 8
            output.append(alphabet[Int(word >> 18)])
            output.append(alphabet[Int((word >> 12) & 0x3F)])
            output.append(alphabet[Int((word >> 6) & 0x3F)])
            output.append(UInt8(ascii: "="))
        }
    }

    /// The bytes `text` encodes, or nil unless it is canonical padded base64.
    static func decode(_ text: String) -> [UInt8]? {
        let input = Array(text.utf8)
        guard input.count % 4 == 0 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(input.count / 4 * 3)
        var position = 0
        while position < input.count {
            let isLast = position + 4 == input.count
            let padding = isLast ? input[position...].reversed().prefix { $0 == UInt8(ascii: "=") }.count : 0
            guard padding <= 2 else { return nil }
            var word: UInt32 = 0
            for offset in 0..<(4 - padding) {
                guard let sextet = value(of: input[position + offset]) else { return nil }
                word = word << 6 | UInt32(sextet)
            }
            word <<= UInt32(6 * padding)
            let produced = 3 - padding
            if padding > 0 && (word & ((1 << UInt32(8 * padding)) - 1)) != 0 { return nil }
            for index in 0..<produced { output.append(UInt8((word >> UInt32(16 - 8 * index)) & 0xFF)) }
            position += 4
        }
        return output
    }

    private static func value(of byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
