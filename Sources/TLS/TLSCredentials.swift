import COpenSSL
import Posix

/// The current `TLSContext` of one listener or dialer, rebuilt when its certificate, key or CA files change
/// on disk, so certificates rotate without a restart.
///
/// `current()` is called once per new connection. At most once per `checkInterval` it compares each file's
/// modification time, size and inode with those the context was built from (a `Posix.FileSignature` per file;
/// the files are only read when one changed). A rebuild that fails (a half-written pair, a key that does not match yet)
/// keeps serving the previous context and is retried at the next check, so replacing the two files one after
/// the other is safe; `onReload` hears each outcome once. Connections already open keep the context they
/// started with.
///
/// Reading the files (OpenSSL's) is the only I/O of the TLS module: a few small local files, at most once per
/// interval; the look at them goes through Posix, the one module that makes system calls.
/// Not thread-safe: owned by one loop thread.
public final class TLSCredentials {
    /// The outcome of a rebuild after a file changed.
    public enum ReloadOutcome: Sendable {
        case reloaded
        case failed(TLSError)
    }

    public let configuration: TLSConfiguration
    /// Least time between two looks at the files.
    public let checkInterval: Duration
    /// Told after each rebuild attempt caused by a change (not at start-up).
    public var onReload: (ReloadOutcome) -> Void = { _ in }

    private var context: TLSContext
    private var stamps: [FileSignature?]
    private var lastCheck: ContinuousClock.Instant
    private var lastFailure: TLSError?

    /// Builds the first context; its errors are start-up errors.
    public init(_ configuration: TLSConfiguration, checkInterval: Duration = .seconds(1)) throws(TLSError) {
        self.configuration = configuration
        self.checkInterval = checkInterval
        let stamps = configuration.files.map { FileSignature(path: $0) }
        self.context = try TLSContext(configuration)
        self.stamps = stamps
        self.lastCheck = .now
    }

    /// The context for a new connection, rebuilt first if a file changed since the last successful build.
    public func current(now: ContinuousClock.Instant = .now) -> TLSContext {
        guard now - lastCheck >= checkInterval else { return context }
        lastCheck = now
        let fresh = configuration.files.map { FileSignature(path: $0) }
        guard fresh != stamps else { return context }
        do {
            context = try TLSContext(configuration)
            stamps = fresh
            lastFailure = nil
            onReload(.reloaded)
        } catch {
            if lastFailure != error { onReload(.failed(error)) }
            lastFailure = error
        }
        return context
    }
}
