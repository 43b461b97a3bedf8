/// Percent-encoding of the `grpc-message` trailer, as gRPC's PROTOCOL-HTTP2 specifies.
///
/// The message is taken as UTF-8 bytes; bytes 0x20...0x7E except `%` (0x25) go out as they are, every
/// other byte as `%` and two upper-case hex digits. Decoding is forgiving because the specification
/// forbids failing on a bad value: a `%` not followed by two hex digits is kept literally, and bytes that
/// do not form UTF-8 become U+FFFD, so the caller always gets some message.
public enum GRPCMessageEncoding {
    /// Encodes `message` for the `grpc-message` trailer.
    /// - Complexity: O(n).
    public static func encode(_ message: String) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(message.utf8.count)
        let digits = Array("0123456789ABCDEF".utf8)
        for byte in message.utf8 {
            if isUnreserved(byte) {
                output.append(byte)
            } else {
                output += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes a received `grpc-message` value; never fails (see the type's discussion).
    /// - Complexity: O(n).
    public static func decode(_ value: String) -> String {
        let input = Array(value.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var position = 0
        while position < input.count {
            if input[position] == UInt8(ascii: "%"), position + 2 < input.count,
                let high = hexValue(input[position + 1]), let low = hexValue(input[position + 2])
            {
                output.append(high << 4 | low)
                position += 3
            } else {
                output.append(input[position])
                position += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// True for bytes sent unencoded: printable ASCII (space through `~`) except `%`.
    public static func isUnreserved(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: "%")
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
