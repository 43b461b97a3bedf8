import CLinuxShim
import Glibc
import Synchronization

/// A child process started with `posix_spawn` and reaped with `waitpid(WNOHANG)`, so every wait is a bounded poll.
///
/// Why not Foundation's `Process`: its `waitUntilExit` blocks the calling thread without a bound (on Linux it
/// spins that thread's run loop until the exit is noticed), and it was seen to hang inside an async test. Here the caller asks "has it exited?" whenever it likes
/// and decides how long to keep asking; `waitForExit(timeout:)` is the async form that suspends between polls
/// instead of blocking a cooperative thread.
///
/// Every descriptor above 2 is closed in the child, so a test's sockets never stay open in a server it spawned.
public final class ChildProcess: Sendable {
    /// How a child ended.
    public enum Termination: Equatable, Sendable, CustomStringConvertible {
        /// It called `exit(status)`.
        case exited(Int32)
        /// A signal ended it.
        case signalled(Int32)

        /// True for `exit(0)`.
        public var isCleanExit: Bool { self == .exited(0) }

        public var description: String {
            switch self {
            case .exited(let status): "exited with status \(status)"
            case .signalled(let signal): "killed by signal \(signal)"
            }
        }
    }

    /// The child's process ID.
    public let processIdentifier: Int32
    /// Filled in once by whichever caller reaps the child; the PID is never waited for twice.
    private let termination = Mutex<Termination?>(nil)

    private init(processIdentifier: Int32) {
        self.processIdentifier = processIdentifier
    }

    /// Starts `executable` with `arguments`.
    /// - Parameters:
    ///   - environment: `NAME=value` entries; nil passes this process's environment on.
    ///   - inputPath: The file the child reads as standard input; nil gives it `/dev/null`.
    ///   - outputPath: The file standard output goes to (created, appended to); nil inherits this process's.
    ///   - errorPath: The file standard error goes to; nil sends it where standard output goes.
    /// - Throws: `SystemError` when the spawn fails (no such executable, no permission).
    public static func spawn(
        _ executable: String, arguments: [String], environment: [String]? = nil, inputPath: String? = nil,
        outputPath: String? = nil, errorPath: String? = nil
    ) throws(SystemError) -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inputPath ?? "/dev/null", O_RDONLY, 0)
        if let outputPath {
            posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        }
        if let errorPath {
            posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        } else if outputPath != nil {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        let envp = environment.map { $0.map { strdup($0) } + [nil] }
        defer { for entry in envp ?? [] { free(entry) } }
        var pid: pid_t = 0
        let result = envp.map { posix_spawn(&pid, executable, &actions, nil, argv, $0) }
            ?? posix_spawn(&pid, executable, &actions, nil, argv, environ)
        // posix_spawn returns the error number instead of setting errno.
        guard result == 0 else { throw SystemError(errno: result, operation: "posix_spawn \(executable)") }
        return ChildProcess(processIdentifier: pid)
    }

    /// Sends `signal` to the child; a child already reaped is left alone (its PID may belong to another process).
    public func send(signal: Int32) {
        termination.withLock { ended in
            guard ended == nil else { return }
            _ = Glibc.kill(processIdentifier, signal)
        }
    }

    /// How the child ended, reaping it if it just did; nil while it runs. Never blocks.
    public func exitStatus() -> Termination? {
        termination.withLock { ended in
            if let ended { return ended }
            var status: Int32 = 0
            let reaped = waitpid(processIdentifier, &status, WNOHANG)
            guard reaped == processIdentifier else { return nil }
            let low = status & 0x7f
            ended = low == 0 ? .exited((status >> 8) & 0xff) : .signalled(low)
            return ended
        }
    }

    /// Whether the child still runs.
    public var isRunning: Bool { exitStatus() == nil }

    /// Waits, suspending between polls (the cooperative pool stays free), until the child exits or `timeout`
    /// passes. Returns how it ended, or nil when it still runs at the deadline.
    public func waitForExit(timeout: Duration) async -> Termination? {
        let deadline = MonotonicClock.nanoseconds() &+ timeout.clampedNanoseconds
        while MonotonicClock.nanoseconds() < deadline {
            if let ended = exitStatus() { return ended }
            do {
                try await Task.sleep(for: .milliseconds(5))
            } catch {
                break  // Cancelled: answer with what is known now.
            }
        }
        return exitStatus()
    }

    /// As `waitForExit(timeout:)`, for a thread that may block (not a cooperative one): polls every millisecond.
    public func waitForExitBlocking(timeout: Duration) -> Termination? {
        let deadline = MonotonicClock.nanoseconds() &+ timeout.clampedNanoseconds
        while MonotonicClock.nanoseconds() < deadline {
            if let ended = exitStatus() { return ended }
            usleep(1_000)
        }
        return exitStatus()
    }
}
