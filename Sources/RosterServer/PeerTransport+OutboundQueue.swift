/// The frames waiting for one peer's connection to drain, in two FIFO lanes with one byte limit.
///
/// Why two lanes: snapshot chunks are up to 1 MiB each, while heartbeats and votes are tens of bytes and
/// time-critical (a follower that misses heartbeats for an election timeout campaigns). Taking from the
/// control lane first lets a heartbeat overtake chunks still waiting here; Raft tolerates reordering, and each
/// lane keeps its own order. Why drop oldest control frames on overflow: they are the stalest (a newer append
/// or heartbeat supersedes them, and Raft retransmits what is lost), whereas dropping a snapshot chunk forces
/// the whole transfer to restart at that offset.
///
/// Pure value, no I/O, so its policy is tested directly.
struct PeerOutboundQueue {
    struct Frame: Equatable {
        var bytes: [UInt8]
        var isSnapshot: Bool
    }

    /// What `enqueue` did.
    enum EnqueueOutcome: Equatable {
        /// Queued; `droppedOlder` control frames were evicted to make room.
        case queued(droppedOlder: Int)
        /// Not queued: even after evicting every control frame it would not fit.
        case refused
    }

    /// Bound on `bytes`.
    let limitBytes: Int
    /// Invariant: `bytes` is the sum of the sizes of all queued frames and `bytes <= limitBytes`.
    private(set) var bytes = 0
    private var control = FrameFIFO()
    private var snapshot = FrameFIFO()

    init(limitBytes: Int) {
        precondition(limitBytes > 0, "queue limit must be positive")
        self.limitBytes = limitBytes
    }

    var isEmpty: Bool { control.isEmpty && snapshot.isEmpty }
    var count: Int { control.count + snapshot.count }

    mutating func enqueue(_ frame: Frame) -> EnqueueOutcome {
        guard frame.bytes.count <= limitBytes else { return .refused }
        var evicted: [Frame] = []
        while bytes + frame.bytes.count > limitBytes, let oldest = control.popFirst() {
            bytes -= oldest.bytes.count
            evicted.append(oldest)
        }
        guard bytes + frame.bytes.count <= limitBytes else {
            // Put the evicted frames back: refusing the new frame must not also lose the old ones.
            for old in evicted.reversed() { control.pushFront(old) }
            bytes += evicted.reduce(0) { $0 + $1.bytes.count }
            return .refused
        }
        if frame.isSnapshot { snapshot.append(frame) } else { control.append(frame) }
        bytes += frame.bytes.count
        assert(bytes <= limitBytes, "queue over its limit: \(bytes) > \(limitBytes)")
        return .queued(droppedOlder: evicted.count)
    }

    /// The next frame to send: control frames first.
    mutating func dequeue() -> Frame? {
        guard let frame = control.popFirst() ?? snapshot.popFirst() else { return nil }
        bytes -= frame.bytes.count
        return frame
    }

    mutating func removeAll() {
        control = FrameFIFO()
        snapshot = FrameFIFO()
        bytes = 0
    }
}

/// An array with a moving head: O(1) amortized pop from the front without a third-party deque.
private struct FrameFIFO {
    private var storage: [PeerOutboundQueue.Frame] = []
    /// Invariant: `head <= storage.count`; slots before it are consumed.
    private var head = 0

    var isEmpty: Bool { head == storage.count }
    var count: Int { storage.count - head }

    mutating func append(_ frame: PeerOutboundQueue.Frame) {
        storage.append(frame)
    }

    mutating func popFirst() -> PeerOutboundQueue.Frame? {
        guard head < storage.count else { return nil }
        let frame = storage[head]
        storage[head].bytes = []
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 64 && head * 2 > storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return frame
    }

    /// Undoes a `popFirst` (used only when an enqueue is refused).
    mutating func pushFront(_ frame: PeerOutboundQueue.Frame) {
        if head > 0 {
            head -= 1
            storage[head] = frame
        } else {
            storage.insert(frame, at: 0)
        }
    }
}
