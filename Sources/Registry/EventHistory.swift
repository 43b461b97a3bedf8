/// The bounded window of recent events that backs watches.
///
/// Chunks of at most `chunkCapacity` events with a moving head, so dropping the oldest events is amortized O(1)
/// and finding the first event after a revision is a binary search. It keeps the running `bytes` of the retained
/// events, so the byte budget costs O(1) per event.
///
/// Why chunks: the registry is a copy-on-write value, and copies of it are handed out (a periodic snapshot's
/// capture, the view the I/O loops answer serializable reads from). With one array, the first write after each
/// copy copied the whole history (up to `historyEvents` events) on the Raft loop; with chunks it copies the last
/// chunk and the list of chunks.
struct EventHistory: Sendable {
    static let chunkCapacity = 256
    /// Every chunk but the last holds exactly `chunkCapacity` events; the last holds at least one.
    private var chunks: [[RegistryEvent]] = []
    /// Position of the oldest retained event (positions count from the first event of the first chunk).
    private var head = 0
    /// Sum of `retainedBytes` over the retained events.
    private(set) var bytes = 0

    init() {}

    init(events: [RegistryEvent]) {
        append(contentsOf: events)
    }

    /// Retained events, oldest first.
    var events: some Sequence<RegistryEvent> { chunks.joined().dropFirst(head) }

    var count: Int { endPosition - head }

    mutating func append(contentsOf events: [RegistryEvent]) {
        var remaining = events[...]
        while !remaining.isEmpty {
            if chunks.isEmpty || chunks[chunks.count - 1].count == Self.chunkCapacity {
                var chunk: [RegistryEvent] = []
                chunk.reserveCapacity(Self.chunkCapacity)
                chunks.append(chunk)
            }
            let room = Self.chunkCapacity - chunks[chunks.count - 1].count
            let taken = remaining.prefix(room)
            chunks[chunks.count - 1].append(contentsOf: taken)
            remaining = remaining.dropFirst(taken.count)
        }
        for event in events { bytes += event.retainedBytes }
    }

    /// Releases what the list of chunks holds beyond its events (after a burst, such as a revoke of tens of
    /// thousands of keys, was dropped).
    mutating func shrinkIfSparse() {
        guard chunks.capacity > 2 * chunks.count + 64 else { return }
        chunks = Array(chunks)
    }

    /// Drops every event with a revision at or below `revision`.
    mutating func drop(through revision: Revision) {
        let newHead = position(after: revision)
        for position in head..<newHead { bytes -= self[position].retainedBytes }
        head = newHead
        let wholeChunks = head / Self.chunkCapacity
        if wholeChunks > 0 {
            chunks.removeFirst(wholeChunks)
            head -= wholeChunks * Self.chunkCapacity
        }
    }

    /// The position of the first event with a revision above `revision`.
    func position(after revision: Revision) -> Int {
        var low = head
        var high = endPosition
        while low < high {
            let middle = (low + high) / 2
            if self[middle].revision <= revision { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The revision of the oldest retained event.
    var oldestRevision: Revision? { head < endPosition ? self[head].revision : nil }

    subscript(position: Int) -> RegistryEvent {
        chunks[position / Self.chunkCapacity][position % Self.chunkCapacity]
    }

    /// The position after the newest event.
    var endPosition: Int {
        chunks.isEmpty ? 0 : (chunks.count - 1) * Self.chunkCapacity + chunks[chunks.count - 1].count
    }
}

extension EventHistory: Equatable {
    static func == (lhs: EventHistory, rhs: EventHistory) -> Bool { lhs.events.elementsEqual(rhs.events) }
}
