// Goal: show the timer heap's ordering and its memory bound under the arm-then-cancel pattern a server uses
// for per-request timeouts. Method: drive `TimerQueue` directly with synthetic nanosecond clocks (no sleeping).
@testable import Posix
import Testing

@Suite("Timer queue")
struct TimerQueueTests {
    @Test("due timers pop in deadline order with ties in scheduling order")
    func ordering() {
        var queue = TimerQueue()
        var fired: [Int] = []
        for (label, deadline) in [(0, 30), (1, 10), (2, 20), (3, 10), (4, 5)] {
            _ = queue.schedule(deadline: UInt64(deadline), interval: nil) { fired.append(label) }
        }
        while let work = queue.popDue(now: 25) { work() }
        #expect(fired == [4, 1, 3, 2])
        #expect(queue.nextDeadline() == 30)
    }

    @Test("a repeating timer that fell behind skips missed ticks instead of bursting")
    func repeatingSkipsMissedTicks() {
        var queue = TimerQueue()
        var count = 0
        _ = queue.schedule(deadline: 10, interval: 10) { count += 1 }
        while let work = queue.popDue(now: 1_000) { work() }
        #expect(count == 1)
        #expect(queue.nextDeadline() == 1_010)
    }

    @Test("arming and cancelling many timers keeps the heap within twice the live count")
    func cancelledNodesArePurged() {
        var queue = TimerQueue()
        var live: [TimerID] = []
        for index in 0..<100_000 {
            let timer = queue.schedule(deadline: 10_000_000_000 + UInt64(index), interval: nil) {}
            if index % 1_000 == 0 { live.append(timer) } else { queue.cancel(timer) }
        }
        #expect(queue.count == live.count)
        #expect(queue.heapCount <= 2 * live.count + 65)
        for timer in live { queue.cancel(timer) }
        #expect(queue.nextDeadline() == nil)
        #expect(queue.count == 0)
    }
}
