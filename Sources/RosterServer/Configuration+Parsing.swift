import Posix
import Registry
import RosterNode

/// One raw setting before conversion: which flag, its text, and where it came from (for error messages).
struct RawSetting: Sendable {
    var flag: ConfigurationFlag
    var value: String
    /// `--name` for the command line, `name (n1.conf:2)` for a file line.
    var origin: String
}

extension ServerConfiguration {
    /// Builds a configuration from command-line arguments and, with `--config FILE`, a config file.
    ///
    /// Precedence: built-in defaults, then the file, then flags on the command line. A setting given twice in
    /// the same source is an error rather than "last one wins", because that is almost always a copy-paste slip.
    /// - Parameters:
    ///   - arguments: The arguments after the program name.
    ///   - configFile: Returns the contents of the file at a path; injected so tests need no files.
    /// - Throws: `ConfigurationError.helpRequested` for `--help`/`-h`, otherwise the first problem found.
    public static func parse(arguments: [String],
                             configFile: (String) throws -> String) throws(ConfigurationError) -> ServerConfiguration {
        if arguments.contains(where: { $0 == "-h" || $0 == "--help" || $0.hasPrefix("--help=") }) {
            throw .helpRequested
        }
        let commandLine = try commandLineSettings(arguments)
        var fileSettings: [RawSetting] = []
        if let path = commandLine.first(where: { $0.flag == .config })?.value {
            let text: String
            do {
                text = try configFile(path)
            } catch {
                throw .configFileUnreadable(path: path, reason: "\(error)")
            }
            fileSettings = try settings(fromFile: text, path: path)
        }
        var configuration = ServerConfiguration()
        // Layouts given anywhere replace the standard ones rather than adding to them.
        if (fileSettings + commandLine).contains(where: { $0.flag == .etcdLayout }) { configuration.etcdLayouts = [] }
        for setting in fileSettings + commandLine where setting.flag != .config {
            try configuration.apply(setting)
        }
        try configuration.validate()
        return configuration
    }

    // MARK: - Sources

    /// Splits `--flag value`, `--flag=value` and bare switches; refuses unknown flags and repeats.
    static func commandLineSettings(_ arguments: [String]) throws(ConfigurationError) -> [RawSetting] {
        var settings: [RawSetting] = []
        var position = 0
        while position < arguments.count {
            let argument = arguments[position]
            position += 1
            guard argument.hasPrefix("--") else { throw .unexpectedArgument(argument) }
            let body = argument.dropFirst(2)
            let nameText = body.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
            guard let flag = ConfigurationFlag(rawValue: String(nameText)) else {
                throw .unknownFlag("--" + nameText, suggestion: ConfigurationFlag.suggestion(for: String(nameText)).map { "--" + $0 })
            }
            let value: String
            if let equals = body.firstIndex(of: "=") {
                value = String(body[body.index(after: equals)...])
            } else if flag == .join, position < arguments.count, !arguments[position].hasPrefix("--") {
                // `--join ADDR` (the address form of the switch).
                value = arguments[position]
                position += 1
            } else if flag.isSwitch {
                value = "true"
            } else {
                guard position < arguments.count, !arguments[position].hasPrefix("--") else {
                    throw .missingValue(setting: flag.flag)
                }
                value = arguments[position]
                position += 1
            }
            guard flag.isRepeatable || !settings.contains(where: { $0.flag == flag }) else {
                throw .duplicateSetting(setting: flag.flag)
            }
            settings.append(RawSetting(flag: flag, value: value, origin: flag.flag))
        }
        return settings
    }

    /// Reads `key = value` lines; `#` starts a comment (a whole line, or after whitespace at a line's end).
    static func settings(fromFile text: String, path: String) throws(ConfigurationError) -> [RawSetting] {
        var settings: [RawSetting] = []
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = offset + 1
            let line = stripComment(rawLine).trimmingSpaces
            if line.isEmpty { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw .configFileSyntax(path: path, line: lineNumber, text: String(line))
            }
            let key = line[..<equals].trimmingSpaces
            let value = line[line.index(after: equals)...].trimmingSpaces
            let origin = "\(key) (\(path):\(lineNumber))"
            guard !key.isEmpty else { throw .configFileSyntax(path: path, line: lineNumber, text: String(line)) }
            guard let flag = ConfigurationFlag(rawValue: String(key)), flag.isFileKey else {
                throw .unknownFlag(origin, suggestion: ConfigurationFlag.suggestion(for: String(key)))
            }
            guard flag.isRepeatable || !settings.contains(where: { $0.flag == flag }) else {
                throw .duplicateSetting(setting: origin)
            }
            settings.append(RawSetting(flag: flag, value: String(value), origin: origin))
        }
        return settings
    }

    private static func stripComment(_ line: Substring) -> Substring {
        if line.trimmingSpaces.hasPrefix("#") { return "" }
        var previous: Character = " "
        for index in line.indices {
            if line[index] == "#" && (previous == " " || previous == "\t") { return line[..<index] }
            previous = line[index]
        }
        return line
    }

    // MARK: - Conversion

    /// Converts one raw setting into its typed field, checking what can be checked in isolation.
    mutating func apply(_ setting: RawSetting) throws(ConfigurationError) {
        let value = setting.value
        if let range = setting.flag.numericRange {
            try applyNumber(Self.number(setting, in: range), to: setting.flag)
            return
        }
        switch setting.flag {
        case .name:
            try Self.checkName(value, setting: setting.origin)
            name = value
        case .dataDir:
            guard !value.isEmpty else { throw .emptyValue(setting: setting.origin) }
            dataDirectory = value
        case .authTokenKey:
            guard !value.isEmpty else { throw .emptyValue(setting: setting.origin) }
            authTokenKeyPath = value
        case .clientAddr:
            clientAddress = try Self.address(value, setting: setting.origin)
        case .peerAddr:
            peerAddress = try Self.address(value, setting: setting.origin)
        case .dnsAddr:
            dnsAddress = try Self.address(value, setting: setting.origin)
        case .initialCluster:
            initialCluster = try Self.clusterEntries(value, setting: setting.origin)
        case .join:
            switch value.lowercased() {
            case "true", "yes", "1": join = true
            case "false", "no", "0": join = false
            default:
                // `--join ADDR`: any member's client address, to learn the cluster ID and members from.
                guard SocketAddress(value) != nil else { throw .invalidBoolean(setting: setting.origin, value: value) }
                join = true
                joinAddress = value
            }
        case .forceNewCluster:
            switch value.lowercased() {
            case "true", "yes", "1": forceNewCluster = true
            case "false", "no", "0": forceNewCluster = false
            default: throw .invalidBoolean(setting: setting.origin, value: value)
            }
        case .unsafeAckBeforeCommit:
            switch value.lowercased() {
            case "true", "yes", "1": unsafeAcknowledgeBeforeCommit = true
            case "false", "no", "0": unsafeAcknowledgeBeforeCommit = false
            default: throw .invalidBoolean(setting: setting.origin, value: value)
            }
        case .logLevel:
            switch value.lowercased() {
            case "warn": logLevel = .warning
            default:
                guard let level = LogLevel(rawValue: value.lowercased()) else {
                    throw .invalidLogLevel(setting: setting.origin, value: value)
                }
                logLevel = level
            }
        case .etcdLayout:
            etcdLayouts += try Self.layouts(value, setting: setting.origin)
        default:
            try applyTLS(setting)
        }
    }

    private mutating func applyNumber(_ number: Int, to flag: ConfigurationFlag) {
        switch flag {
        case .heartbeatMilliseconds: heartbeatMilliseconds = number
        case .electionMilliseconds: electionMilliseconds = number
        case .snapshotEntries: snapshotEntries = number
        case .historyRevisions: historyRevisions = number
        case .historyEvents: historyEvents = number
        case .historyBytes: historyBytes = number
        case .maxRequestBytes: maxRequestBytes = number
        case .maxConnections: maxConnections = number
        case .quotaBytes: quotaBytes = number
        case .minFreeBytes: minFreeBytes = number
        case .requestTimeoutMilliseconds: requestTimeoutMilliseconds = number
        case .clientStallMilliseconds: clientStallMilliseconds = number
        case .ioThreads: explicitIOThreads = number
        case .dnsTTLSeconds: dnsTTLSeconds = number
        case .dnsMaxStalenessMilliseconds: dnsMaxStalenessMilliseconds = number
        case .authTokenTTLSeconds: authTokenTTLSeconds = number
        case .authPasswordIterations: authPasswordIterations = number
        default: preconditionFailure("\(flag) is not numeric")
        }
    }

    private static func number(_ setting: RawSetting, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        let text = setting.value
        let digits = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) else {
            throw .notANumber(setting: setting.origin, value: text)
        }
        guard let value = Int(text) else {
            // All digits but too long for Int: report it as out of range, clamped for printing.
            throw .outOfRange(setting: setting.origin, value: text.hasPrefix("-") ? Int.min : Int.max, range: range)
        }
        guard range.contains(value) else { throw .outOfRange(setting: setting.origin, value: value, range: range) }
        return value
    }

    /// Parses `kratos=/microservices,kitex@prod=kitex/registry-etcd`, or `none`.
    static func layouts(_ value: String, setting: String) throws(ConfigurationError) -> [FrameworkLayout] {
        if Substring(value).trimmingSpaces == "none" { return [] }
        var layouts: [FrameworkLayout] = []
        for item in value.split(separator: ",", omittingEmptySubsequences: false) {
            do {
                layouts.append(try FrameworkLayout.parse(String(item.trimmingSpaces)))
            } catch {
                throw .invalidLayout(setting: setting, reason: error.description)
            }
        }
        return layouts
    }

    static func checkName(_ value: String, setting: String) throws(ConfigurationError) {
        let allowed = value.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                || scalar == "." || scalar == "_" || scalar == "-")
        }
        guard (1...64).contains(value.count), allowed else { throw .invalidName(setting: setting, value: value) }
    }

    static func address(_ value: String, setting: String) throws(ConfigurationError) -> SocketAddress {
        guard let address = SocketAddress(value) else { throw .invalidAddress(setting: setting, value: value) }
        return address
    }

    /// Parses `n1=127.0.0.1:2380,n2=…`; names and addresses are checked one by one here, duplicates in
    /// `validate()`.
    static func clusterEntries(_ value: String, setting: String) throws(ConfigurationError) -> [ClusterEntry] {
        guard !value.isEmpty else { throw .emptyValue(setting: setting) }
        var entries: [ClusterEntry] = []
        for item in value.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = item.trimmingSpaces.split(separator: "=", omittingEmptySubsequences: false)
            guard pair.count == 2 else { throw .malformedClusterEntry(String(item)) }
            let name = String(pair[0])
            try checkName(name, setting: "\(setting) member")
            let address = try address(String(pair[1]), setting: "\(setting) member \(name)")
            entries.append(ClusterEntry(name: name, peerAddress: address))
        }
        return entries
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmingSpaces: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return self[endIndex...]
        }
        return self[start...last]
    }
}
