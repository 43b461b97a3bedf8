/// The bounded window of recent events that backs watches.
///
/// An array with a moving head, so dropping the oldest events is amortized O(1) and finding the first
/// event after a revision is a binary search. It keeps the running `bytes` of the retained events, so the
/// byte budget costs O(1) per event.
struct EventHistory: Sendable {
    private var storage: [RegistryEvent] = []
    /// Position of the oldest retained event in `storage`.
    private var head = 0
    /// Sum of `retainedBytes` over the retained events.
    private(set) var bytes = 0

    init() {}

    init(events: [RegistryEvent]) {
        storage = events
        bytes = events.reduce(0) { $0 + $1.retainedBytes }
    }

    /// Retained events, oldest first.
    var events: ArraySlice<RegistryEvent> { storage[head...] }

    var count: Int { storage.count - head }

    mutating func append(contentsOf events: [RegistryEvent]) {
        storage.append(contentsOf: events)
        for event in events { bytes += event.retainedBytes }
    }

    /// Reallocates the retained events alone when the array holds much more than them: capacity left
    /// from a burst (a revoke of tens of thousands of keys) or dropped events still before `head`.
    mutating func shrinkIfSparse() {
        guard head > 0 || storage.capacity > 2 * storage.count + 1_024 else { return }
        storage = Array(storage[head...])
        head = 0
    }

    /// Drops every event with a revision at or below `revision`.
    mutating func drop(through revision: Revision) {
        let newHead = position(after: revision)
        for position in head..<newHead { bytes -= storage[position].retainedBytes }
        head = newHead
        if head > 1_024 && head * 2 > storage.count {
            storage.removeSubrange(0..<head)
            head = 0
        }
    }

    /// The storage position of the first event with a revision above `revision`.
    func position(after revision: Revision) -> Int {
        var low = head
        var high = storage.count
        while low < high {
            let middle = (low + high) / 2
            if storage[middle].revision <= revision { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The revision of the oldest retained event.
    var oldestRevision: Revision? { head < storage.count ? storage[head].revision : nil }

    subscript(position: Int) -> RegistryEvent { storage[position] }

    var endPosition: Int { storage.count }
}

extension EventHistory: Equatable {
    static func == (lhs: EventHistory, rhs: EventHistory) -> Bool { lhs.events == rhs.events }
}
