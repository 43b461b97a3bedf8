/// Identifies a scheduled timer so it can be cancelled.
public struct TimerID: Hashable, Sendable {
    let rawValue: UInt64
}

/// A binary min-heap of timer deadlines, ordered by deadline and then by scheduling order, so timers due at the
/// same instant fire first-scheduled first.
///
/// Why a heap and not a timerfd per timer: the loop already wakes from `epoll_wait`, whose timeout can be the
/// earliest deadline, so one heap gives any number of timers without one descriptor each. Cancellation removes
/// the timer's entry from `active`; its heap node is skipped lazily when popped (O(log n) amortized). Because a
/// server arms and cancels a request timer per request, stale nodes are also purged whenever they outnumber live
/// ones, so the heap stays within twice the live timer count however long the deadlines are.
struct TimerQueue {
    private struct Node {
        var deadline: UInt64
        var id: UInt64
    }

    struct Timer {
        var deadline: UInt64
        var interval: UInt64?
        var work: () -> Void
    }

    private var heap: [Node] = []
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
        push(Node(deadline: deadline, id: id))
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
        while let top = heap.first {
            if active[top.id] != nil { return top.deadline }
            popTop()
            staleNodes -= 1
        }
        return nil
    }

    /// Removes and returns the work of the earliest timer due at `now`, rescheduling it if it repeats. A
    /// repeating timer that fell behind skips the missed ticks instead of firing a burst.
    mutating func popDue(now: UInt64) -> (() -> Void)? {
        guard let deadline = nextDeadline(), deadline <= now else { return nil }
        let id = heap[0].id
        popTop()
        guard var timer = active[id] else { return nil }
        if let interval = timer.interval {
            let next = timer.deadline &+ interval
            timer.deadline = next > now ? next : now &+ interval
            active[id] = timer
            push(Node(deadline: timer.deadline, id: id))
        } else {
            active[id] = nil
        }
        return timer.work
    }

    // MARK: - Heap

    private static func before(_ lhs: Node, _ rhs: Node) -> Bool {
        lhs.deadline != rhs.deadline ? lhs.deadline < rhs.deadline : lhs.id < rhs.id
    }

    private mutating func push(_ node: Node) {
        heap.append(node)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func popTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(from: 0)
    }

    private mutating func purgeStaleNodes() {
        heap.removeAll { active[$0.id] == nil }
        staleNodes = 0
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) {
            siftDown(from: index)
        }
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count && Self.before(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count && Self.before(heap[right], heap[smallest]) { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
