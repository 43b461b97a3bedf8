import EtcdAPI
import Registry

/// Conversions between etcd's key ranges and records and Roster's.
enum EtcdKeys {
    /// etcd's `(key, range_end)`: no end is one key; `"\0"` is every key from `key` on (and every key when
    /// `key` is `"\0"` too); an end that is the key's prefix end is a prefix; otherwise `[key, end)`. An end
    /// that sorts before the key is the empty range `[key, key)`: etcd answers such a Range or DeleteRange with
    /// nothing rather than an error (its index scan simply finds no key).
    static func range(key: [UInt8], end: [UInt8]) -> KeyRange {
        if end.isEmpty { return .key(key) }
        if end == [0] { return key == [0] || key.isEmpty ? .prefix([]) : .fromKey(key) }
        if let prefixEnd = prefixEnd(of: key), prefixEnd == end { return .prefix(key) }
        if end.lexicographicallyPrecedes(key) { return .interval(start: key, end: key) }
        return .interval(start: key, end: end)
    }

    /// Whether a watch's `(key, range_end)` is empty: an end that is set (not `"\0"`, which means from-key) and
    /// not after the key. etcd refuses such a watch with `mvcc: watcher range is empty`.
    static func isEmptyWatchRange(key: [UInt8], end: [UInt8]) -> Bool {
        !end.isEmpty && end != [0] && !key.lexicographicallyPrecedes(end)
    }

    /// The smallest key greater than every key starting with `prefix` (clientv3's `GetPrefixRangeEnd`), or
    /// nil when there is none (all 0xFF).
    static func prefixEnd(of prefix: [UInt8]) -> [UInt8]? {
        var end = prefix
        while let last = end.last {
            if last < 0xFF {
                end[end.count - 1] = last + 1
                return end
            }
            end.removeLast()
        }
        return nil
    }

    static func keyValue(_ record: Registry.KeyValue, keysOnly: Bool = false) -> EtcdAPI.KeyValue {
        var kv = EtcdAPI.KeyValue()
        kv.key = record.key
        kv.createRevision = record.createRevision.rawValue
        kv.modRevision = record.modRevision.rawValue
        kv.version = record.version
        if !keysOnly { kv.value = record.value }
        kv.lease = record.lease.map { Int64(bitPattern: $0.rawValue) } ?? 0
        return kv
    }

    static func lease(_ raw: Int64) -> LeaseID? { raw == 0 ? nil : LeaseID(UInt64(bitPattern: raw)) }

    /// etcd's compaction revision for Roster's compacted revision: etcd keeps its compaction revision itself
    /// readable, Roster names the last revision that is gone, so etcd's is one more (0 when nothing was).
    static func etcdCompactRevision(_ compacted: Revision) -> Int64 {
        compacted.rawValue == 0 ? 0 : compacted.rawValue + 1
    }
}

/// What an etcd Range asks beyond what the registry's range does: sorting, revision filters, a limit applied
/// after them. Applied to the registry's answer, in etcd's order (filter, sort, then limit).
public struct EtcdRangeShape: Equatable, Sendable {
    var limit: Int
    var sortOrder: EtcdAPI.RangeRequest.SortOrder
    var sortTarget: EtcdAPI.RangeRequest.SortTarget
    var minModRevision: Int64
    var maxModRevision: Int64
    var minCreateRevision: Int64
    var maxCreateRevision: Int64
    var keysOnly: Bool
    var countOnly: Bool

    init(_ request: EtcdAPI.RangeRequest) {
        limit = Int(clamping: max(request.limit, 0))
        sortOrder = request.sortOrder
        sortTarget = request.sortTarget
        // etcd: a sort target other than the key with no order sorts ascending.
        if sortOrder == .none && sortTarget != .key { sortOrder = .ascend }
        minModRevision = request.minModRevision
        maxModRevision = request.maxModRevision
        minCreateRevision = request.minCreateRevision
        maxCreateRevision = request.maxCreateRevision
        keysOnly = request.keysOnly
        countOnly = request.countOnly
    }

    /// Whether the registry can apply the limit itself (no filter, key order).
    var isPlain: Bool {
        !hasFilters && (sortOrder == .none || (sortOrder == .ascend && sortTarget == .key))
    }

    var hasFilters: Bool { minModRevision != 0 || maxModRevision != 0 || minCreateRevision != 0 || maxCreateRevision != 0 }

    func keep(_ record: Registry.KeyValue) -> Bool {
        if minModRevision != 0 && record.modRevision.rawValue < minModRevision { return false }
        if maxModRevision != 0 && record.modRevision.rawValue > maxModRevision { return false }
        if minCreateRevision != 0 && record.createRevision.rawValue < minCreateRevision { return false }
        if maxCreateRevision != 0 && record.createRevision.rawValue > maxCreateRevision { return false }
        return true
    }

    /// The registry request: the whole range when this shape must filter or sort first.
    func registryRequest(_ range: KeyRange) -> Registry.RangeRequest {
        isPlain
            ? Registry.RangeRequest(range, limit: limit, countOnly: countOnly, keysOnly: keysOnly)
            : Registry.RangeRequest(range, keysOnly: keysOnly && sortTarget != .value)
    }

    /// etcd's RangeResponse for the registry's answer.
    func response(_ result: RangeResult, header: ResponseHeader) -> RangeResponse {
        var response = RangeResponse()
        response.header = header
        if isPlain {
            response.count = Int64(result.count)
            response.more = result.more
            response.kvs = result.keyValues.map { EtcdKeys.keyValue($0, keysOnly: keysOnly) }
            return response
        }
        var records = hasFilters ? result.keyValues.filter(keep) : result.keyValues
        sort(&records)
        // etcd counts the range before filtering.
        response.count = Int64(result.count)
        if countOnly { return response }
        if limit > 0 && records.count > limit {
            response.more = true
            records.removeLast(records.count - limit)
        }
        response.kvs = records.map { EtcdKeys.keyValue($0, keysOnly: keysOnly) }
        return response
    }

    private func sort(_ records: inout [Registry.KeyValue]) {
        guard sortOrder != .none else { return }
        let ascending: (Registry.KeyValue, Registry.KeyValue) -> Bool
        switch sortTarget {
        case .version: ascending = { $0.version < $1.version }
        case .create: ascending = { $0.createRevision < $1.createRevision }
        case .mod: ascending = { $0.modRevision < $1.modRevision }
        case .value: ascending = { $0.value.lexicographicallyPrecedes($1.value) }
        default: ascending = { $0.key.lexicographicallyPrecedes($1.key) }
        }
        // Stable: equal sort values keep key order, as etcd's stable sort does.
        var indexed = Array(records.enumerated())
        indexed.sort { left, right in
            let (a, b) = sortOrder == .descend ? (right.element, left.element) : (left.element, right.element)
            if ascending(a, b) { return true }
            if ascending(b, a) { return false }
            return left.offset < right.offset
        }
        records = indexed.map(\.element)
    }
}
