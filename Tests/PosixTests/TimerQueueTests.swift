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

    @Test("an ID kept after its timer fired or was cancelled never cancels the timer that reuses its slot")
    func staleIDsCancelNothing() {
        var queue = TimerQueue()
        var fired: [String] = []
        let first = queue.schedule(deadline: 10, interval: nil) { fired.append("first") }
        while let work = queue.popDue(now: 10) { work() }
        let second = queue.schedule(deadline: 20, interval: nil) { fired.append("second") }
        queue.cancel(first)  // Fired already; its slot now holds `second`.
        let third = queue.schedule(deadline: 30, interval: nil) { fired.append("third") }
        queue.cancel(third)
        let fourth = queue.schedule(deadline: 40, interval: nil) { fired.append("fourth") }
        queue.cancel(third)  // Cancelled already; its slot now holds `fourth`.
        #expect(queue.count == 2)
        while let work = queue.popDue(now: 100) { work() }
        #expect(fired == ["first", "second", "fourth"])
        #expect(second != fourth && queue.count == 0 && queue.nextDeadline() == nil)
    }

    @Test("a cancelled repeating timer stops, and its slot serves the next timer")
    func cancelledRepeatingTimerStops() {
        var queue = TimerQueue()
        var ticks = 0
        let repeating = queue.schedule(deadline: 10, interval: 10) { ticks += 1 }
        while let work = queue.popDue(now: 25) { work() }
        queue.cancel(repeating)
        var later = false
        _ = queue.schedule(deadline: 50, interval: nil) { later = true }
        while let work = queue.popDue(now: 1_000) { work() }
        #expect(ticks == 1 && later && queue.count == 0 && queue.heapCount == 0)
    }
}
