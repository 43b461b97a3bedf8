/// A byte-string key whose hash feeds the bytes to the hasher in one call.
///
/// `[UInt8]`'s own `Hashable` conformance combines element by element, which made hashing the dominant
/// cost of a register at 100,000 keys; one `combine(bytes:)` is several times faster.
struct HashedKey: Hashable, Sendable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func hash(into hasher: inout Hasher) {
        hasher.combine(bytes.count)
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

/// The key space's records by key: a dictionary keyed by `HashedKey` behind a `[UInt8]` interface.
/// Iteration is deliberately not offered: order comes from `SortedKeyIndex` only.
struct KeyTable: Equatable, Sendable {
    private var storage: [HashedKey: KeyValue] = [:]

    subscript(key: [UInt8]) -> KeyValue? {
        get { storage[HashedKey(key)] }
        set { storage[HashedKey(key)] = newValue }
    }

    @discardableResult
    mutating func removeValue(forKey key: [UInt8]) -> KeyValue? { storage.removeValue(forKey: HashedKey(key)) }

    var count: Int { storage.count }

    /// Rebuilds the table at a size fitting its count when deletions left it mostly empty buckets (a
    /// dictionary never shrinks on its own). Order-free: lookups are all this type offers.
    mutating func shrinkIfSparse() {
        storage.shrinkIfSparse()
    }

    mutating func reserveCapacity(_ capacity: Int) { storage.reserveCapacity(capacity) }
}

extension Dictionary {
    /// Rebuilds at a capacity fitting `count` when at most a quarter of the capacity is used: the same
    /// contents in less memory. Amortized O(1) per removal when called periodically.
    mutating func shrinkIfSparse() {
        guard capacity > 64, count * 4 <= capacity else { return }
        var compact = Self(minimumCapacity: count)
        for (key, value) in self { compact[key] = value }
        self = compact
    }
}
