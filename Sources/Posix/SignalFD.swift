import CLinuxShim
import Glibc

/// Termination signals delivered as a readable descriptor (`signalfd(2)`), so a shell handles them on its
/// event loop thread like any other input instead of in an async signal handler.
public final class SignalFD {
    /// The descriptor to register with an `EventLoop` for readability.
    public let descriptor: Int32

    /// Blocks `signals` for the calling thread (threads started later inherit the mask) and opens a
    /// non-blocking descriptor that reports them. Call it on the thread that starts the others.
    /// - Throws: `SystemError` if the descriptor cannot be created.
    public init(signals: [Int32]) throws(SystemError) {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in signals { sigaddset(&mask, signal) }
        pthread_sigmask(SIG_BLOCK, &mask, nil)
        descriptor = try syscallCompleted("signalfd") { signalfd(-1, &mask, Int32(SFD_NONBLOCK | SFD_CLOEXEC)) }
    }

    /// The number of the next pending signal, or nil if none is pending.
    public func next() -> Int32? {
        var info = signalfd_siginfo()
        let count = withUnsafeMutableBytes(of: &info) { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        guard count == MemoryLayout<signalfd_siginfo>.size else { return nil }
        return Int32(info.ssi_signo)
    }

    deinit {
        Glibc.close(descriptor)
    }
}

/// Signal numbers, so callers need not import Glibc.
public enum SignalNumber {
    public static let terminate = SIGTERM
    public static let interrupt = SIGINT
}
