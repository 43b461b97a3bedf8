/// A parsed JSON document, kept close to the text so that validation can be strict.
///
/// Numbers keep their source text instead of becoming `Double`: a request field such as `incarnation` is a
/// 64-bit integer, and going through `Double` would silently round it above 2^53 and accept `1.5` or `1e3`
/// where only an integer makes sense. Objects keep their members in order (duplicates are refused by the
/// parser), so error messages can name the first offending field the client wrote.
enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    /// A short name of the value's type for error messages ("a string", "an object").
    var typeDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number(let number): number.isIntegral ? "an integer" : "a fractional number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// One `"name": value` pair of an object.
struct JSONMember: Equatable, Sendable {
    var name: String
    var value: JSONValue
}

/// A JSON number as written: its text and whether it has neither a fraction nor an exponent.
struct JSONNumber: Equatable, Sendable {
    /// The number exactly as it appeared, for example `-12`, `1.5` or `3e2`.
    var text: String
    /// Whether the text is a plain integer (`-?digits`), the only form accepted where integers belong.
    var isIntegral: Bool
}
