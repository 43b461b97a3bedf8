import Glibc

/// The calling thread.
public enum CurrentThread {
    /// Blocks the calling thread for `duration`. For a poll loop's pause between looks at a condition on a thread
    /// of its own, never for synchronisation and never on a cooperative thread (use `Task.sleep` there).
    public static func sleep(for duration: Duration) {
        let nanoseconds = duration.clampedNanoseconds
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR {
            request = remaining
        }
    }
}

extension CurrentProcess {
    /// This process's ID.
    public static var identifier: Int32 { getpid() }

    /// The value of environment variable `name`, or nil when it is not set.
    public static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}

extension SignalNumber {
    public static let kill = SIGKILL
}
