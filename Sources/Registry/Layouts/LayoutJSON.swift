/// The small JSON model the framework layouts read and write (RFC 8259), kept inside `Registry` because the
/// registry applies layout writes itself and depends on no HTTP or JSON module.
///
/// Reading is strict and bounded: nesting deeper than `maximumDepth` and anything that is not exactly one JSON
/// value (trailing bytes, invalid UTF-8, bad escapes) fails, so a foreign value under a layout prefix is simply
/// not an instance. Input is already bounded by `RegistryLimits.valueBytes`.
indirect enum LayoutJSON: Equatable, Sendable {
    case null
    case bool(Bool)
    /// A number as written, validated against the JSON grammar; callers convert what they need.
    case number(String)
    case string(String)
    case array([LayoutJSON])
    /// Members in document order; duplicates are kept, as Go's decoder lets the last one win.
    case object([(String, LayoutJSON)])

    static func == (lhs: LayoutJSON, rhs: LayoutJSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// Deepest nesting of arrays and objects accepted; registry documents are two levels deep.
    static let maximumDepth = 32

    /// Parses one JSON document. - Returns: nil for anything that is not exactly one valid JSON value.
    /// - Parameter fields: when given, members of the top-level object whose names are not among these
    ///   (lower-case ASCII, compared ignoring case) are checked but not kept, so a large document of unknown
    ///   members costs one pass and no tree.
    static func parse(_ bytes: some Collection<UInt8>, keeping fields: [String]? = nil) -> LayoutJSON? {
        var parser = LayoutJSONParser(bytes: Array(bytes))
        parser.keptFields = fields.map { $0.map { Array($0.utf8) } }
        guard let value = parser.value(depth: 0) else { return nil }
        parser.skipSpace()
        return parser.isAtEnd ? value : nil
    }
}

/// A recursive-descent reader over UTF-8 bytes; nil at the first error (the caller only needs a verdict).
private struct LayoutJSONParser {
    let bytes: [UInt8]
    var position = 0
    /// Top-level member names worth keeping (folded to lower case); nil keeps everything.
    var keptFields: [[UInt8]]? = nil

    init(bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { position == bytes.count }

    mutating func skipSpace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    mutating func value(depth: Int) -> LayoutJSON? {
        guard depth <= LayoutJSON.maximumDepth else { return nil }
        skipSpace()
        guard position < bytes.count else { return nil }
        switch bytes[position] {
        case UInt8(ascii: "{"): return object(depth: depth)
        case UInt8(ascii: "["): return array(depth: depth)
        case UInt8(ascii: "\""): return string().map(LayoutJSON.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        default: return number()
        }
    }

    private mutating func literal(_ text: StaticString, _ value: LayoutJSON) -> LayoutJSON? {
        let count = text.utf8CodeUnitCount
        guard position + count <= bytes.count else { return nil }
        let matches = text.withUTF8Buffer { Array($0) == Array(bytes[position..<(position + count)]) }
        guard matches else { return nil }
        position += count
        return value
    }

    private mutating func object(depth: Int) -> LayoutJSON? {
        position += 1
        var members: [(String, LayoutJSON)] = []
        skipSpace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipSpace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\""), let name = string() else { return nil }
            skipSpace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { return nil }
            position += 1
            guard let member = value(depth: depth + 1) else { return nil }
            if depth > 0 || isKept(name) { members.append((name, member)) }
            skipSpace()
            guard position < bytes.count else { return nil }
            if bytes[position] == UInt8(ascii: "}") {
                position += 1
                return .object(members)
            }
            guard bytes[position] == UInt8(ascii: ",") else { return nil }
            position += 1
        }
    }

    /// Whether a top-level member is kept: always without `keptFields`, else when its name matches one.
    private func isKept(_ name: String) -> Bool {
        guard let keptFields else { return true }
        let folded = name.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        return keptFields.contains(folded)
    }

    private mutating func array(depth: Int) -> LayoutJSON? {
        position += 1
        var elements: [LayoutJSON] = []
        skipSpace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            guard let element = value(depth: depth + 1) else { return nil }
            elements.append(element)
            skipSpace()
            guard position < bytes.count else { return nil }
            if bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array(elements)
            }
            guard bytes[position] == UInt8(ascii: ",") else { return nil }
            position += 1
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func number() -> LayoutJSON? {
        let start = position
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < bytes.count, RegistryValidation.isDigit(bytes[position]) else { return nil }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            while position < bytes.count, RegistryValidation.isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard digits() else { return nil }
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard digits() else { return nil }
        }
        return .number(String(decoding: bytes[start..<position], as: UTF8.self))
    }

    private mutating func digits() -> Bool {
        let start = position
        while position < bytes.count, RegistryValidation.isDigit(bytes[position]) { position += 1 }
        return position > start
    }

    /// A string starting at the opening quote; raw bytes must be valid UTF-8 without control characters.
    private mutating func string() -> String? {
        position += 1
        let start = position
        // The common case, no escape: one validation of the bytes between the quotes.
        while position < bytes.count, bytes[position] != UInt8(ascii: "\""), bytes[position] != UInt8(ascii: "\\") {
            if bytes[position] < 0x20 { return nil }
            position += 1
        }
        guard position < bytes.count else { return nil }
        if bytes[position] == UInt8(ascii: "\"") {
            position += 1
            return String(validating: bytes[start..<position - 1], as: UTF8.self)
        }
        var decoded = Array(bytes[start..<position])
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return String(validating: decoded, as: UTF8.self)
            }
            if byte < 0x20 { return nil }
            if byte == UInt8(ascii: "\\") {
                guard let scalar = escape() else { return nil }
                decoded.append(contentsOf: String(scalar).utf8)
                continue
            }
            decoded.append(byte)
            position += 1
        }
        return nil
    }

    /// One escape after the backslash at `position`; surrogate pairs must be complete.
    private mutating func escape() -> Unicode.Scalar? {
        guard position + 1 < bytes.count else { return nil }
        let letter = bytes[position + 1]
        position += 2
        switch letter {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            guard let high = hex4() else { return nil }
            if (0xD800...0xDBFF).contains(high) {
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u")
                else { return nil }
                position += 2
                guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
                return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
            }
            return Unicode.Scalar(high)
        default: return nil
        }
    }

    private mutating func hex4() -> UInt32? {
        guard position + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for byte in bytes[position..<(position + 4)] {
            guard RegistryValidation.isHexDigit(byte) else { return nil }
            let digit = RegistryValidation.isDigit(byte) ? byte - 0x30 : (byte | 0x20) - 0x61 + 10
            value = value << 4 | UInt32(digit)
        }
        position += 4
        return value
    }
}

// MARK: - Writing

/// Appends JSON text in the form Go's `encoding/json` produces (so a rendered value looks like what the
/// framework itself would have written): strings escape `"`, `\`, control characters, `<`, `>`, `&`, U+2028 and
/// U+2029; maps are written in key byte order.
struct LayoutJSONWriter {
    private(set) var bytes: [UInt8] = []

    mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        let utf8 = Array(text.utf8)
        var position = 0
        while position < utf8.count {
            let byte = utf8[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case UInt8(ascii: "\n"): raw("\\n")
            case UInt8(ascii: "\r"): raw("\\r")
            case UInt8(ascii: "\t"): raw("\\t")
            case 0x00..<0x20, UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"): unicodeEscape(UInt32(byte))
            case 0xE2 where position + 1 < utf8.count && utf8[position] == 0x80 && (utf8[position + 1] & 0xFE) == 0xA8:
                // U+2028 and U+2029 (E2 80 A8/A9): Go escapes them so the JSON is also valid JavaScript.
                unicodeEscape(0x2028 | UInt32(utf8[position + 1] & 1))
                position += 2
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func unicodeEscape(_ value: UInt32) {
        let hex = Array("0123456789abcdef".utf8)
        bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u")])
        for shift in stride(from: 12, through: 0, by: -4) { bytes.append(hex[Int((value >> UInt32(shift)) & 0xF)]) }
    }

    /// `"key":` then the value written by `body`.
    mutating func member(_ key: String, first: Bool = false, _ body: (inout LayoutJSONWriter) -> Void) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        string(key)
        bytes.append(UInt8(ascii: ":"))
        body(&self)
    }

    mutating func stringMap(_ map: [String: String]) {
        bytes.append(UInt8(ascii: "{"))
        let keys = map.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for (position, key) in keys.enumerated() {
            member(key, first: position == 0) { $0.string(map[key] ?? "") }
        }
        bytes.append(UInt8(ascii: "}"))
    }

    mutating func stringArray(_ array: [String]) {
        bytes.append(UInt8(ascii: "["))
        for (position, element) in array.enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: ",")) }
            string(element)
        }
        bytes.append(UInt8(ascii: "]"))
    }
}

// MARK: - Reading Go structs

/// Reads a JSON object the way Go's `encoding/json` fills a struct: members match field names ignoring ASCII
/// case, the last match wins, unknown members are ignored, and `null` leaves a field at its zero value.
struct LayoutJSONObject {
    private let members: [(String, LayoutJSON)]
    /// Member names folded to ASCII lower case once, so a lookup allocates nothing whatever the object's size.
    private let foldedNames: [[UInt8]]

    init?(_ value: LayoutJSON) {
        guard case .object(let members) = value else { return nil }
        self.members = members
        foldedNames = members.map { $0.0.utf8.map(Self.lowercased) }
    }

    /// The last member whose name equals `field` ignoring ASCII case; nil when absent or `null`.
    /// - Parameter field: a lower-case ASCII field name.
    func field(_ field: String) -> LayoutJSON? {
        for position in members.indices.reversed() where foldedNames[position].elementsEqual(field.utf8) {
            if case .null = members[position].1 { return nil }
            return members[position].1
        }
        return nil
    }

    /// A string field: "" when absent or `null`; nil (not a document of this framework) when of another type.
    func string(_ name: String) -> String? {
        guard let value = field(name) else { return "" }
        guard case .string(let text) = value else { return nil }
        return text
    }

    /// A `map[string]string` field: empty when absent; nil when of another shape.
    func stringMap(_ name: String) -> [String: String]? {
        guard let value = field(name) else { return [:] }
        guard case .object(let members) = value else { return nil }
        var map: [String: String] = [:]
        for (key, member) in members {
            switch member {
            case .string(let text): map[key] = text
            case .null: map[key] = ""
            default: return nil
            }
        }
        return map
    }

    /// A `[]string` field: empty when absent; nil when of another shape.
    func stringArray(_ name: String) -> [String]? {
        guard let value = field(name) else { return [] }
        guard case .array(let elements) = value else { return nil }
        var strings: [String] = []
        for element in elements {
            switch element {
            case .string(let text): strings.append(text)
            case .null: strings.append("")
            default: return nil
            }
        }
        return strings
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }
}
