import Containers

/// Identifies a scheduled timer so it can be cancelled: its slot in the queue and the sequence number it was
/// scheduled with, which no other timer ever has, so an ID kept after its timer fired cancels nothing.
public struct TimerID: Hashable, Sendable {
    let slot: UInt32
    let sequence: UInt64
}

/// Timers on a min-heap (the project's one `MinHeap`), ordered by deadline and then by scheduling order, so timers due at the
/// same instant fire first-scheduled first.
///
/// Why a heap and not a timerfd per timer: the loop already wakes from `epoll_wait`, whose timeout can be the
/// earliest deadline, so one heap gives any number of timers without one descriptor each. A timer lives in a slot
/// of an array, reused once the timer fires or is cancelled; its heap node names the slot and the sequence number
/// the timer was scheduled with, so a node whose slot moved on is recognised as stale and skipped when popped
/// (O(log n) amortized). Slots rather than a dictionary: a server arms and cancels timers for every request, and
/// hashing each ID cost more than the heap itself. Stale nodes are also purged whenever they outnumber live ones,
/// so the heap stays within twice the live timer count however long the deadlines are.
struct TimerQueue {
    /// A heap entry: a deadline, the scheduling order, and where the timer lives.
    private struct Node: Comparable, Sendable {
        var deadline: UInt64
        var sequence: UInt64
        var slot: UInt32

        static func < (lhs: Node, rhs: Node) -> Bool {
            (lhs.deadline, lhs.sequence) < (rhs.deadline, rhs.sequence)
        }
    }

    struct Timer {
        var deadline: UInt64
        var interval: UInt64?
        var work: () -> Void
    }

    /// One timer's place: the sequence number of the timer it holds (or last held) and that timer while live.
    private struct Slot {
        var sequence: UInt64
        var timer: Timer?
    }

    private var heap = MinHeap<Node>()
    private var slots: [Slot] = []
    private var freeSlots: [UInt32] = []
    private var nextSequence: UInt64 = 1
    /// Heap nodes whose timer was cancelled. Invariant: `heap.count == count + staleNodes`.
    private var staleNodes = 0

    /// The number of scheduled, uncancelled timers.
    private(set) var count = 0

    /// Adds a timer; `interval` makes it repeat.
    mutating func schedule(deadline: UInt64, interval: UInt64?, work: @escaping () -> Void) -> TimerID {
        let sequence = nextSequence
        nextSequence += 1
        let timer = Timer(deadline: deadline, interval: interval, work: work)
        let slot: UInt32
        if let free = freeSlots.popLast() {
            slot = free
            slots[Int(slot)] = Slot(sequence: sequence, timer: timer)
        } else {
            slot = UInt32(slots.count)
            slots.append(Slot(sequence: sequence, timer: timer))
        }
        count += 1
        heap.push(Node(deadline: deadline, sequence: sequence, slot: slot))
        return TimerID(slot: slot, sequence: sequence)
    }

    /// Cancels a timer; cancelling one that already fired (one-shot) or was cancelled does nothing.
    mutating func cancel(_ timer: TimerID) {
        let index = Int(timer.slot)
        guard index < slots.count, slots[index].sequence == timer.sequence, slots[index].timer != nil else { return }
        release(index)
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
            if isLive(top) { return top.deadline }
            heap.popMinimum()
            staleNodes -= 1
        }
        return nil
    }

    /// Removes and returns the work of the earliest timer due at `now`, rescheduling it if it repeats. A
    /// repeating timer that fell behind skips the missed ticks instead of firing a burst.
    mutating func popDue(now: UInt64) -> (() -> Void)? {
        guard let deadline = nextDeadline(), deadline <= now else { return nil }
        guard let node = heap.popMinimum(), var timer = slots[Int(node.slot)].timer else { return nil }
        if let interval = timer.interval {
            let next = timer.deadline &+ interval
            timer.deadline = next > now ? next : now &+ interval
            slots[Int(node.slot)].timer = timer
            heap.push(Node(deadline: timer.deadline, sequence: node.sequence, slot: node.slot))
        } else {
            release(Int(node.slot))
        }
        return timer.work
    }

    private func isLive(_ node: Node) -> Bool {
        slots[Int(node.slot)].sequence == node.sequence && slots[Int(node.slot)].timer != nil
    }

    /// Frees a live timer's slot for reuse.
    private mutating func release(_ index: Int) {
        slots[index].timer = nil
        freeSlots.append(UInt32(index))
        count -= 1
    }

    private mutating func purgeStaleNodes() {
        let slots = self.slots
        heap.removeAll { node in slots[Int(node.slot)].sequence != node.sequence || slots[Int(node.slot)].timer == nil }
        staleNodes = 0
    }
}
