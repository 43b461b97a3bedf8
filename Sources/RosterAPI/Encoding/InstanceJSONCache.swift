import Codec
import Registry

/// Each instance record's JSON object, kept across reads so that a listing copies bytes instead of
/// decoding and re-encoding every instance (which was nine tenths of a 100-instance read).
///
/// Never stale, by construction: an instance's JSON is a function of the record's value bytes alone, and
/// an entry keeps the value it was made from; a lookup hits only when the live record's value equals it.
/// An update, a deregistration, a lease expiry or a snapshot install can therefore only cause a miss. The
/// lookup key (record key, mod revision) just finds the candidate; since the registry and the entry share
/// the value's storage, the equality check on a hit is a pointer comparison.
///
/// Bounded: two generations of at most `byteLimit / 2` bytes each (value and JSON). When the newer fills,
/// the older is dropped and the newer takes its place; a hit in the older moves the entry forward. Memory
/// stays under `byteLimit` plus per-entry overhead, and instances read recently stay cached.
public struct InstanceJSONCache {
    /// The bound on cached bytes; 0 disables caching (every lookup encodes).
    public let byteLimit: Int
    /// Lookups answered from the cache.
    public private(set) var hits = 0
    /// Lookups that encoded the instance.
    public private(set) var misses = 0

    private var current: [Key: Entry] = [:]
    private var older: [Key: Entry] = [:]
    private var currentBytes = 0

    /// The default bound: 100,000 instances of ~300 bytes fit.
    public static let defaultByteLimit = 64 << 20

    public init(byteLimit: Int = InstanceJSONCache.defaultByteLimit) {
        self.byteLimit = max(0, byteLimit)
    }

    /// The number of cached entries.
    public var count: Int { current.count + older.count }

    /// The JSON object for an instance record, or nil when the record is not an instance (or does not
    /// decode as one, which a valid registry state never holds).
    /// - Parameter remember: Whether a miss is added to the cache. A streamed listing passes false: it is
    ///   large by definition, and filling the cache with it would evict the small hot listings and grow the
    ///   node's memory by the listing's size.
    public mutating func json(for record: KeyValue, remember: Bool = true) -> [UInt8]? {
        guard record.isInstance else { return nil }
        let key = Key(key: record.key, modRevision: record.modRevision)
        if let entry = current[key], entry.value == record.value {
            hits += 1
            return entry.json
        }
        if let entry = older.removeValue(forKey: key), entry.value == record.value {
            hits += 1
            insert(entry, for: key)
            return entry.json
        }
        misses += 1
        guard let instance = record.instance else { return nil }
        var writer = JSONWriter(reservingCapacity: 64 + record.value.count * 2)
        writer.instance(instance)
        let json = writer.bytes
        if remember && byteLimit > 0 { insert(Entry(value: record.value, json: json), for: key) }
        return json
    }

    private mutating func insert(_ entry: Entry, for key: Key) {
        let size = entry.size
        guard size <= byteLimit / 2 else { return }
        if currentBytes + size > byteLimit / 2 {
            older = current
            current = [:]
            currentBytes = 0
        }
        if let replaced = current.updateValue(entry, forKey: key) { currentBytes -= replaced.size }
        currentBytes += size
    }

    /// Record key and mod revision. Hashing only the revision is enough to spread entries (instance
    /// writes rarely share a revision) and avoids hashing the key bytes on every lookup.
    private struct Key: Hashable {
        var key: [UInt8]
        var modRevision: Revision

        func hash(into hasher: inout Hasher) { hasher.combine(modRevision) }
        /// The revision with the table's seed mixed in, without a SipHash per lookup (see `SeededMix`).
        func _rawHashValue(seed: Int) -> Int { SeededMix.hash(UInt64(bitPattern: modRevision.rawValue), seed: seed) }
        static func == (lhs: Key, rhs: Key) -> Bool { lhs.modRevision == rhs.modRevision && lhs.key == rhs.key }
    }

    private struct Entry {
        var value: [UInt8]
        var json: [UInt8]
        /// What the entry holds, counting a fixed overhead for the dictionary slot and array headers.
        var size: Int { value.count + json.count + 96 }
    }
}

extension JSONWriter {
    /// An instance record's JSON object through `cache`; nothing for a record that is not an instance.
    mutating func instance(_ record: KeyValue, cache: inout InstanceJSONCache, remember: Bool = true) {
        guard let json = cache.json(for: record, remember: remember) else { return }
        raw(json)
    }
}
