import Glibc

/// The UTC wall clock, for log lines (they are compared with other machines' logs) and for values that must
/// differ between runs. Timers and deadlines never use it (see `MonotonicClock`).
public enum WallClock {
    /// The current UTC time as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public static func timestamp() -> String {
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

    /// Nanoseconds since the Unix epoch: a value that differs from run to run (the simulator's fresh seeds).
    public static func nanosecondsSinceEpoch() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

extension WallClock {
    /// Seconds since the Unix epoch (UTC), for token expiry: tokens are checked on other machines, so they
    /// carry wall-clock time rather than this process's monotonic clock.
    public static func unixSeconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(max(0, now.tv_sec))
    }
}
