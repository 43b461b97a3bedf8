/// A command line split into words, options and flags, with no knowledge of what the commands mean.
///
/// Pure so it is unit-tested without a process: `--name value`, `--name=value`, `-o value` and repeated options
/// (`--meta a=1 --meta b=2`) are options; names in `booleanFlags` take no value; `--` ends option parsing.
struct Arguments: Equatable {
    /// Positional words in order: the command path, then its operands.
    var words: [String] = []
    /// Option values by long name, in the order given.
    var options: [String: [String]] = [:]
    /// Boolean flags given.
    var flags: Set<String> = []

    /// Options that take no value.
    static let booleanFlags: Set<String> = [
        "help", "prefix", "keys", "once", "prev", "serializable", "no-password", "from-key",
    ]
    /// Short names.
    static let aliases = ["o": "output", "h": "help", "e": "endpoints"]

    /// Parses `arguments` (without the program name).
    /// - Throws: `UsageError` for an option missing its value.
    static func parse(_ arguments: [String]) throws(UsageError) -> Arguments {
        var result = Arguments()
        var position = 0
        var optionsEnded = false
        while position < arguments.count {
            let argument = arguments[position]
            position += 1
            if optionsEnded || !argument.hasPrefix("-") || argument == "-" || Int(argument) != nil {
                result.words.append(argument)
                continue
            }
            if argument == "--" {
                optionsEnded = true
                continue
            }
            var name = String(argument.drop { $0 == "-" })
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            name = aliases[name] ?? name
            if booleanFlags.contains(name) {
                if value != nil { throw UsageError("--\(name) takes no value") }
                result.flags.insert(name)
                continue
            }
            if value == nil {
                guard position < arguments.count else { throw UsageError("--\(name) needs a value") }
                value = arguments[position]
                position += 1
            }
            result.options[name, default: []].append(value ?? "")
        }
        return result
    }

    /// The last value of an option.
    func option(_ name: String) -> String? { options[name]?.last }

    /// Every option and flag name given.
    var givenNames: Set<String> { Set(options.keys).union(flags) }
}

/// A mistake in the command line; exit code 2.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Parses durations the way the server does: `500ms`, `15s`, `2m`, `1h`, or whole seconds.
enum DurationText {
    static func parse(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            // "ms" also ends in "s"; only accept a number before the unit.
            guard let value = Int64(number), value >= 0 else { continue }
            return .milliseconds(value * factor)
        }
        if let seconds = Int64(text), seconds >= 0 { return .seconds(seconds) }
        return nil
    }
}
