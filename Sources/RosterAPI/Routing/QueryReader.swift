import HTTP
import Registry
import RosterNode

/// Reads query parameters by name, then refuses whatever was not read, like `JSONFields` for bodies.
///
/// A parameter given twice is refused up front: first-match and last-match readers disagree about
/// `?limit=1&limit=1000`, and a request should mean one thing.
struct QueryReader {
    private let pairs: [(name: String, value: String)]
    private var taken: [String] = []

    init(_ query: QueryParameters) throws(APIError) {
        var seen: Set<String> = []
        for pair in query.pairs where !seen.insert(pair.name).inserted {
            throw .invalidParameter(pair.name, "is given more than once; give it once")
        }
        self.pairs = query.pairs
    }

    /// The raw value of `name`, or nil if absent.
    mutating func string(_ name: String) -> String? {
        taken.append(name)
        return pairs.first { $0.name == name }?.value
    }

    /// A flag: `true`, `1` or a bare `?name` are true; `false` and `0` are false; absent is `defaultValue`.
    mutating func bool(_ name: String, default defaultValue: Bool = false) throws(APIError) -> Bool {
        guard let text = string(name) else { return defaultValue }
        switch text {
        case "true", "1", "": return true
        case "false", "0": return false
        default: throw .invalidParameter(name, "must be true or false, got \"\(text)\"")
        }
    }

    /// A decimal integer within `range`, or nil if absent.
    mutating func int64(_ name: String, in range: ClosedRange<Int64>) throws(APIError) -> Int64? {
        guard let text = string(name) else { return nil }
        guard let value = DecimalText.int64(text), range.contains(value) else {
            throw .invalidParameter(
                name, "must be an integer in \(range.lowerBound)...\(range.upperBound), got \"\(text)\"")
        }
        return value
    }

    /// An unsigned decimal integer, or nil if absent.
    mutating func uint64(_ name: String) throws(APIError) -> UInt64? {
        guard let text = string(name) else { return nil }
        guard let value = DecimalText.uint64(text) else {
            throw .invalidParameter(name, "must be a non-negative integer, got \"\(text)\"")
        }
        return value
    }

    /// A revision (a non-negative integer), or nil if absent. Negative revisions get the registry's
    /// `negative_revision` code, as they would if the node saw them.
    mutating func revision(_ name: String) throws(APIError) -> Revision? {
        guard let text = string(name) else { return nil }
        guard let value = DecimalText.int64(text) else {
            throw .invalidParameter(name, "must be a revision (an integer in 0...\(Int64.max)), got \"\(text)\"")
        }
        if value < 0 { throw APIError(rejection: .negativeRevision(Revision(value)), field: name) }
        return Revision(value)
    }

    /// A duration (see `DurationText`) within `range` milliseconds, or nil if absent.
    mutating func duration(_ name: String, in range: ClosedRange<Int64>) throws(APIError) -> Int64? {
        guard let text = string(name) else { return nil }
        guard let milliseconds = DurationText.milliseconds(text) else {
            throw .invalidParameter(name, "must be a duration such as \"30s\" or \"500ms\", got \"\(text)\"")
        }
        guard range.contains(milliseconds) else {
            throw .invalidParameter(
                name, "must be between \(range.lowerBound) ms and \(range.upperBound) ms, got \(milliseconds) ms")
        }
        return milliseconds
    }

    /// `consistency` and `min_revision`, the options every read takes.
    mutating func readOptions() throws(APIError) -> ReadOptions {
        var options = ReadOptions()
        if let text = string("consistency") {
            guard let consistency = Consistency(rawValue: text) else {
                throw .invalidParameter("consistency", "must be linearizable or serializable, got \"\(text)\"")
            }
            options.consistency = consistency
        }
        options.minRevision = try revision("min_revision")
        return options
    }

    /// Refuses the first parameter that was never read.
    func finish() throws(APIError) {
        if let unknown = pairs.first(where: { !taken.contains($0.name) }) {
            throw .unknownParameter(unknown.name, allowed: taken)
        }
    }
}

/// Decimal integers in paths and queries: ASCII digits with an optional leading `-` (signed only), nothing
/// else. Stricter than `Int64.init(_:)`, which also accepts a leading `+`, so each number has one spelling.
enum DecimalText {
    static func int64(_ text: String) -> Int64? {
        let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        guard isDigits(digits) else { return nil }
        return Int64(text)
    }

    static func uint64(_ text: String) -> UInt64? {
        guard isDigits(Substring(text)) else { return nil }
        return UInt64(text)
    }

    private static func isDigits(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}
