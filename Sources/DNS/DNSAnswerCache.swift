/// Zone answers (the records for a name and type) kept between queries while the registry stays at one
/// serial, so a hot name costs one map lookup and an encoding rather than decoding every instance again.
///
/// Owned by one thread (the node's loop): a class only so the answerer, a value, can share it. Emptied
/// whenever the serial changes, so it never answers from an older registry than the one asked with, and
/// when it holds `entriesLimit` entries, so a client asking for many distinct names cannot grow it.
/// The serial is the revision modulo 2³²; answering stale would take exactly 2³² revisions between two
/// queries, none of them seen.
public final class DNSAnswerCache {
    struct Key: Hashable {
        var name: DNSName
        var type: DNSRecordType
    }

    /// Most answers kept at once.
    public let entriesLimit: Int
    private var serial: UInt32?
    private var entries: [Key: ZoneAnswer] = [:]
    /// Lookups answered from the cache and computed, for tests and metrics.
    public private(set) var hits = 0
    public private(set) var misses = 0

    public init(entriesLimit: Int = 4096) {
        self.entriesLimit = entriesLimit
    }

    public var count: Int { entries.count }

    func answer(serial: UInt32, name: DNSName, type: DNSRecordType, _ compute: () -> ZoneAnswer) -> ZoneAnswer {
        if serial != self.serial {
            entries.removeAll(keepingCapacity: true)
            self.serial = serial
        }
        let key = Key(name: name, type: type)
        if let cached = entries[key] {
            hits += 1
            return cached
        }
        misses += 1
        let computed = compute()
        if entries.count >= entriesLimit { entries.removeAll(keepingCapacity: true) }
        entries[key] = computed
        return computed
    }
}
