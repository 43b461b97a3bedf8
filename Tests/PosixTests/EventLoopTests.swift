// Goal: show the loop's scheduling guarantees: cross-thread work runs in submission order, timers fire in
// deadline order (ties in scheduling order), repeating timers repeat, cancelled timers never fire, and
// ownership is enforced. Method: record what runs on the loop thread into a Recorder, then poll for the
// expected final state against a deadline.
import Glibc
import Posix
import Testing

@Suite("Event loop scheduling")
struct EventLoopTests {
    @Test("work from one thread runs in submission order on the loop thread")
    func executeOrderingSingleProducer() throws {
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let seen = Recorder<[Int]>([])
        let onLoopThread = Recorder<Bool>(true)
        for index in 0..<10_000 {
            thread.submit { loop in
                if !loop.isOnLoopThread { onLoopThread.update { $0 = false } }
                seen.append(index)
            }
        }
        #expect(waitUntil { seen.value.count == 10_000 })
        #expect(seen.value == Array(0..<10_000))
        #expect(onLoopThread.value)
    }

    @Test("work from several threads keeps each thread's order and loses nothing")
    func executeOrderingManyProducers() throws {
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let seen = Recorder<[(producer: Int, index: Int)]>([])
        let producers = 4
        let perProducer = 2_000
        let done = Recorder<Int>(0)
        for producer in 0..<producers {
            try spawn {
                for index in 0..<perProducer {
                    thread.execute { seen.append((producer, index)) }
                }
                done.update { $0 += 1 }
            }
        }
        #expect(waitUntil { done.value == producers && seen.value.count == producers * perProducer })
        for producer in 0..<producers {
            #expect(seen.value.filter { $0.producer == producer }.map(\.index) == Array(0..<perProducer))
        }
    }

    @Test("one-shot timers fire in deadline order, ties in scheduling order, cancelled ones never")
    func timersFireInOrder() throws {
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let fired = Recorder<[String]>([])
        try onLoop(thread) { loop in
            loop.schedule(after: .milliseconds(30)) { fired.append("30ms") }
            loop.schedule(after: .milliseconds(10)) { fired.append("10ms-a") }
            let cancelled = loop.schedule(after: .milliseconds(15)) { fired.append("cancelled") }
            loop.schedule(after: .milliseconds(20)) { fired.append("20ms") }
            loop.schedule(after: .milliseconds(10)) { fired.append("10ms-b") }
            loop.schedule(after: .zero) { fired.append("now") }
            loop.cancel(cancelled)
        }
        #expect(waitUntil { fired.value.count == 5 })
        #expect(fired.value == ["now", "10ms-a", "10ms-b", "20ms", "30ms"])
    }

    @Test("timers do not fire before their deadline")
    func timersRespectDeadline() throws {
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let delays = Recorder<[UInt64]>([])
        try onLoop(thread) { loop in
            let start = loop.now
            for milliseconds in [5, 25, 50] {
                loop.schedule(after: .milliseconds(milliseconds)) {
                    delays.append((loop.now - start) / 1_000_000 >= UInt64(milliseconds) ? 1 : 0)
                }
            }
        }
        #expect(waitUntil { delays.value.count == 3 })
        #expect(delays.value == [1, 1, 1])
    }

    @Test("a repeating timer repeats until cancelled from its own callback")
    func repeatingTimer() throws {
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let ticks = Recorder<Int>(0)
        try onLoop(thread) { loop in
            let box = TimerBox()
            box.id = loop.schedule(after: .milliseconds(1), repeating: .milliseconds(2)) {
                let count = ticks.update { $0 += 1; return $0 }
                if count == 5, let id = box.id { loop.cancel(id) }
            }
        }
        #expect(waitUntil { ticks.value == 5 })
        // The cancellation is observed on the loop: after a further timer round-trip no tick was added.
        let after = try onLoop(thread) { _ in ticks.value }
        #expect(after == 5)
    }

    @Test("a loop run on the current thread stops from a timer and then refuses work")
    func runOnCurrentThread() throws {
        let loop = try EventLoop()
        var order: [String] = []
        loop.schedule(after: .milliseconds(1)) { order.append("timer") }
        loop.schedule(after: .milliseconds(2)) {
            order.append("stop")
            loop.stop()
        }
        loop.handle.execute {}
        loop.run()
        #expect(order == ["timer", "stop"])
        #expect(!loop.handle.execute {})
    }

    @Test("dispatching ready events from a timer runs input that arrived meanwhile, no timers, and does not nest")
    func dispatchReadyEventsNowFromTimer() throws {
        let loop = try EventLoop()
        let order = Recorder<[String]>([])
        let nested = Recorder<Int>(-1)
        loop.schedule(after: .milliseconds(1)) {
            // Input that arrives while this iteration's work runs (here: queued work, as an I/O thread relays a
            // request), and a timer that is already due.
            loop.handle.submit { loop in
                order.append("job")
                nested.update { $0 = loop.dispatchReadyEventsNow() }
            }
            loop.schedule(after: .zero) { order.append("due timer") }
            let handled = loop.dispatchReadyEventsNow()
            order.append("dispatched \(handled)")
            loop.schedule(after: .milliseconds(1)) { loop.stop() }
        }
        loop.run()
        #expect(order.value == ["job", "dispatched 1", "due timer"])
        #expect(nested.value == 0)
    }
}

/// Lets a repeating timer's callback see its own ID (loop-thread only).
final class TimerBox {
    var id: TimerID?
}

/// Starts a detached pthread running `body` (test helper for multi-producer tests).
func spawn(_ body: @escaping @Sendable () -> Void) throws {
    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    var thread = pthread_t()
    let box = Unmanaged.passRetained(Box(body))
    let result = pthread_create(&thread, nil, { raw in
        Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
        return nil
    }, box.toOpaque())
    guard result == 0 else {
        box.release()
        throw SystemError(errno: result, operation: "pthread_create")
    }
    pthread_detach(thread)
}
