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
    ///
    /// Every field of every request passes through here, so the scans run over the raw buffers with a table for
    /// names (generic `enumerated()`/`contains(where:)` iteration was 2.5 % of an etcd read's instructions).
    private static func syntaxProblem(_ field: HeaderField) -> String? {
        guard !field.name.isEmpty else { return "empty field name" }
        let badNameByte = field.name.withUnsafeBufferPointer { name -> UInt8? in
            for position in name.indices where !isNameByte[Int(name[position])] {
                if position == 0 && name[position] == UInt8(ascii: ":") { continue }
                return name[position]
            }
            return nil
        }
        if let byte = badNameByte {
            return "invalid character 0x\(String(byte, radix: 16)) in field name \(field.nameString)"
        }
        let problem = field.value.withUnsafeBufferPointer { value -> String? in
            for byte in value where byte == 0 || byte == 0x0A || byte == 0x0D {
                return "NUL, CR or LF in the value of \(field.nameString)"
            }
            if let first = value.first, let last = value.last,
                first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09
            {
                return "leading or trailing whitespace in the value of \(field.nameString)"
            }
            return nil
        }
        return problem
    }

    /// Bytes allowed in a field name after its first: visible ASCII other than ':' and uppercase letters.
    private static let isNameByte: [Bool] = (0..<256).map { byte in
        byte > 0x20 && byte < 0x7F && byte != Int(UInt8(ascii: ":"))
            && !(byte >= Int(UInt8(ascii: "A")) && byte <= Int(UInt8(ascii: "Z")))
    }
}
