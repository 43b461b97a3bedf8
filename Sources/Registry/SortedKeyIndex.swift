/// The key space's order: keys in sorted chunks of at most `2 × chunkCapacity`.
///
/// A single sorted array makes each insert move half the keys (hundreds of kilobytes at 100,000 keys);
/// chunking bounds the move to one chunk while keeping range scans a binary search plus a linear walk.
/// Membership is decided by the caller's dictionary; this index only keeps the order.
struct SortedKeyIndex: Sendable {
    /// Chunks split in two when they pass twice this size.
    private static let chunkCapacity = 256
    /// Invariant: no chunk is empty; keys are strictly ascending within and across chunks.
    private var chunks: [[[UInt8]]] = []
    /// Number of keys.
    private(set) var count = 0

    init() {}

    /// Builds the index from keys already in strictly ascending order.
    init(sortedKeys: [[UInt8]]) {
        var start = 0
        while start < sortedKeys.count {
            let end = min(start + Self.chunkCapacity, sortedKeys.count)
            chunks.append(Array(sortedKeys[start..<end]))
            start = end
        }
        count = sortedKeys.count
    }

    /// The chunk where `key` belongs: the first whose last key is not below `key`, else the last chunk.
    private func chunkPosition(for key: [UInt8]) -> Int {
        var low = 0
        var high = chunks.count - 1
        while low < high {
            let middle = (low + high) / 2
            if compareBytes(chunks[middle][chunks[middle].count - 1], key) < 0 {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }

    /// The position of the first key in `chunk` not below `key`.
    private static func lowerBound(of key: [UInt8], in chunk: [[UInt8]]) -> Int {
        var low = 0
        var high = chunk.count
        while low < high {
            let middle = (low + high) / 2
            if compareBytes(chunk[middle], key) < 0 { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Adds a key that is not yet present.
    /// - Complexity: O(log n + chunk size).
    mutating func insert(_ key: [UInt8]) {
        guard !chunks.isEmpty else {
            chunks.append([key])
            count = 1
            return
        }
        let chunk = chunkPosition(for: key)
        let position = Self.lowerBound(of: key, in: chunks[chunk])
        assert(position == chunks[chunk].count || chunks[chunk][position] != key, "duplicate key in index")
        chunks[chunk].insert(key, at: position)
        count += 1
        if chunks[chunk].count > 2 * Self.chunkCapacity {
            let upper = Array(chunks[chunk][Self.chunkCapacity...])
            chunks[chunk].removeSubrange(Self.chunkCapacity...)
            chunks.insert(upper, at: chunk + 1)
        }
    }

    /// Removes a key that is present.
    /// - Complexity: O(log n + chunk size).
    mutating func remove(_ key: [UInt8]) {
        precondition(!chunks.isEmpty, "remove from an empty index")
        let chunk = chunkPosition(for: key)
        let position = Self.lowerBound(of: key, in: chunks[chunk])
        precondition(position < chunks[chunk].count && chunks[chunk][position] == key, "key missing from index")
        chunks[chunk].remove(at: position)
        count -= 1
        if chunks[chunk].isEmpty { chunks.remove(at: chunk) }
    }

    /// Calls `body` with each key not below `start`, in ascending order, until it returns false.
    /// - Complexity: O(log n + keys visited).
    func forEach(from start: [UInt8], _ body: ([UInt8]) -> Bool) {
        guard !chunks.isEmpty else { return }
        var chunk = chunkPosition(for: start)
        var position = Self.lowerBound(of: start, in: chunks[chunk])
        while chunk < chunks.count {
            let keys = chunks[chunk]
            while position < keys.count {
                if !body(keys[position]) { return }
                position += 1
            }
            chunk += 1
            position = 0
        }
    }

    /// Every key, ascending.
    var allKeys: [[UInt8]] {
        var keys: [[UInt8]] = []
        keys.reserveCapacity(count)
        for chunk in chunks { keys.append(contentsOf: chunk) }
        return keys
    }
}
