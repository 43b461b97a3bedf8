import Containers

/// Identifies a scheduled timer so it can be cancelled.
public struct TimerID: Hashable, Sendable {
    let rawValue: UInt64
}

/// Timers on a min-heap (the project's one `MinHeap`), ordered by deadline and then by scheduling order, so timers due at the
/// same instant fire first-scheduled first.
///
/// Why a heap and not a timerfd per timer: the loop already wakes from `epoll_wait`, whose timeout can be the
/// earliest deadline, so one heap gives any number of timers without one descriptor each. Cancellation removes
/// the timer's entry from `active`; its heap node is skipped lazily when popped (O(log n) amortized). Because a
/// server arms and cancels a request timer per request, stale nodes are also purged whenever they outnumber live
/// ones, so the heap stays within twice the live timer count however long the deadlines are.
struct TimerQueue {
    /// A heap entry: a deadline and the timer's ID, which is also its scheduling order.
    private struct Node: Comparable, Sendable {
        var deadline: UInt64
        var id: UInt64

        static func < (lhs: Node, rhs: Node) -> Bool {
            (lhs.deadline, lhs.id) < (rhs.deadline, rhs.id)
        }
    }

    struct Timer {
        var deadline: UInt64
        var interval: UInt64?
        var work: () -> Void
    }

    private var heap = MinHeap<Node>()
    private var active: [UInt64: Timer] = [:]
    private var nextID: UInt64 = 1
    /// Heap nodes whose timer was cancelled. Invariant: `heap.count == active.count + staleNodes`.
    private var staleNodes = 0

    /// The number of scheduled, uncancelled timers.
    var count: Int { active.count }

    /// Adds a timer; `interval` makes it repeat.
    mutating func schedule(deadline: UInt64, interval: UInt64?, work: @escaping () -> Void) -> TimerID {
        let id = nextID
        nextID += 1
        active[id] = Timer(deadline: deadline, interval: interval, work: work)
        heap.push(Node(deadline: deadline, id: id))
        return TimerID(rawValue: id)
    }

    /// Cancels a timer; cancelling one that already fired (one-shot) or was cancelled does nothing.
    mutating func cancel(_ timer: TimerID) {
        guard active.removeValue(forKey: timer.rawValue) != nil else { return }
        staleNodes += 1
        if staleNodes > 64 && staleNodes * 2 > heap.count {
            purgeStaleNodes()
        }
    }

    /// The number of heap nodes, live and stale (for tests of the bound).
    var heapCount: Int { heap.count }

    /// The earliest live deadline, discarding cancelled heap nodes on the way.
    mutating func nextDeadline() -> UInt64? {
        while let top = heap.minimum {
            if active[top.id] != nil { return top.deadline }
            heap.popMinimum()
            staleNodes -= 1
        }
        return nil
    }

    /// Removes and returns the work of the earliest timer due at `now`, rescheduling it if it repeats. A
    /// repeating timer that fell behind skips the missed ticks instead of firing a burst.
    mutating func popDue(now: UInt64) -> (() -> Void)? {
        guard let deadline = nextDeadline(), deadline <= now else { return nil }
        guard let id = heap.popMinimum()?.id else { return nil }
        guard var timer = active[id] else { return nil }
        if let interval = timer.interval {
            let next = timer.deadline &+ interval
            timer.deadline = next > now ? next : now &+ interval
            active[id] = timer
            heap.push(Node(deadline: timer.deadline, id: id))
        } else {
            active[id] = nil
        }
        return timer.work
    }

    private mutating func purgeStaleNodes() {
        heap.removeAll { active[$0.id] == nil }
        staleNodes = 0
    }
}
