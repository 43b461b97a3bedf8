import Glibc

/// The outcome of a system call that did not fail: it completed, or it would have blocked.
public enum SyscallResult<Value> {
    /// The call returned `value` (never -1).
    case completed(Value)
    /// The call returned EAGAIN/EWOULDBLOCK on a non-blocking descriptor; wait for readiness and retry.
    case wouldBlock
}

extension SyscallResult: Sendable where Value: Sendable {}
extension SyscallResult: Equatable where Value: Equatable {}

/// Runs a system call with one uniform errno discipline, so call sites never inspect `errno` themselves.
///
/// - EINTR: a signal interrupted the call before it did anything; retry it.
/// - EAGAIN/EWOULDBLOCK: a normal outcome of non-blocking I/O, returned as `.wouldBlock`, not an error.
/// - EBADF/EFAULT: we passed a closed descriptor or a bad pointer. That is a bug in this process (continuing
///   could read or write someone else's descriptor), so it traps.
/// - Anything else throws `SystemError`, an operating condition the caller must handle.
///
/// - Parameters:
///   - operation: The call's name, used in error messages.
///   - body: The call; it must return -1 and set `errno` on failure.
/// - Throws: `SystemError` for every errno not listed above.
@inline(__always)
public func syscall<Value: FixedWidthInteger>(
    _ operation: StaticString, _ body: () -> Value
) throws(SystemError) -> SyscallResult<Value> {
    while true {
        let result = body()
        if result != -1 { return .completed(result) }
        let code = errno
        switch code {
        case EINTR:
            continue
        case EAGAIN, EWOULDBLOCK:
            return .wouldBlock
        case EBADF, EFAULT:
            let error = SystemError(errno: code, operation: "\(operation)")
            preconditionFailure("\(operation) hit a programmer error: \(error)")
        default:
            throw SystemError(errno: code, operation: "\(operation)")
        }
    }
}

/// Like `syscall`, for calls on blocking-irrelevant descriptors where EAGAIN cannot happen; treats it as an error.
@inline(__always)
func syscallCompleted<Value: FixedWidthInteger>(
    _ operation: StaticString, _ body: () -> Value
) throws(SystemError) -> Value {
    switch try syscall(operation, body) {
    case .completed(let value): return value
    case .wouldBlock: throw SystemError(errno: EAGAIN, operation: "\(operation)")
    }
}

/// Closes a descriptor. Not retried on EINTR: on Linux the descriptor is released even then, and a retry could
/// close a descriptor another thread just received. EBADF (double close) traps, as in `syscall`.
func closeDescriptor(_ descriptor: Int32) {
    if Glibc.close(descriptor) == -1 {
        let code = errno
        precondition(code != EBADF, "close(\(descriptor)): descriptor was not open (double close?)")
    }
}
