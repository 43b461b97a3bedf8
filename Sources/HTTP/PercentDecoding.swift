import Codec

/// Percent-decoding for path segments and query components (RFC 3986 §2.1).
///
/// Decoding is strict: a `%` not followed by two hex digits is an error rather than a literal, and the decoded
/// bytes must be valid UTF-8 without NUL, because names derived from them become registry keys (reliability.md §9:
/// invalid UTF-8 and NUL bytes in names).
enum PercentDecoding {
    /// Decodes `bytes`; `plusIsSpace` applies the form-encoding rule used in query strings.
    static func decode(_ bytes: ArraySlice<UInt8>, plusIsSpace: Bool) throws(HTTPParseError) -> String {
        // The usual query name or value is plain visible ASCII: already valid UTF-8 without NUL, nothing to decode.
        let isPlain = bytes.withUnsafeBufferPointer { buffer in
            !buffer.contains { byte in
                byte < 0x21 || byte > 0x7E || byte == UInt8(ascii: "%") || (plusIsSpace && byte == UInt8(ascii: "+"))
            }
        }
        if isPlain { return String(decoding: bytes, as: UTF8.self) }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var position = bytes.startIndex
        while position < bytes.endIndex {
            let byte = bytes[position]
            if byte == UInt8(ascii: "%") {
                guard position + 2 < bytes.endIndex,
                      let high = hexValue(bytes[position + 1]), let low = hexValue(bytes[position + 2])
                else { throw .invalidPercentEncoding }
                output.append(high << 4 | low)
                position += 3
            } else {
                output.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                position += 1
            }
        }
        guard !output.contains(0), let text = UTF8Text.string(output) else {
            throw .invalidUTF8
        }
        return text
    }

    /// The value of one hex digit, or nil.
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Splits an origin-form target into its encoded path, decoded segments and decoded query.
    ///
    /// Each part in one pass, into arrays sized up front (splitting into slice arrays first grew and freed four
    /// arrays per request: a third of the cost of parsing a request line). A plain segment or query part costs
    /// one scan in `decode`.
    static func splitTarget(_ target: ArraySlice<UInt8>) throws(HTTPParseError)
        -> (path: ArraySlice<UInt8>, segments: [String], query: QueryParameters)
    {
        let questionMark = target.firstIndex(of: UInt8(ascii: "?"))
        let path = target[target.startIndex..<(questionMark ?? target.endIndex)]
        var segments: [String] = []
        segments.reserveCapacity(path.count { $0 == UInt8(ascii: "/") })
        try forEachPiece(of: path, separatedBy: UInt8(ascii: "/")) { (segment) throws(HTTPParseError) in
            segments.append(try decode(segment, plusIsSpace: false))
        }
        var query = QueryParameters()
        if let questionMark {
            let queryBytes = target[(questionMark + 1)...]
            query.pairs.reserveCapacity(1 + queryBytes.count { $0 == UInt8(ascii: "&") })
            try forEachPiece(of: queryBytes, separatedBy: UInt8(ascii: "&")) { (piece) throws(HTTPParseError) in
                let equals = piece.firstIndex(of: UInt8(ascii: "="))
                let name = try decode(piece[piece.startIndex..<(equals ?? piece.endIndex)], plusIsSpace: true)
                let value = try equals.map { (equals) throws(HTTPParseError) in try decode(piece[(equals + 1)...], plusIsSpace: true) }
                query.pairs.append((name, value ?? ""))
            }
        }
        return (path, segments, query)
    }

    /// Calls `body` with each non-empty run of `bytes` between `separator`s, in order.
    private static func forEachPiece(
        of bytes: ArraySlice<UInt8>, separatedBy separator: UInt8,
        _ body: (ArraySlice<UInt8>) throws(HTTPParseError) -> Void
    ) throws(HTTPParseError) {
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: separator) ?? bytes.endIndex
            if end > start { try body(bytes[start..<end]) }
            start = end + 1
        }
    }
}
