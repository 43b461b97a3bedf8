import Codec

// MARK: - Snapshot encoding

extension RegistryState {
    /// The first four bytes of every snapshot, "RGSN".
    static let snapshotMagic: [UInt8] = [0x52, 0x47, 0x53, 0x4E]
    /// Snapshot format version: 1 without an auth section, 2 with one after the history. A state whose auth
    /// was never used writes version 1, byte for byte what nodes without auth write, so mixed-version
    /// clusters agree until auth is first used.
    static let snapshotVersion: UInt8 = 1
    /// The version that adds the auth section.
    static let snapshotVersionWithAuth: UInt8 = 2
    /// Magic, version and checksum.
    private static let snapshotHeaderBytes = 9
    /// The largest applied index and revision a snapshot may carry: 2^62, Raft's bound on any index a file or a peer
    /// gives (`LogIndex.largestDecodable`), which no log or history reaches, and far enough below the integers' limits
    /// that the writes after it cannot overflow them.
    static let largestRestorable: UInt64 = 1 << 62

    /// The whole replicated state as bytes: identical on every node that applied the same commands.
    ///
    /// Layout: magic `RGSN`, format version (1 byte), CRC-32C of the body (fixed 32), then the body: last
    /// applied index, revision, compacted revision, keys in byte order, leases by ID, retained events in
    /// order, and in version 2 the auth section (`AuthState.encode`). Lease key sets and instance counts are derived on restore, not stored.
    /// - Complexity: O(n + l log l + h).
    public func snapshotBytes() -> [UInt8] {
        var writer = ByteWriter(reservingCapacity: 64 + entries.count * 128)
        writer.writeRaw(Self.snapshotMagic)
        writer.write(auth.isPristine ? Self.snapshotVersion : Self.snapshotVersionWithAuth)
        writer.writeFixed(UInt32(0))
        writer.writeVarint(lastAppliedIndex)
        writer.writeSignedVarint(revision.rawValue)
        writer.writeSignedVarint(compactedRevision.rawValue)
        writer.writeVarint(UInt64(index.count))
        index.forEach(from: []) { key in
            entries[key]!.encode(into: &writer)
            return true
        }
        let leaseIDs = leaseTable.ids.sorted()
        writer.writeVarint(UInt64(leaseIDs.count))
        for id in leaseIDs {
            let lease = leaseTable[id]!
            writer.writeVarint(id.rawValue)
            writer.writeSignedVarint(lease.grantedTTLMilliseconds)
            writer.writeSignedVarint(lease.remainingTTLMilliseconds)
        }
        writer.writeVarint(UInt64(history.count))
        for event in history.events { event.encode(into: &writer) }
        if !auth.isPristine { auth.encode(into: &writer) }
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
    /// - Parameter layouts: the layouts the restored state pairs instances with (see `RegistryState.init`).
    public static func restore(from bytes: [UInt8], limits: RegistryLimits, layouts: [FrameworkLayout] = [])
        throws(CodecError) -> RegistryState
    {
        guard bytes.count >= snapshotHeaderBytes else {
            throw .truncated(field: "snapshot header", needed: snapshotHeaderBytes - bytes.count)
        }
        guard Array(bytes[0..<4]) == snapshotMagic else { throw .invalidValue(field: "magic", reason: "not a snapshot") }
        guard bytes[4] == snapshotVersion || bytes[4] == snapshotVersionWithAuth else {
            throw .unknownTag(field: "snapshot version", tag: UInt64(bytes[4]))
        }
        var header = ByteReader(bytes, range: 5..<9)
        let expected = try header.readFixed32("checksum")
        let actual = CRC32C.checksum(bytes[snapshotHeaderBytes...])
        guard expected == actual else { throw .checksumMismatch(expected: expected, actual: actual) }
        var reader = ByteReader(bytes, range: snapshotHeaderBytes..<bytes.count)
        var state = RegistryState(limits: limits, layouts: layouts)
        state.lastAppliedIndex = try reader.readVarint("last applied index")
        // A state must go on taking writes: its next index and revision must not overflow (`scripts/fuzz`).
        guard state.lastAppliedIndex <= largestRestorable else {
            throw .invalidValue(field: "last applied index", reason: "\(state.lastAppliedIndex) is beyond any log (at most 2^62)")
        }
        state.revision = Revision(try reader.readSignedVarint("revision"))
        guard state.revision.rawValue <= Int64(largestRestorable) else {
            throw .invalidValue(field: "revision", reason: "\(state.revision) is beyond any history (at most 2^62)")
        }
        state.compactedRevision = Revision(try reader.readSignedVarint("compacted revision"))
        guard state.compactedRevision.rawValue >= 0 && state.compactedRevision <= state.revision else {
            throw .invalidValue(field: "compacted revision", reason: "outside [0, revision]")
        }
        let leased = try state.restoreKeys(from: &reader)
        try state.restoreLeases(from: &reader, leased: leased)
        try state.restoreHistory(from: &reader)
        if bytes[4] == snapshotVersionWithAuth { state.auth = try AuthState(from: &reader, limits: limits) }
        try reader.expectEnd()
        return state
    }

    private mutating func restoreKeys(from reader: inout ByteReader) throws(CodecError) -> [(LeaseID, HashedKey)] {
        // Each record takes at least 8 bytes, which bounds the count before anything is reserved.
        let count = try reader.readCount("keys", limit: reader.remaining / 8)
        var keys: [[UInt8]] = []
        keys.reserveCapacity(count)
        entries.reserveCapacity(count)
        var leased: [(LeaseID, HashedKey)] = []
        // Keys arrive sorted, so one service's instance records are adjacent: count runs of equal
        // `<namespace>/<service>/` prefixes and make a `ServiceKey` (two Strings) once per run, not per record.
        var run: (prefixEnd: Int, key: [UInt8], count: Int)? = nil
        var isLinked = false
        for _ in 0..<count {
            let record = try KeyValue(from: &reader, limits: limits)
            if let last = keys.last, compareBytes(last, record.key) >= 0 {
                throw .invalidValue(field: "keys", reason: "not strictly ascending")
            }
            guard record.modRevision <= revision else {
                throw .invalidValue(field: "mod revision", reason: "\(record.modRevision) after \(revision)")
            }
            if record.isInstance {
                guard let prefixEnd = Self.servicePrefixEnd(of: record.key),
                    ServiceInstance.isWellFormedEncoding(record.value, limits: .permissive)
                else {
                    throw .invalidValue(field: "instance", reason: "undecodable instance record")
                }
                if let current = run, current.prefixEnd == prefixEnd, current.key[..<prefixEnd] == record.key[..<prefixEnd] {
                    run!.count += 1
                } else {
                    if let finished = run { countInstances(finished.key, finished.count) }
                    run = (prefixEnd, record.key, 1)
                }
            }
            // One hash per key, shared by the key table and the lease's key set.
            let hashed = HashedKey(record.key)
            if let lease = record.lease { leased.append((lease, hashed)) }
            if record.layoutLink != nil { isLinked = true }
            keys.append(record.key)
            entries.insert(record, hashed: hashed)
        }
        if let finished = run { countInstances(finished.key, finished.count) }
        index = SortedKeyIndex(sortedKeys: keys)
        if isLinked, let problem = layoutLinkProblem() { throw .invalidValue(field: "layout link", reason: problem) }
        return leased
    }

    private mutating func countInstances(_ key: [UInt8], _ count: Int) {
        instanceCounts[Self.serviceKey(of: key)!, default: 0] += count
    }

    /// The length of `<namespace>/<service>/` at the start of an instance key, nil if it has fewer than two
    /// slashes (the prefix `serviceKey(of:)` reads).
    static func servicePrefixEnd(of key: [UInt8]) -> Int? {
        guard let first = key.firstIndex(of: UInt8(ascii: "/")),
            let second = key[(first + 1)...].firstIndex(of: UInt8(ascii: "/"))
        else { return nil }
        return second + 1
    }

    /// Reads the leases and gives each its keys.
    ///
    /// Why not one lease-table update per key: that was most of this step (a hashed lookup through the
    /// table's `_modify` and a second hash of the key per key, each key set grown one insert at a time). The
    /// leases arrive ascending by ID, so each leased key finds its lease by binary search in the array read
    /// here; a first pass counts every lease's keys so that a key set is made once at its final size, and each
    /// lease enters the table once, complete. Callgrind, 100,000 leases of one key each: 296 million
    /// instructions for this step before, 159 million after.
    /// - Complexity: O(l + k log l) for l leases and k leased keys.
    private mutating func restoreLeases(from reader: inout ByteReader, leased: [(LeaseID, HashedKey)]) throws(CodecError) {
        let count = try reader.readCount("leases", limit: min(reader.remaining / 3, limits.leases))
        var leases: [Lease] = []
        leases.reserveCapacity(count)
        for _ in 0..<count {
            let id = LeaseID(try reader.readVarint("lease id"))
            guard id.rawValue != 0, leases.last.map({ $0.id < id }) ?? true else {
                throw .invalidValue(field: "lease id", reason: "zero or not ascending")
            }
            let granted = try reader.readSignedVarint("granted ttl")
            let remaining = try reader.readSignedVarint("remaining ttl")
            guard granted > 0, remaining >= 0, remaining <= granted else {
                throw .invalidValue(field: "lease ttl", reason: "granted \(granted), remaining \(remaining)")
            }
            var lease = Lease(id: id, grantedTTLMilliseconds: granted)
            lease.remainingTTLMilliseconds = remaining
            leases.append(lease)
        }
        // In key order, so the first key whose lease is missing is the one refused, as before.
        var positions: [Int] = []
        positions.reserveCapacity(leased.count)
        var keyCounts = [Int](repeating: 0, count: leases.count)
        for (lease, _) in leased {
            guard let position = Self.position(of: lease, in: leases, hint: positions.last) else {
                throw .invalidValue(field: "key lease", reason: "\(lease) not live")
            }
            positions.append(position)
            keyCounts[position] += 1
        }
        // Not for a single key: `Set(minimumCapacity:)` runs unspecialized, and cost about 320 instructions a
        // lease more than letting the first insert allocate (callgrind, 100,000 one-key leases).
        for position in leases.indices where keyCounts[position] > 1 {
            leases[position].keys = Set(minimumCapacity: keyCounts[position])
        }
        for (offset, (_, key)) in leased.enumerated() { leases[positions[offset]].keys.insert(key) }
        leaseTable.reserveCapacity(count)
        for lease in leases { leaseTable.insertNew(lease) }
    }

    /// The position of lease `id` in `leases` (ascending by ID), nil if absent. `hint`, the previous key's
    /// lease position, is tried first: keys registered together under one lease are often adjacent.
    private static func position(of id: LeaseID, in leases: [Lease], hint: Int?) -> Int? {
        if let hint, leases[hint].id == id { return hint }
        var low = 0
        var high = leases.count
        while low < high {
            let middle = (low + high) / 2
            if leases[middle].id < id { low = middle + 1 } else { high = middle }
        }
        return low < leases.count && leases[low].id == id ? low : nil
    }

    private mutating func restoreHistory(from reader: inout ByteReader) throws(CodecError) {
        // Not bounded by `historyEvents`: a node restarted with smaller history limits than it wrote the
        // snapshot with compacts below instead of refusing to start.
        let count = try reader.readCount("events", limit: reader.remaining / 4)
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
        compactAutomatically()
    }
}
