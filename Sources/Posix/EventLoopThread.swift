import CLinuxShim
import Glibc
import Synchronization

/// A dedicated thread running one `EventLoop`.
///
/// The loop is created *on* the new thread, from `Sendable` setup, so its non-`Sendable` state never crosses
/// threads; the creating thread keeps only the `Sendable` handle.
public final class EventLoopThread: Sendable {
    /// Hands work to the loop from any thread.
    public let handle: EventLoopHandle
    private let thread: pthread_t
    private let joined = Mutex(false)

    private final class Start: Sendable {
        let handle: EventLoopHandle
        let name: String?
        let setup: @Sendable (EventLoop) -> Void

        init(handle: EventLoopHandle, name: String?, setup: @escaping @Sendable (EventLoop) -> Void) {
            self.handle = handle
            self.name = name
            self.setup = setup
        }
    }

    /// Starts a thread that creates a loop, runs `setup` on it first, then runs the loop until stopped.
    /// - Parameter name: The thread's name as `/proc/<pid>/task/<tid>/comm` shows it (at most 15 bytes are
    ///   kept), so per-thread CPU can be told apart; nil keeps the process's name.
    /// - Throws: `SystemError` if epoll, the eventfd or the thread cannot be created.
    public init(name: String? = nil, setup: @escaping @Sendable (EventLoop) -> Void = { _ in }) throws(SystemError) {
        let handle = try EventLoopHandle()
        let start = Unmanaged.passRetained(Start(handle: handle, name: name, setup: setup))
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            guard let raw else { preconditionFailure("pthread_create passed no argument") }
            let start = Unmanaged<Start>.fromOpaque(raw).takeRetainedValue()
            if let name = start.name {
                // Best effort: a name only labels the thread, so a failure (never expected) changes nothing.
                _ = pthread_setname_np(pthread_self(), String(name.utf8.prefix(15)) ?? "")
            }
            let loop = EventLoop(handle: start.handle)
            start.setup(loop)
            loop.run()
            return nil
        }, start.toOpaque())
        guard result == 0 else {
            start.release()
            throw SystemError(errno: result, operation: "pthread_create")
        }
        self.handle = handle
        self.thread = thread
    }

    /// Runs `work` on the loop thread; false if the loop already finished.
    @discardableResult
    public func execute(_ work: @escaping @Sendable () -> Void) -> Bool {
        handle.execute(work)
    }

    /// Runs `work` on the loop thread with the loop; false if the loop already finished.
    @discardableResult
    public func submit(_ work: @escaping @Sendable (EventLoop) -> Void) -> Bool {
        handle.submit(work)
    }

    /// Stops the loop (after already-submitted work) and waits for the thread to exit. Idempotent; must not be
    /// called from the loop thread itself, which would wait for itself forever.
    public func shutdown() {
        precondition(pthread_equal(thread, pthread_self()) == 0, "shutdown called on the loop thread")
        handle.stop()
        joined.withLock { joined in
            guard !joined else { return }
            let result = pthread_join(thread, nil)
            precondition(result == 0, "pthread_join failed: \(result)")
            joined = true
        }
    }
}
