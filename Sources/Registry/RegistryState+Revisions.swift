/// A digest of the key space at one revision, etcd's `HashKV`, for comparing members.
public struct StateHash: Hashable, Sendable {
    /// The revision the hash describes.
    public var revision: Revision
    /// The compaction point of the member that computed it (not hashed: members may compact apart).
    public var compactedRevision: Revision
    /// 64-bit FNV-1a over every key at `revision` in byte order: key, value, create and mod revision,
    /// version and lease, each length-prefixed or fixed-width little-endian, then the revision itself.
    public var hash: UInt64
}

// MARK: - State hash and reads at a revision

extension RegistryState {
    /// A hash of the key space at `revision` (default: the current revision).
    ///
    /// An older revision is reconstructed from the retained history by undoing the later events, so members
    /// that applied different amounts of the log can still be compared at a revision both have.
    /// - Throws: `.negativeRevision`, `.futureRevision`, or `.compactedRevision` below the history window.
    /// - Complexity: O(n + h).
    public func stateHash(atRevision target: Revision? = nil) throws(RegistryRejection) -> StateHash {
        let target = target ?? revision
        if let rejection = validateHistorical(target) { throw rejection }
        var hasher = FNV1a64()
        forEachRecord(in: .prefix([]), atRevision: target) { record in
            hasher.combine(record.key)
            hasher.combine(record.value)
            hasher.combine(UInt64(bitPattern: record.createRevision.rawValue))
            hasher.combine(UInt64(bitPattern: record.modRevision.rawValue))
            hasher.combine(UInt64(bitPattern: record.version))
            hasher.combine(record.lease?.rawValue ?? 0)
            return true
        }
        hasher.combine(UInt64(bitPattern: target.rawValue))
        return StateHash(revision: target, compactedRevision: compactedRevision, hash: hasher.value)
    }

    /// Reads keys as they were at an older revision still inside the history window (etcd's range with
    /// `revision`), for consistent pagination and for reads pinned to what a watcher has seen.
    /// - Throws: everything `range(_:)` throws, plus `.negativeRevision`, `.futureRevision` and
    ///   `.compactedRevision` (below the window).
    /// - Complexity: O(log n + h + matches), h the retained events after `revision`.
    public func range(_ request: RangeRequest, atRevision target: Revision) throws(RegistryRejection) -> RangeResult {
        if let rejection = validate(request) ?? validateHistorical(target) { throw rejection }
        if target == revision { return read(request) }
        var result = RangeResult(keyValues: [], count: 0, more: false, revision: target)
        forEachRecord(in: request.range, atRevision: target) { record in
            result.count += 1
            if request.countOnly { return true }
            if request.limit > 0 && result.keyValues.count >= request.limit {
                result.more = true
                return true
            }
            var record = record
            if request.keysOnly { record.value = [] }
            result.keyValues.append(record)
            return true
        }
        return result
    }

    /// A service's instances as they were at `target` inside the history window: what an operator reads to put
    /// back an instance deleted by mistake (`rosterctl list SERVICE --revision R`).
    /// - Throws: `invalidName`, or `futureRevision` / `compactedRevision` outside the window.
    /// - Complexity: O(log n + instances of the service + events after `target`).
    public func instances(namespace: String, service: String, atRevision target: Revision) throws(RegistryRejection) -> InstanceList {
        if target == revision { return try instances(namespace: namespace, service: service) }
        let probe = InstanceName(namespace: namespace, service: service, id: "x")
        if let rejection = probe.validate(limits: limits) ?? validateHistorical(target) { throw rejection }
        var records: [KeyValue] = []
        forEachRecord(in: .prefix(InstanceName.servicePrefix(namespace: namespace, service: service)), atRevision: target) { record in
            if record.isInstance { records.append(record) }
            return true
        }
        return InstanceList(records: records, revision: target)
    }

    /// One instance as it was at `target`, or nil if it did not exist then.
    /// - Throws: `futureRevision` / `compactedRevision` outside the history window.
    public func instance(named name: InstanceName, atRevision target: Revision) throws(RegistryRejection) -> ServiceInstance? {
        try instanceRecord(named: name, atRevision: target)?.instance
    }

    /// The instance's record as it was at `target`, or nil; see `instanceRecord(named:)`.
    public func instanceRecord(named name: InstanceName, atRevision target: Revision) throws(RegistryRejection) -> KeyValue? {
        if target == revision { return instanceRecord(named: name) }
        if let rejection = validateHistorical(target) { throw rejection }
        var found: KeyValue?
        forEachRecord(in: .key(name.key), atRevision: target) { record in
            if record.isInstance { found = record }
            return false
        }
        return found
    }

    private func validateHistorical(_ target: Revision) -> RegistryRejection? {
        if target.rawValue < 0 { return .negativeRevision(target) }
        if target > revision { return .futureRevision(target, current: revision) }
        if target < compactedRevision { return .compactedRevision(target, compacted: compactedRevision) }
        return nil
    }

    /// Calls `body` with every record in `range` as it was at `target`, in key order, until it returns
    /// false. The current key space is merged with the keys that later events touched, each restored to
    /// its record before the first of those events (nil if it did not exist).
    func forEachRecord(in range: KeyRange, atRevision target: Revision, _ body: (KeyValue) -> Bool) {
        // Undo newest first, so each key ends with the record it had just after `target`.
        var overrides: [[UInt8]: KeyValue?] = [:]
        var position = history.endPosition - 1
        let first = history.position(after: target)
        while position >= first {
            let event = history[position]
            if range.contains(event.key) { overrides[event.key] = .some(event.previous) }
            position -= 1
        }
        let overrideKeys = overrides.keys.sorted { compareBytes($0, $1) < 0 }
        var next = 0
        var going = true
        // Emits the overridden keys below `key`, then `key` itself (overridden or current).
        func visit(_ key: [UInt8]) -> Bool {
            while going && next < overrideKeys.count && compareBytes(overrideKeys[next], key) < 0 {
                if let record = overrides[overrideKeys[next]]! { going = body(record) }
                next += 1
            }
            guard going else { return false }
            if next < overrideKeys.count && overrideKeys[next] == key {
                if let record = overrides[key]! { going = body(record) }
                next += 1
            } else if let record = entries[key] {
                going = body(record)
            }
            return going
        }
        if case .key(let key) = range {
            if entries[key] != nil { _ = visit(key) }
        } else {
            index.forEach(from: range.lowerBound) { key in
                if range.isPast(key) { return false }
                return range.contains(key) ? visit(key) : true
            }
        }
        while going && next < overrideKeys.count {
            if let record = overrides[overrideKeys[next]]! { going = body(record) }
            next += 1
        }
    }
}

/// 64-bit FNV-1a: tiny, stable across platforms and processes (unlike `Hasher`, which is seeded per run).
struct FNV1a64 {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func combine(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }

    mutating func combine(_ word: UInt64) {
        var remaining = word
        for _ in 0..<8 {
            combine(UInt8(truncatingIfNeeded: remaining))
            remaining >>= 8
        }
    }

    mutating func combine(_ bytes: [UInt8]) {
        combine(UInt64(bytes.count))
        for byte in bytes { combine(byte) }
    }
}
