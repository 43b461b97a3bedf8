import Codec

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

// MARK: - Snapshot encoding

extension RegistryState {
    /// The first four bytes of every snapshot, "RGSN".
    static let snapshotMagic: [UInt8] = [0x52, 0x47, 0x53, 0x4E]
    /// Snapshot format version.
    static let snapshotVersion: UInt8 = 1
    /// Magic, version and checksum.
    private static let snapshotHeaderBytes = 9

    /// The whole replicated state as bytes: identical on every node that applied the same commands.
    ///
    /// Layout: magic `RGSN`, format version (1 byte), CRC-32C of the body (fixed 32), then the body: last
    /// applied index, revision, compacted revision, keys in byte order, leases by ID, retained events in
    /// order. Lease key sets and instance counts are derived on restore, not stored.
    /// - Complexity: O(n + l log l + h).
    public func snapshotBytes() -> [UInt8] {
        var writer = ByteWriter(reservingCapacity: 64 + entries.count * 128)
        writer.writeRaw(Self.snapshotMagic)
        writer.write(Self.snapshotVersion)
        writer.writeFixed(UInt32(0))
        writer.writeVarint(lastAppliedIndex)
        writer.writeSignedVarint(revision.rawValue)
        writer.writeSignedVarint(compactedRevision.rawValue)
        writer.writeVarint(UInt64(index.count))
        index.forEach(from: []) { key in
            entries[key]!.encode(into: &writer)
            return true
        }
        let leaseIDs = leaseTable.keys.sorted()
        writer.writeVarint(UInt64(leaseIDs.count))
        for id in leaseIDs {
            let lease = leaseTable[id]!
            writer.writeVarint(id.rawValue)
            writer.writeSignedVarint(lease.grantedTTLMilliseconds)
            writer.writeSignedVarint(lease.remainingTTLMilliseconds)
        }
        writer.writeVarint(UInt64(history.count))
        for event in history.events { event.encode(into: &writer) }
        var bytes = writer.bytes
        let checksum = CRC32C.checksum(bytes[Self.snapshotHeaderBytes...])
        withUnsafeBytes(of: checksum.littleEndian) { raw in
            for position in 0..<4 { bytes[5 + position] = raw[position] }
        }
        return bytes
    }

    /// Rebuilds a state from `snapshotBytes()`, checking the checksum and every structural rule (sorted
    /// unique keys, revisions in order, leases of keys live, instance values decodable) so that a restored
    /// state satisfies the same invariants as one built by `apply`.
    /// - Throws: `CodecError` for any corrupt, truncated or over-limit input; never traps.
    public static func restore(from bytes: [UInt8], limits: RegistryLimits) throws(CodecError) -> RegistryState {
        guard bytes.count >= snapshotHeaderBytes else {
            throw .truncated(field: "snapshot header", needed: snapshotHeaderBytes - bytes.count)
        }
        guard Array(bytes[0..<4]) == snapshotMagic else { throw .invalidValue(field: "magic", reason: "not a snapshot") }
        guard bytes[4] == snapshotVersion else { throw .unknownTag(field: "snapshot version", tag: UInt64(bytes[4])) }
        var header = ByteReader(bytes, range: 5..<9)
        let expected = try header.readFixed32("checksum")
        let actual = CRC32C.checksum(bytes[snapshotHeaderBytes...])
        guard expected == actual else { throw .checksumMismatch(expected: expected, actual: actual) }
        var reader = ByteReader(bytes, range: snapshotHeaderBytes..<bytes.count)
        var state = RegistryState(limits: limits)
        state.lastAppliedIndex = try reader.readVarint("last applied index")
        state.revision = Revision(try reader.readSignedVarint("revision"))
        state.compactedRevision = Revision(try reader.readSignedVarint("compacted revision"))
        guard state.compactedRevision.rawValue >= 0 && state.compactedRevision <= state.revision else {
            throw .invalidValue(field: "compacted revision", reason: "outside [0, revision]")
        }
        try state.restoreKeys(from: &reader)
        try state.restoreLeases(from: &reader)
        try state.restoreHistory(from: &reader)
        try reader.expectEnd()
        return state
    }

    private mutating func restoreKeys(from reader: inout ByteReader) throws(CodecError) {
        // Each record takes at least 8 bytes, which bounds the count before anything is reserved.
        let count = try reader.readCount("keys", limit: reader.remaining / 8)
        var keys: [[UInt8]] = []
        keys.reserveCapacity(count)
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let record = try KeyValue(from: &reader, limits: limits)
            if let last = keys.last, compareBytes(last, record.key) >= 0 {
                throw .invalidValue(field: "keys", reason: "not strictly ascending")
            }
            guard record.modRevision <= revision else {
                throw .invalidValue(field: "mod revision", reason: "\(record.modRevision) after \(revision)")
            }
            if record.isInstance {
                guard let service = Self.serviceKey(of: record.key), record.instance != nil else {
                    throw .invalidValue(field: "instance", reason: "undecodable instance record")
                }
                instanceCounts[service, default: 0] += 1
            }
            keys.append(record.key)
            entries[record.key] = record
        }
        index = SortedKeyIndex(sortedKeys: keys)
    }

    private mutating func restoreLeases(from reader: inout ByteReader) throws(CodecError) {
        let count = try reader.readCount("leases", limit: min(reader.remaining / 3, limits.leases))
        var previous: LeaseID? = nil
        leaseTable.reserveCapacity(count)
        for _ in 0..<count {
            let id = LeaseID(try reader.readVarint("lease id"))
            guard id.rawValue != 0, previous.map({ $0 < id }) ?? true else {
                throw .invalidValue(field: "lease id", reason: "zero or not ascending")
            }
            previous = id
            let granted = try reader.readSignedVarint("granted ttl")
            let remaining = try reader.readSignedVarint("remaining ttl")
            guard granted > 0, remaining >= 0, remaining <= granted else {
                throw .invalidValue(field: "lease ttl", reason: "granted \(granted), remaining \(remaining)")
            }
            var lease = Lease(id: id, grantedTTLMilliseconds: granted)
            lease.remainingTTLMilliseconds = remaining
            leaseTable[id] = lease
        }
        for key in index.allKeys {
            guard let lease = entries[key]?.lease else { continue }
            guard leaseTable[lease] != nil else { throw .invalidValue(field: "key lease", reason: "\(lease) not live") }
            leaseTable[lease]?.keys.insert(HashedKey(key))
        }
    }

    private mutating func restoreHistory(from reader: inout ByteReader) throws(CodecError) {
        let count = try reader.readCount("events", limit: min(reader.remaining / 4, limits.historyEvents))
        var events: [RegistryEvent] = []
        events.reserveCapacity(count)
        for _ in 0..<count {
            let event = try RegistryEvent(from: &reader, limits: limits)
            guard event.revision > compactedRevision, event.revision <= revision,
                events.last.map({ $0.revision <= event.revision }) ?? true
            else {
                throw .invalidValue(field: "event revision", reason: "\(event.revision) out of order or window")
            }
            events.append(event)
        }
        history = EventHistory(events: events)
    }
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
