import CLinuxShim
import Glibc
import Synchronization

/// The thread-safe face of an `EventLoop`: other threads hand work in through it.
///
/// Work goes into a `Mutex`-protected inbox and the loop is woken through an `eventfd`. The eventfd is written
/// only when the inbox goes from empty to non-empty, so a burst of `execute` calls costs one wake-up; the loop
/// reads the eventfd *before* taking the inbox, so a job added after the take always finds an empty inbox and
/// writes again (no lost wake-up). Jobs run in the order `execute` calls acquired the lock.
public final class EventLoopHandle: Sendable {
    let epollDescriptor: Int32
    let wakeDescriptor: Int32
    private let inbox = Mutex(Inbox())

    private struct Inbox: ~Copyable {
        var jobs: [@Sendable (EventLoop) -> Void] = []
        /// False once the loop has finished; later jobs are refused and the descriptors are closed.
        var isOpen = true
    }

    /// Creates the epoll instance and the wake-up eventfd, registered for reading.
    init() throws(SystemError) {
        let epoll = try syscallCompleted("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        let wake: Int32
        do {
            wake = try syscallCompleted("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
        } catch {
            closeDescriptor(epoll)
            throw error
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = EventLoop.wakeToken
        do {
            _ = try syscallCompleted("epoll_ctl(ADD eventfd)") { epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &event) }
        } catch {
            closeDescriptor(wake)
            closeDescriptor(epoll)
            throw error
        }
        epollDescriptor = epoll
        wakeDescriptor = wake
    }

    deinit {
        // Only reached if the loop never ran to completion (run() closes the descriptors itself).
        inbox.withLock { inbox in
            if inbox.isOpen {
                inbox.isOpen = false
                closeDescriptor(wakeDescriptor)
                closeDescriptor(epollDescriptor)
            }
        }
    }

    /// Runs `work` on the loop thread, after work submitted earlier.
    /// - Returns: false if the loop has already finished, in which case `work` never runs.
    @discardableResult
    public func execute(_ work: @escaping @Sendable () -> Void) -> Bool {
        submit { _ in work() }
    }

    /// Runs `work` on the loop thread with the loop itself, for registering descriptors or timers from outside.
    /// - Returns: false if the loop has already finished, in which case `work` never runs.
    @discardableResult
    public func submit(_ work: @escaping @Sendable (EventLoop) -> Void) -> Bool {
        inbox.withLock { inbox in
            guard inbox.isOpen else { return false }
            inbox.jobs.append(work)
            if inbox.jobs.count == 1 { wake() }
            return true
        }
    }

    /// Asks the loop to stop after the work already submitted.
    /// - Returns: false if it had already finished.
    @discardableResult
    public func stop() -> Bool {
        submit { $0.stop() }
    }

    /// Whether the loop still accepts work.
    public var isOpen: Bool { inbox.withLock { $0.isOpen } }

    // MARK: - Loop side

    /// Called under the lock, so the descriptor cannot be closed concurrently.
    private func wake() {
        var one: UInt64 = 1
        do {
            // EAGAIN means the counter is saturated, which already guarantees a wake-up.
            _ = try syscall("write(eventfd)") { Glibc.write(wakeDescriptor, &one, 8) }
        } catch {
            preconditionFailure("eventfd write cannot fail except by a bug: \(error)")
        }
    }

    /// Resets the eventfd counter, then takes all queued jobs.
    func takeJobs() -> [@Sendable (EventLoop) -> Void] {
        var counter: UInt64 = 0
        do {
            _ = try syscall("read(eventfd)") { Glibc.read(wakeDescriptor, &counter, 8) }
        } catch {
            preconditionFailure("eventfd read cannot fail except by a bug: \(error)")
        }
        return inbox.withLock { inbox in
            let jobs = inbox.jobs
            inbox.jobs = []
            return jobs
        }
    }

    /// Refuses further work and returns what was queued; the loop runs it, then calls `closeDescriptors`.
    func close() -> [@Sendable (EventLoop) -> Void] {
        inbox.withLock { inbox in
            inbox.isOpen = false
            let jobs = inbox.jobs
            inbox.jobs = []
            return jobs
        }
    }

    /// Closes epoll and eventfd; only after `close()`, from the loop thread, once.
    func closeDescriptors() {
        inbox.withLock { _ in
            closeDescriptor(wakeDescriptor)
            closeDescriptor(epollDescriptor)
        }
    }
}
