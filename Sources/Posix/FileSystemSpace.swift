import Glibc

/// Free space on the file system holding a path, for the NOSPACE alarm's free-space floor.
public enum FileSystemSpace {
    /// Bytes an unprivileged process can still write on the file system of `path` (`statvfs`'s f_bavail).
    public static func availableBytes(at path: String) throws(SystemError) -> UInt64 {
        var status = statvfs()
        _ = try syscallCompleted("statvfs") { statvfs(path, &status) }
        return UInt64(status.f_bavail) * UInt64(status.f_frsize)
    }
}
