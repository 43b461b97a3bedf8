/// The pure per-line grammar of RFC 9112, separated from the buffering state machine.
extension HTTPRequestParser {
    /// `tchar` from RFC 9110 §5.6.2: the bytes allowed in methods and header names.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// Control bytes (NUL, CR, DEL, ...) that may not appear inside any line; HTAB is checked by callers.
    static func isControlByte(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == 0x7F
    }

    static func parseRequestLine(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> Head {
        // Scans over the raw buffer: every request's line passes through here.
        if line.withUnsafeBufferPointer({ $0.contains { $0 < 0x20 || $0 == 0x7F } }) { throw .invalidCharacter }
        // Exactly two spaces: method SP target SP version.
        guard let firstSpace = line.firstIndex(of: UInt8(ascii: " ")),
              let secondSpace = line[(firstSpace + 1)...].firstIndex(of: UInt8(ascii: " ")),
              !line[(secondSpace + 1)...].contains(UInt8(ascii: " "))
        else { throw .malformedRequestLine }
        let method = line[line.startIndex..<firstSpace]
        let target = line[(firstSpace + 1)..<secondSpace]
        guard !method.isEmpty, method.allSatisfy(isTokenByte) else { throw .malformedRequestLine }
        let version = try parseVersion(line[(secondSpace + 1)...])
        guard let first = target.first, first == UInt8(ascii: "/") || target.elementsEqual("*".utf8) else {
            throw .malformedRequestLine
        }
        guard target.withUnsafeBufferPointer({ $0.allSatisfy { $0 >= 0x21 && $0 <= 0x7E } }) else {
            throw .malformedRequestLine
        }
        let split = try PercentDecoding.splitTarget(target)
        return Head(method: String(decoding: method, as: UTF8.self), target: String(decoding: target, as: UTF8.self),
                    path: String(decoding: split.path, as: UTF8.self), pathSegments: split.segments,
                    query: split.query, version: version)
    }

    /// Accepts exactly `HTTP/1.0` and `HTTP/1.1`; other well-formed versions are 505, anything else 400.
    static func parseVersion(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPVersion {
        let start = bytes.startIndex
        guard bytes.count == 8, bytes.prefix(5).elementsEqual("HTTP/".utf8), bytes[start + 6] == UInt8(ascii: "."),
              let major = PercentDecoding.decimalDigit(bytes[start + 5]),
              let minor = PercentDecoding.decimalDigit(bytes[start + 7])
        else { throw .malformedRequestLine }
        guard major == 1, minor <= 1 else { throw .unsupportedVersion }
        return minor == 0 ? .http1_0 : .http1_1
    }

    static func parseHeaderLine(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> (name: String, value: String) {
        guard let first = line.first else { throw .malformedHeader }
        if first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { throw .obsoleteLineFolding }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw .malformedHeader }
        let name = line[line.startIndex..<colon]
        guard !name.isEmpty, name.allSatisfy(isTokenByte) else {
            throw line.contains(where: { $0 == 0 }) ? .invalidCharacter : .malformedHeader
        }
        var value = line[(colon + 1)...]
        if value.contains(where: { isControlByte($0) && $0 != UInt8(ascii: "\t") }) { throw .invalidCharacter }
        while let byte = value.first, byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { value.removeFirst() }
        while let byte = value.last, byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { value.removeLast() }
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// The single body length named by all `Content-Length` fields (each may be a comma list), or 0 if none.
    static func contentLength(_ values: [String]) throws(HTTPParseError) -> Int {
        // The usual case, one field of plain digits, without splitting.
        if values.count == 1, let plain = plainDecimal(values[0]) { return plain }
        var length: Int?
        for value in values {
            for item in value.split(separator: ",", omittingEmptySubsequences: false) {
                let digits = item.trimmingOWS().utf8
                guard (1...18).contains(digits.count), let parsed = Int(Substring(digits)),
                      digits.allSatisfy({ PercentDecoding.decimalDigit($0) != nil })
                else { throw .invalidContentLength }
                if let length, length != parsed { throw .conflictingContentLength }
                length = parsed
            }
        }
        return length ?? 0
    }

    /// 1 to 18 ASCII digits as a number, or nil for anything else (left to the general path).
    private static func plainDecimal(_ text: String) -> Int? {
        let digits = text.utf8
        guard (1...18).contains(digits.count) else { return nil }
        var value = 0
        for byte in digits {
            guard let digit = PercentDecoding.decimalDigit(byte) else { return nil }
            value = value * 10 + digit
        }
        return value
    }

    /// `chunk-size [ chunk-ext ]`: 1 to 15 hex digits (so the value cannot overflow), extensions ignored.
    static func parseChunkSize(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        if line.contains(where: { isControlByte($0) && $0 != UInt8(ascii: "\t") }) { throw .invalidCharacter }
        let end = line.firstIndex(of: UInt8(ascii: ";")) ?? line.endIndex
        let digits = line[line.startIndex..<end]
        guard (1...15).contains(digits.count) else { throw .malformedChunk }
        var size = 0
        for byte in digits {
            guard let digit = PercentDecoding.hexValue(byte) else { throw .malformedChunk }
            size = size << 4 | Int(digit)
        }
        return size
    }
}

extension PercentDecoding {
    /// The value of one decimal digit, or nil.
    static func decimalDigit(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }
}
