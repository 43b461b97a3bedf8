/// The bounded window of recent events that backs watches.
///
/// An array with a moving head, so dropping the oldest events is amortized O(1) and finding the first
/// event after a revision is a binary search.
struct EventHistory: Sendable {
    private var storage: [RegistryEvent] = []
    /// Position of the oldest retained event in `storage`.
    private var head = 0

    init() {}

    init(events: [RegistryEvent]) { storage = events }

    /// Retained events, oldest first.
    var events: ArraySlice<RegistryEvent> { storage[head...] }

    var count: Int { storage.count - head }

    mutating func append(contentsOf events: [RegistryEvent]) {
        storage.append(contentsOf: events)
    }

    /// Drops every event with a revision at or below `revision`.
    mutating func drop(through revision: Revision) {
        head = position(after: revision)
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
