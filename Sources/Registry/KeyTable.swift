import Codec

/// A byte-string key that hashes its bytes once, when it is made.
///
/// `[UInt8]`'s own `Hashable` conformance combines element by element, which made hashing the dominant
/// cost of a register at 100,000 keys; one `combine(bytes:)` is several times faster. Keeping the result lets
/// `KeyTable` pick a shard and the shard's dictionary find a bucket from one pass over the bytes.
struct HashedKey: Hashable, Sendable {
    let bytes: [UInt8]
    /// The bytes' hash (`Hasher`, so seeded per process: never let it reach an encoding or an order).
    let hash: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        var hasher = Hasher()
        hasher.combine(bytes.count)
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        hash = hasher.finalize()
    }

    static func == (left: HashedKey, right: HashedKey) -> Bool {
        left.hash == right.hash && left.bytes == right.bytes
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(hash)
    }

    /// What `Dictionary` and `Set` call for every lookup and insert; `hash` is already a seeded SipHash of the
    /// bytes, so only the table's seed is mixed in (`SeededMix`). Callgrind, 16 clients reading a 100-instance
    /// service: the default's second SipHash per lookup was about half of the hashing, itself 20 % of the leader's
    /// instructions.
    func _rawHashValue(seed: Int) -> Int {
        SeededMix.hash(UInt64(bitPattern: Int64(hash)), seed: seed)
    }
}

/// The key space's records by key, in `shardCount` dictionaries keyed by `HashedKey`, behind a `[UInt8]`
/// interface. Iteration is deliberately not offered: order comes from `SortedKeyIndex` only.
///
/// Why shards: the registry is a copy-on-write value, and a periodic snapshot captures it while the node keeps
/// writing. With one dictionary the node's first write after a capture copied the whole table on the Raft loop
/// (measured: 550–790 ms at 400,000 keys on a loaded 2-core machine, long enough to miss heartbeats). With shards
/// a write copies only the shard it touches, a `1/shardCount` part, and the copying spreads over the writes that
/// follow.
struct KeyTable: Equatable, Sendable {
    static let shardBits = 8
    static let shardCount = 1 << shardBits
    private var shards = [[HashedKey: KeyValue]](repeating: [:], count: shardCount)
    /// Number of records.
    private(set) var count = 0

    /// The shard of a key: the hash's top bits (its dictionary uses the low ones for buckets).
    private static func shard(of key: HashedKey) -> Int {
        Int(truncatingIfNeeded: UInt(bitPattern: key.hash) >> UInt(UInt.bitWidth - shardBits))
    }

    subscript(key: [UInt8]) -> KeyValue? {
        get {
            let hashed = HashedKey(key)
            return shards[Self.shard(of: hashed)][hashed]
        }
        set {
            let hashed = HashedKey(key)
            let shard = Self.shard(of: hashed)
            if let newValue {
                if shards[shard].updateValue(newValue, forKey: hashed) == nil { count += 1 }
            } else if shards[shard].removeValue(forKey: hashed) != nil {
                count -= 1
            }
        }
    }

    /// Stores `record` under its key, whose hash the caller already made: restore hashes each key once for
    /// this table and its lease's key set instead of once for each.
    mutating func insert(_ record: consuming KeyValue, hashed: HashedKey) {
        precondition(hashed.bytes == record.key, "record stored under another key's hash")
        if shards[Self.shard(of: hashed)].updateValue(record, forKey: hashed) == nil { count += 1 }
    }

    @discardableResult
    mutating func removeValue(forKey key: [UInt8]) -> KeyValue? {
        let hashed = HashedKey(key)
        guard let removed = shards[Self.shard(of: hashed)].removeValue(forKey: hashed) else { return nil }
        count -= 1
        return removed
    }

    /// Rebuilds each shard at a size fitting its count when deletions left it mostly empty buckets (a
    /// dictionary never shrinks on its own). Order-free: lookups are all this type offers.
    mutating func shrinkIfSparse() {
        for shard in shards.indices { shards[shard].shrinkIfSparse() }
    }

    mutating func reserveCapacity(_ capacity: Int) {
        let perShard = (capacity + Self.shardCount - 1) / Self.shardCount
        for shard in shards.indices { shards[shard].reserveCapacity(perShard) }
    }
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
