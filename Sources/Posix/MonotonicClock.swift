import Glibc

/// Nanoseconds from `CLOCK_MONOTONIC`: never jumps with wall-clock changes, so timers and deadlines stay right
/// when NTP or an operator sets the date.
public enum MonotonicClock {
    /// The current monotonic time in nanoseconds since an arbitrary start point.
    public static func nanoseconds() -> UInt64 {
        var now = timespec()
        let result = clock_gettime(CLOCK_MONOTONIC, &now)
        precondition(result == 0, "clock_gettime(CLOCK_MONOTONIC) failed: errno \(errno)")
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}

extension Duration {
    /// This duration in whole nanoseconds, negative values clamped to 0 (a timer cannot fire in the past).
    var clampedNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        let (wholeSeconds, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? UInt64.max / 2 : wholeSeconds + UInt64(attoseconds / 1_000_000_000)
    }
}

extension MonotonicClock {
    /// The current monotonic time in milliseconds since an arbitrary start point (the node's clock).
    public static func milliseconds() -> UInt64 {
        nanoseconds() / 1_000_000
    }

    /// The current monotonic time in seconds, for measuring durations (latencies, fsync times).
    public static func seconds() -> Double {
        Double(nanoseconds()) / 1e9
    }
}
