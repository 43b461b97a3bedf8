/// The dynamic table of RFC 7541 §2.3.2 and §4: a FIFO of recently indexed fields, bounded by size in octets.
///
/// Entries are kept oldest-first in an array with a moving start, so adding is an append and evicting moves the
/// start; the dead prefix is dropped once it outweighs the live part (amortized O(1), no per-eviction shifting).
public struct DynamicTable: Sendable, Equatable {
    /// Entries oldest first; only `storage[start...]` are live.
    private var storage: [HeaderField] = []
    private var start = 0

    /// The sum of the live entries' sizes (name + value + 32 each).
    /// Invariant: `size <= maxSize`.
    public private(set) var size = 0

    /// The current maximum size, as last set by a dynamic table size update (or the initial setting).
    public private(set) var maxSize: Int

    /// Creates an empty table with the given maximum size in octets.
    public init(maxSize: Int) {
        precondition(maxSize >= 0, "dynamic table size \(maxSize) must not be negative")
        self.maxSize = maxSize
    }

    /// The number of entries.
    public var count: Int { storage.count - start }

    /// The entry at a 1-based position, 1 being the newest, as RFC 7541 §2.3.3 numbers them after the static
    /// table; nil when out of range.
    public func entry(at position: Int) -> HeaderField? {
        guard position >= 1 && position <= count else { return nil }
        return storage[storage.count - position]
    }

    /// All entries newest first, as the RFC's examples list them.
    public var entries: [HeaderField] { storage[start...].reversed() }

    /// Inserts a field as the newest entry, evicting the oldest until it fits. A field larger than `maxSize`
    /// empties the table and is not added (RFC 7541 §4.4), which is not an error.
    mutating func add(_ field: HeaderField) {
        let entry = HeaderField(name: field.name, value: field.value)
        let entrySize = entry.size
        evict(toFit: maxSize - entrySize)
        guard entrySize <= maxSize else { return }
        storage.append(entry)
        size += entrySize
    }

    /// Changes the maximum size, evicting the oldest entries until the table fits (RFC 7541 §4.3).
    mutating func setMaxSize(_ newMaxSize: Int) {
        precondition(newMaxSize >= 0, "dynamic table size \(newMaxSize) must not be negative")
        maxSize = newMaxSize
        evict(toFit: newMaxSize)
    }

    /// The position (1 = newest) of an exact (name, value) match and of the newest name match, for the encoder.
    /// - Complexity: O(count); the table holds at most maxSize / 32 entries.
    func search(name: [UInt8], value: [UInt8]) -> (exact: Int?, nameOnly: Int?) {
        var nameOnly: Int?
        var position = 1
        for entry in storage[start...].reversed() {
            if entry.name == name {
                if entry.value == value { return (position, nameOnly ?? position) }
                if nameOnly == nil { nameOnly = position }
            }
            position += 1
        }
        return (nil, nameOnly)
    }

    /// Evicts oldest entries until `size <= target` (a negative target empties the table).
    private mutating func evict(toFit target: Int) {
        while size > target && start < storage.count {
            size -= storage[start].size
            start += 1
        }
        if start == storage.count {
            storage.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 32 && start * 2 > storage.count {
            storage.removeFirst(start)
            start = 0
        }
    }

    /// Tables are equal when sizes and entries (newest first) match, whatever their internal layout.
    public static func == (lhs: DynamicTable, rhs: DynamicTable) -> Bool {
        lhs.maxSize == rhs.maxSize && lhs.size == rhs.size && lhs.entries == rhs.entries
    }
}
