/// A minimal JSON string escaper for hand-written JSON on hot paths (watch events, listings), where building
/// a dictionary and running a general encoder would dominate the cost.
public enum JSONText {
    /// `s` as a JSON string literal, quotes included (RFC 8259 §7).
    public static func quote(_ s: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(s.utf8.count + 2)
        appendQuoted(s, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `s` as a JSON string literal, quotes included.
    ///
    /// Escapes `"`, `\` and every control byte below 0x20; everything else, including non-ASCII, is copied as
    /// UTF-8, which JSON permits. `/` is not escaped because nothing embeds our JSON in HTML.
    public static func appendQuoted(_ s: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        // Native strings lend their bytes directly; small (inline) strings are copied out first.
        if s.utf8.withContiguousStorageIfAvailable({ appendEscaping($0, to: &output) }) == nil {
            var string = s
            string.withUTF8 { appendEscaping($0, to: &output) }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Appends `bytes`, copying the runs that need no escape whole (almost every registry string is one run).
    private static func appendEscaping(_ bytes: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
        var runStart = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            appendEscaped(byte, to: &output)
            runStart = index + 1
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
    }

    private static func appendEscaped(_ byte: UInt8, to output: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""): output.append(contentsOf: [0x5C, 0x22])
        case UInt8(ascii: "\\"): output.append(contentsOf: [0x5C, 0x5C])
        case 0x0A: output.append(contentsOf: [0x5C, UInt8(ascii: "n")])
        case 0x0D: output.append(contentsOf: [0x5C, UInt8(ascii: "r")])
        case 0x09: output.append(contentsOf: [0x5C, UInt8(ascii: "t")])
        case 0x08: output.append(contentsOf: [0x5C, UInt8(ascii: "b")])
        case 0x0C: output.append(contentsOf: [0x5C, UInt8(ascii: "f")])
        case 0..<0x20:
            output.append(contentsOf: "\\u00".utf8)
            output.append(hexDigits[Int(byte >> 4)])
            output.append(hexDigits[Int(byte & 0x0F)])
        default:
            output.append(byte)
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
