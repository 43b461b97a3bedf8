import Codec

/// The live leases by ID, in shards.
///
/// Why shards: the registry is a copy-on-write value, and copies of it are handed out (a periodic snapshot's
/// capture, the view the I/O loops answer serializable reads from). With one dictionary, the first write after
/// each copy that touched a lease (every registration with a lease adds its key to the lease) copied every lease
/// on the Raft loop; with shards it copies the one shard it touches. As `KeyTable` does for the keys.
struct LeaseTable: Equatable, Sendable {
    static let shardBits = 8
    static let shardCount = 1 << shardBits
    private var shards = [[LeaseID: Lease]](repeating: [:], count: shardCount)
    /// Number of leases.
    private(set) var count = 0

    /// The shard of a lease: the top bits of an unseeded mix of its ID (each shard's dictionary mixes in its own
    /// seed for its buckets).
    private static func shard(of id: LeaseID) -> Int {
        Int(truncatingIfNeeded: UInt(bitPattern: SeededMix.hash(id.rawValue, seed: 0)) >> UInt(UInt.bitWidth - shardBits))
    }

    subscript(id: LeaseID) -> Lease? {
        get { shards[Self.shard(of: id)][id] }
        _modify {
            // In place, so that `table[id]?.keys.insert(key)` does not copy the lease's keys.
            let shard = Self.shard(of: id)
            let existed = shards[shard][id] != nil
            defer {
                let exists = shards[shard][id] != nil
                if exists != existed { count += exists ? 1 : -1 }
            }
            yield &shards[shard][id]
        }
    }

    /// Adds a lease whose ID is not in the table, in one lookup (the subscript's `_modify` takes three, to
    /// keep `count` right whatever the caller does).
    mutating func insertNew(_ lease: Lease) {
        let previous = shards[Self.shard(of: lease.id)].updateValue(lease, forKey: lease.id)
        precondition(previous == nil, "\(lease.id) inserted twice")
        count += 1
    }

    /// Every lease ID, in no particular order.
    var ids: [LeaseID] {
        var ids: [LeaseID] = []
        ids.reserveCapacity(count)
        for shard in shards { ids.append(contentsOf: shard.keys) }
        return ids
    }

    /// Calls `body` with every lease, in no particular order.
    func forEach(_ body: (Lease) throws -> Void) rethrows {
        for shard in shards {
            for lease in shard.values { try body(lease) }
        }
    }

    /// Changes every lease in place, in no particular order.
    mutating func updateEach(_ body: (inout Lease) -> Void) {
        for shard in shards.indices where !shards[shard].isEmpty {
            var index = shards[shard].values.startIndex
            while index != shards[shard].values.endIndex {
                body(&shards[shard].values[index])
                shards[shard].values.formIndex(after: &index)
            }
        }
    }

    /// Rebuilds each shard at a size fitting its count when removals left it mostly empty buckets.
    mutating func shrinkIfSparse() {
        for shard in shards.indices { shards[shard].shrinkIfSparse() }
    }

    mutating func reserveCapacity(_ capacity: Int) {
        let perShard = (capacity + Self.shardCount - 1) / Self.shardCount
        for shard in shards.indices { shards[shard].reserveCapacity(perShard) }
    }
}
