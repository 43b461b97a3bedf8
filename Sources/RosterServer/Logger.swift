import Glibc
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

    /// Writes `line` to file descriptor 2 with `write(2)`, retrying short writes and EINTR. A failing stderr is
    /// ignored on purpose: there is nowhere left to report it, and logging must never stop the node.
    public static let standardError: @Sendable (String) -> Void = { line in
        let bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                Glibc.write(2, UnsafeRawBufferPointer(rebasing: buffer[offset...]).baseAddress, buffer.count - offset)
            }
            if written > 0 {
                offset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                return
            }
        }
    }

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
        let line = Self.format(timestamp: Self.wallClockTimestamp(), level: level, name: name,
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

    /// The current UTC wall-clock time as `YYYY-MM-DDTHH:MM:SS.mmmZ`. Wall time is right for log lines (they
    /// are compared with other machines' logs); timers never use it.
    static func wallClockTimestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let milliseconds = Int(now.tv_nsec) / 1_000_000
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))"
            + "T\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))"
            + ".\(pad(milliseconds, 3))Z"
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
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
