import Glibc

/// A failed system call: the `errno` it left and the operation that failed.
///
/// An open set of causes (any errno), so a struct rather than an enum; compare `errno` against Glibc's
/// constants (`ECONNREFUSED`, `EPIPE`, ...) to react to specific causes.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The `errno` value the call left.
    public let errno: Int32
    /// The call that failed, such as `"connect"`.
    public let operation: String

    /// Creates an error for `operation` with the given errno.
    public init(errno: Int32, operation: String) {
        self.errno = errno
        self.operation = operation
    }

    /// The C library's description of `errno`. glibc's `strerror` returns immutable static strings for known
    /// codes (thread-safe since glibc 2.32); the copy into a Swift `String` happens immediately.
    public var message: String {
        String(cString: strerror(errno))
    }

    public var description: String {
        "\(operation) failed: \(message) (errno \(errno))"
    }
}
