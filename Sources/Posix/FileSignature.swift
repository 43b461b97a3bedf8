import Glibc

/// What a file looks like from outside, without reading it: modification time, size and inode (`stat(2)`).
///
/// Two equal signatures mean "almost certainly unchanged" (a rewrite in place within the same nanosecond with the
/// same size would slip by), which is enough to decide when to re-read certificate files; an atomic replacement
/// (rename over) always changes the inode.
public struct FileSignature: Equatable, Sendable {
    public var modificationSeconds: Int
    public var modificationNanoseconds: Int
    public var size: Int
    public var inode: UInt
    /// The permission bits (`st_mode & 0o7777`).
    public var permissions: UInt32

    /// The signature of the file at `path`, or nil when it cannot be `stat`ed (missing, no permission).
    public init?(path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        modificationSeconds = status.st_mtim.tv_sec
        modificationNanoseconds = status.st_mtim.tv_nsec
        size = Int(status.st_size)
        inode = UInt(status.st_ino)
        permissions = UInt32(status.st_mode) & 0o7777
    }
}
