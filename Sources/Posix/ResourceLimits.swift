import Glibc

/// Process resource limits that matter for a server holding many connections.
public enum ResourceLimits {
    /// The soft and hard `RLIMIT_NOFILE` (open descriptors).
    public static func openFiles() throws(SystemError) -> (soft: UInt64, hard: UInt64) {
        var limit = rlimit()
        _ = try syscallCompleted("getrlimit(RLIMIT_NOFILE)") { getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }

    /// Raises the soft `RLIMIT_NOFILE` to the hard limit, so the server can hold 10,000+ connections under
    /// the default soft limit of 1024. An unlimited hard limit is capped at 1,048,576 (the kernel's default
    /// `fs.nr_open`, above which setrlimit fails).
    /// - Returns: The soft limit now in force.
    @discardableResult
    public static func raiseOpenFilesToHardLimit() throws(SystemError) -> UInt64 {
        let (soft, hard) = try openFiles()
        let target = min(hard, 1 << 20)
        guard soft < target else { return soft }
        var limit = rlimit(rlim_cur: rlim_t(target), rlim_max: rlim_t(hard))
        _ = try syscallCompleted("setrlimit(RLIMIT_NOFILE)") { setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) }
        return target
    }
}
