import HPACK

/// The request rules of RFC 9113 §8.2 and §8.3 that make a request "malformed" (a stream error of type
/// PROTOCOL_ERROR): field name and value syntax, pseudo-header order and set, connection-specific fields.
enum RequestValidation {
    /// The request pseudo-headers, each with its bit in a seen-set; compared as bytes, with no hashing or
    /// allocation, since every request's header list passes through here.
    private static let pseudoHeaders: [(name: [UInt8], bit: UInt8)] = [
        (Array(":method".utf8), 1), (Array(":scheme".utf8), 2), (Array(":authority".utf8), 4), (Array(":path".utf8), 8),
    ]
    private static let methodBit: UInt8 = 1
    private static let schemeBit: UInt8 = 2
    private static let pathBit: UInt8 = 8
    private static let connectionSpecific: [[UInt8]] =
        ["connection", "proxy-connection", "keep-alive", "transfer-encoding", "upgrade"].map { Array($0.utf8) }
    private static let connect = Array("CONNECT".utf8)
    private static let te = Array("te".utf8)
    private static let trailers = Array("trailers".utf8)

    /// Why a request header list is malformed, or nil if it is acceptable.
    static func problem(inRequest fields: [HeaderField]) -> String? {
        var seenPseudo: UInt8 = 0
        var seenRegular = false
        var isConnect = false
        for field in fields {
            if let problem = syntaxProblem(field) { return problem }
            if field.name.first == UInt8(ascii: ":") {
                guard !seenRegular else { return "pseudo-header \(field.nameString) after a regular field" }
                guard let bit = pseudoHeaders.first(where: { $0.name == field.name })?.bit else {
                    return "unknown pseudo-header \(field.nameString)"
                }
                guard seenPseudo & bit == 0 else { return "repeated \(field.nameString)" }
                seenPseudo |= bit
                if bit == methodBit { isConnect = field.value == connect }
                if bit == pathBit && field.value.isEmpty { return "empty :path" }
            } else {
                seenRegular = true
                if let problem = regularFieldProblem(field) { return problem }
            }
        }
        guard seenPseudo & methodBit != 0 else { return "missing :method" }
        if !isConnect {
            guard seenPseudo & schemeBit != 0 else { return "missing :scheme" }
            guard seenPseudo & pathBit != 0 else { return "missing :path" }
        }
        return nil
    }

    /// Why a trailer list is malformed (trailers carry no pseudo-headers), or nil.
    static func problem(inTrailers fields: [HeaderField]) -> String? {
        for field in fields {
            if let problem = syntaxProblem(field) { return problem }
            if field.name.first == UInt8(ascii: ":") { return "pseudo-header \(field.nameString) in trailers" }
            if let problem = regularFieldProblem(field) { return problem }
        }
        return nil
    }

    private static func regularFieldProblem(_ field: HeaderField) -> String? {
        if connectionSpecific.contains(field.name) { return "connection-specific field \(field.nameString)" }
        if field.name == te && field.value != trailers {
            return "te other than \"trailers\""
        }
        return nil
    }

    /// Names: non-empty, no uppercase, no controls, space or non-ASCII (a leading ':' is allowed); values: no
    /// NUL, CR or LF, and no leading or trailing space or tab (RFC 9113 §8.2.1).
    private static func syntaxProblem(_ field: HeaderField) -> String? {
        guard !field.name.isEmpty else { return "empty field name" }
        for (position, byte) in field.name.enumerated() {
            let isColonPrefix = position == 0 && byte == UInt8(ascii: ":")
            if !isColonPrefix && (byte <= 0x20 || byte >= 0x7F || byte == UInt8(ascii: ":")
                                  || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))) {
                return "invalid character 0x\(String(byte, radix: 16)) in field name \(field.nameString)"
            }
        }
        if field.value.contains(where: { $0 == 0 || $0 == 0x0A || $0 == 0x0D }) {
            return "NUL, CR or LF in the value of \(field.nameString)"
        }
        if let first = field.value.first, let last = field.value.last,
            first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09
        {
            return "leading or trailing whitespace in the value of \(field.nameString)"
        }
        return nil
    }
}
