import CLinuxShim
import Glibc

/// A single-threaded epoll event loop: descriptors, timers and cross-thread work, all run on one thread.
///
/// Threading: everything mutable here (registrations, timers, every connection's buffers) belongs to the thread
/// that runs `run()`. The class is deliberately not `Sendable`; other threads reach it only through `handle`
/// (`EventLoopHandle.execute`/`submit`), which queues work for the loop thread. Methods other than those on
/// `handle` trap when called from another thread, so an ownership mistake fails loudly instead of racing.
///
/// Triggering: registrations are **level-triggered**. A handler that reads only part of what is available is
/// called again on the next iteration, so handlers may read one bounded chunk per wake-up, which keeps one busy
/// peer from starving the others, and no handler has to drain to EAGAIN to avoid losing an edge. Writability
/// is requested only while a handler has bytes queued, so idle sockets do not spin the loop.
///
/// Timers: a heap of deadlines on `CLOCK_MONOTONIC` (see `TimerQueue`); `epoll_wait`'s timeout is the time to
/// the earliest deadline, rounded up to whole milliseconds so the loop never wakes early and spins.
public final class EventLoop {
    /// The epoll data value of the wake-up eventfd; registrations never produce it (generation 0xFFFF_FFFF is
    /// never issued).
    static let wakeToken = UInt64.max

    /// The thread-safe handle for handing work to this loop.
    public let handle: EventLoopHandle

    private final class Registration {
        let generation: UInt32
        var interest: Interest
        let handler: (Readiness) -> Void

        init(generation: UInt32, interest: Interest, handler: @escaping (Readiness) -> Void) {
            self.generation = generation
            self.interest = interest
            self.handler = handler
        }
    }

    private enum State { case idle, running, finished }

    private var registrations: [Int32: Registration] = [:]
    /// Tags each registration so an event queued for a closed descriptor is not delivered to a new
    /// registration that reused the same descriptor number within one `epoll_wait` batch.
    private var nextGeneration: UInt32 = 0
    private var timers = TimerQueue()
    private var state = State.idle
    private var stopRequested = false
    private var isDispatchingNow = false
    private var owner: pthread_t
    private let eventCapacity = 256
    private let events: UnsafeMutablePointer<epoll_event>

    /// Scratch space for reads, shared by every connection on this loop: valid only during one handler call.
    /// One 64 KiB buffer per loop instead of per connection keeps 10,000 idle connections cheap.
    let readScratch: UnsafeMutableRawBufferPointer

    /// Creates a loop owned by the calling thread; call `run()` on this same thread.
    public convenience init() throws(SystemError) {
        self.init(handle: try EventLoopHandle())
    }

    init(handle: EventLoopHandle) {
        self.handle = handle
        self.owner = pthread_self()
        self.events = .allocate(capacity: eventCapacity)
        self.readScratch = .allocate(byteCount: 64 * 1024, alignment: 16)
    }

    deinit {
        events.deallocate()
        readScratch.deallocate()
    }

    /// True when called on the thread that owns this loop.
    public var isOnLoopThread: Bool { pthread_equal(owner, pthread_self()) != 0 }

    /// The number of registered descriptors.
    public var registrationCount: Int { registrations.count }

    /// Monotonic nanoseconds, the time base of timers.
    public var now: UInt64 { MonotonicClock.nanoseconds() }

    /// Told of every iteration whose work (events, jobs and timers, not the wait) took at least
    /// `slowIterationNanoseconds`, with its duration: a loop that must keep a deadline (Raft's heartbeats) reports
    /// the stalls that would make it miss one. Nil (the default) measures nothing.
    public var onSlowIteration: ((_ nanoseconds: UInt64) -> Void)?
    public var slowIterationNanoseconds: UInt64 = .max

    private func checkOwner(_ function: StaticString = #function) {
        precondition(isOnLoopThread, "EventLoop.\(function) called off the loop thread; use handle.submit")
        precondition(state != .finished, "EventLoop.\(function) called after the loop finished")
    }

    // MARK: - Registration

    /// Starts watching `descriptor`; `handler` runs on the loop thread with what happened.
    ///
    /// The loop does not own the descriptor: the handler's owner must `deregister` before closing it, and must
    /// close it when the handler receives `.loopClosing`.
    /// - Throws: `SystemError` from `epoll_ctl` (e.g. ENOMEM, or EPERM for regular files).
    public func register(_ descriptor: Int32, interest: Interest,
                         handler: @escaping (Readiness) -> Void) throws(SystemError) {
        checkOwner()
        precondition(registrations[descriptor] == nil, "descriptor \(descriptor) is already registered")
        nextGeneration = nextGeneration == UInt32.max - 1 ? 0 : nextGeneration + 1
        let registration = Registration(generation: nextGeneration, interest: interest, handler: handler)
        try control(EPOLL_CTL_ADD, descriptor, registration)
        registrations[descriptor] = registration
    }

    /// Changes what a registered descriptor is watched for; does nothing if the interest is unchanged.
    public func modify(_ descriptor: Int32, interest: Interest) throws(SystemError) {
        checkOwner()
        guard let registration = registrations[descriptor] else {
            preconditionFailure("modify of unregistered descriptor \(descriptor)")
        }
        guard registration.interest != interest else { return }
        registration.interest = interest
        try control(EPOLL_CTL_MOD, descriptor, registration)
    }

    /// Stops watching `descriptor`; call before closing it. Deregistering an unknown descriptor does nothing.
    public func deregister(_ descriptor: Int32) {
        checkOwner()
        guard registrations.removeValue(forKey: descriptor) != nil else { return }
        do {
            _ = try syscallCompleted("epoll_ctl(DEL)") {
                epoll_ctl(handle.epollDescriptor, EPOLL_CTL_DEL, descriptor, nil)
            }
        } catch {
            // ENOENT/EPERM here would mean our table and the kernel's disagree: a bug, not an operating error.
            preconditionFailure("deregister(\(descriptor)): \(error)")
        }
    }

    private func control(_ operation: Int32, _ descriptor: Int32, _ registration: Registration) throws(SystemError) {
        var event = epoll_event()
        event.events = registration.interest.epollEvents
        event.data.u64 = UInt64(registration.generation) << 32 | UInt64(UInt32(bitPattern: descriptor))
        _ = try syscallCompleted("epoll_ctl") { epoll_ctl(handle.epollDescriptor, operation, descriptor, &event) }
    }

    // MARK: - Timers

    /// Runs `work` on the loop thread after `delay`, and then every `interval` if given.
    /// Timers due at the same instant run in scheduling order.
    @discardableResult
    public func schedule(after delay: Duration, repeating interval: Duration? = nil,
                         _ work: @escaping () -> Void) -> TimerID {
        checkOwner()
        let intervalNanoseconds = interval.map(\.clampedNanoseconds)
        precondition(intervalNanoseconds.map { $0 > 0 } ?? true, "a repeating timer needs a positive interval")
        return timers.schedule(deadline: now &+ delay.clampedNanoseconds, interval: intervalNanoseconds, work: work)
    }

    /// Cancels a timer; a no-op if it already fired (one-shot) or was cancelled.
    public func cancel(_ timer: TimerID) {
        checkOwner()
        timers.cancel(timer)
    }

    // MARK: - Running

    /// Runs the loop on the calling thread until `stop()`; then runs work already queued on `handle`, tells
    /// every remaining registration `.loopClosing`, and closes the loop's own descriptors.
    public func run() {
        precondition(state == .idle, "EventLoop.run called twice")
        owner = pthread_self()
        state = .running
        while !stopRequested {
            runOnce()
        }
        finish()
    }

    /// Makes `run()` return after the current iteration. Call on the loop thread (from elsewhere use
    /// `handle.stop()`).
    public func stop() {
        checkOwner()
        stopRequested = true
    }

    private func runOnce() {
        let count = waitForEvents(timeoutMilliseconds: waitTimeoutMilliseconds())
        guard let onSlowIteration else {
            for index in 0..<count { dispatch(events[index]) }
            runDueTimers()
            return
        }
        let started = now
        for index in 0..<count { dispatch(events[index]) }
        runDueTimers()
        let elapsed = now &- started
        if elapsed >= slowIterationNanoseconds { onSlowIteration(elapsed) }
    }

    /// Dispatches what is ready now without waiting (`epoll_wait` with a zero timeout), and no timers; returns
    /// how many events it handled. For a timer's work that is about to act on everything that arrived so far (a
    /// Ready loop about to fsync): input that came in while this iteration's events were handled joins it
    /// instead of waiting a whole iteration. Not re-entrant: a call from inside another returns 0.
    @discardableResult
    public func dispatchReadyEventsNow() -> Int {
        checkOwner()
        guard !isDispatchingNow else { return 0 }
        isDispatchingNow = true
        defer { isDispatchingNow = false }
        let count = waitForEvents(timeoutMilliseconds: 0)
        for index in 0..<count { dispatch(events[index]) }
        return count
    }

    /// Fills `events` from `epoll_wait`; returns how many it holds.
    private func waitForEvents(timeoutMilliseconds timeout: Int32) -> Int {
        do {
            switch try syscall("epoll_wait", { epoll_wait(handle.epollDescriptor, events, Int32(eventCapacity), timeout) }) {
            case .completed(let ready): return Int(ready)
            case .wouldBlock: return 0
            }
        } catch {
            preconditionFailure("epoll_wait cannot fail on a valid epoll descriptor: \(error)")
        }
    }

    private func dispatch(_ event: epoll_event) {
        let data = event.data.u64
        if data == Self.wakeToken {
            for job in handle.takeJobs() { job(self) }
            return
        }
        let descriptor = Int32(bitPattern: UInt32(truncatingIfNeeded: data))
        guard let registration = registrations[descriptor],
              registration.generation == UInt32(truncatingIfNeeded: data >> 32)
        else { return }
        registration.handler(Readiness(epollEvents: event.events))
    }

    private func waitTimeoutMilliseconds() -> Int32 {
        if stopRequested { return 0 }
        guard let deadline = timers.nextDeadline() else { return -1 }
        let current = now
        guard deadline > current else { return 0 }
        let milliseconds = (deadline - current + 999_999) / 1_000_000
        return Int32(clamping: milliseconds)
    }

    private func runDueTimers() {
        let passStart = now
        while !stopRequested, let work = timers.popDue(now: passStart) {
            work()
        }
    }

    private func finish() {
        for job in handle.close() { job(self) }
        let remaining = registrations.sorted { $0.key < $1.key }
        for (_, registration) in remaining {
            registration.handler(.loopClosing)
        }
        registrations.removeAll()
        timers = TimerQueue()
        state = .finished
        handle.closeDescriptors()
    }
}
