import Posix
import RosterNode
import Synchronization

/// Writes one line per event: `2026-11-22T05:01:02.123Z INFO n1 message key=value …`.
///
/// One line per event, with the node's name on every line, so the logs of a local cluster can be merged with
/// `sort` and still be read. The level filter is checked before the message or its fields are built (both are
/// autoclosures), so a filtered `debug` call on a hot path costs a comparison. Lines are handed to the sink
/// under a `Mutex`, so lines from different threads never interleave mid-line.
public final class Logger: Sendable {
    /// The node name printed on every line.
    public let name: String
    /// The least severe level that is written.
    public let level: LogLevel
    private let sink: Mutex<@Sendable (String) -> Void>

    /// Creates a logger.
    /// - Parameters:
    ///   - name: The node name printed after the level.
    ///   - level: Events less severe than this are dropped.
    ///   - sink: Receives each finished line including its newline; defaults to standard error. Called under
    ///     the logger's lock, so it needs no locking of its own.
    public init(name: String, level: LogLevel, sink: @escaping @Sendable (String) -> Void = Logger.standardError) {
        self.name = name
        self.level = level
        self.sink = Mutex(sink)
    }

    /// Writes `line` to standard error (see `StandardError.write`).
    public static let standardError: @Sendable (String) -> Void = { line in StandardError.write(Array(line.utf8)) }

    /// Whether events at `level` are written; check before doing expensive work only a log line needs.
    public func isEnabled(_ level: LogLevel) -> Bool {
        level.severity >= self.level.severity
    }

    /// Writes one event if `level` passes the filter.
    /// - Parameters:
    ///   - message: A short, fixed description of the event (fields carry the variable parts).
    ///   - fields: `key=value` pairs; values containing spaces, quotes or `=` are quoted.
    public func log(_ level: LogLevel, _ message: @autoclosure () -> String,
                    _ fields: @autoclosure () -> KeyValuePairs<String, Any> = [:]) {
        guard isEnabled(level) else { return }
        let line = Self.format(timestamp: WallClock.timestamp(), level: level, name: name,
                               message: message(), fields: fields())
        sink.withLock { $0(line) }
    }

    /// Shorthand for `log(.debug, …)`.
    public func debug(_ message: @autoclosure () -> String, _ fields: @autoclosure () -> KeyValuePairs<String, Any> = [:]) {
        log(.debug, message(), fields())
    }

    /// Shorthand for `log(.info, …)`.
    public func info(_ message: @autoclosure () -> String, _ fields: @autoclosure () -> KeyValuePairs<String, Any> = [:]) {
        log(.info, message(), fields())
    }

    /// Shorthand for `log(.warning, …)`.
    public func warning(_ message: @autoclosure () -> String,
                        _ fields: @autoclosure () -> KeyValuePairs<String, Any> = [:]) {
        log(.warning, message(), fields())
    }

    /// Shorthand for `log(.error, …)`.
    public func error(_ message: @autoclosure () -> String, _ fields: @autoclosure () -> KeyValuePairs<String, Any> = [:]) {
        log(.error, message(), fields())
    }

    // MARK: - Formatting

    /// Builds one line; pure, so tests can check the format without a clock.
    public static func format(timestamp: String, level: LogLevel, name: String, message: String,
                              fields: KeyValuePairs<String, Any>) -> String {
        var line = timestamp + " " + level.label + " " + name + " " + message
        for (key, value) in fields {
            line += " " + key + "=" + quotedIfNeeded(String(describing: value))
        }
        return line + "\n"
    }

    /// Quotes values a reader would otherwise split wrongly, so `key=value` stays machine-parsable.
    static func quotedIfNeeded(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\n" })
        guard needsQuotes else { return value }
        let escaped = value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
        return "\"" + escaped + "\""
    }
}

extension LogLevel {
    /// Ordering for the filter: debug < info < warning < error.
    var severity: Int {
        switch self {
        case .debug: 0
        case .info: 1
        case .warning: 2
        case .error: 3
        }
    }

    /// The upper-case name printed in log lines.
    var label: String {
        switch self {
        case .debug: "DEBUG"
        case .info: "INFO"
        case .warning: "WARN"
        case .error: "ERROR"
        }
    }
}
