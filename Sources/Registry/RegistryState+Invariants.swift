// MARK: - Invariants

extension RegistryState {
    /// Checks every structural invariant with `precondition`, naming the values involved.
    ///
    /// Too slow for every apply (O(n log n)); tests call it after each command, and a node may call it after
    /// restoring a snapshot.
    public func checkInvariants() {
        precondition(compactedRevision.rawValue >= 0, "compacted revision \(compactedRevision) is negative")
        precondition(compactedRevision <= revision, "compacted \(compactedRevision) above revision \(revision)")
        let keys = index.allKeys
        precondition(keys.count == entries.count, "index has \(keys.count) keys, table \(entries.count)")
        var counts: [ServiceKey: Int] = [:]
        var leaseKeys: [LeaseID: Int] = [:]
        for (position, key) in keys.enumerated() {
            precondition(position == 0 || compareBytes(keys[position - 1], key) < 0, "index out of order at \(position)")
            guard let record = entries[key] else { preconditionFailure("indexed key missing from the table") }
            precondition(record.key == key, "record stored under another key")
            precondition(
                record.createRevision.rawValue > 0 && record.createRevision <= record.modRevision
                    && record.modRevision <= revision && record.version > 0,
                "bookkeeping of \(key): create \(record.createRevision) mod \(record.modRevision) v\(record.version)")
            if let lease = record.lease {
                precondition(leaseTable[lease]?.keys.contains(HashedKey(key)) == true, "\(lease) does not list its key")
                leaseKeys[lease, default: 0] += 1
            }
            if record.isInstance {
                precondition(record.instance != nil, "instance record does not decode")
                if let service = Self.serviceKey(of: key) { counts[service, default: 0] += 1 }
            }
        }
        if let problem = layoutLinkProblem() { preconditionFailure(problem) }
        precondition(counts == instanceCounts, "instance counts \(instanceCounts) differ from records \(counts)")
        leaseTable.forEach { lease in
            let id = lease.id
            precondition(lease.keys.count == leaseKeys[id] ?? 0, "\(id) lists keys not attached to it")
            precondition(
                lease.remainingTTLMilliseconds >= 0 && lease.remainingTTLMilliseconds <= lease.grantedTTLMilliseconds,
                "\(id) remaining \(lease.remainingTTLMilliseconds) outside [0, \(lease.grantedTTLMilliseconds)]")
        }
        var previous: Revision? = nil
        for event in history.events {
            precondition(event.revision > compactedRevision && event.revision <= revision, "event at \(event.revision) outside the window")
            precondition(previous.map { $0 <= event.revision } ?? true, "events out of order at \(event.revision)")
            previous = event.revision
        }
        precondition(history.count <= limits.historyEvents, "history holds \(history.count) events")
        let bytes = history.events.reduce(0) { $0 + $1.retainedBytes }
        precondition(bytes == history.bytes, "history counts \(history.bytes) bytes, holds \(bytes)")
        precondition(history.bytes <= limits.historyBytes, "history holds \(history.bytes) bytes")
        precondition(
            revision.rawValue - compactedRevision.rawValue <= limits.historyRevisions,
            "history spans \(compactedRevision)...\(revision), limit \(limits.historyRevisions) revisions")
    }
}

extension RegistryState {
    /// The first broken layout pair, if any: a mirror whose source is missing, does not list it or has another
    /// lease, or a source listing a key that is not its mirror (the invariant on `LayoutLink`).
    /// Records are visited in key order, so every replica names the same problem.
    /// - Complexity: O(n) over every record, O(1) per record outside layouts.
    func layoutLinkProblem() -> String? {
        var problem: String? = nil
        index.forEach(from: []) { key in
            problem = entries[key].flatMap(linkProblem)
            return problem == nil
        }
        return problem
    }

    private func linkProblem(of record: KeyValue) -> String? {
        let name = String(decoding: record.key, as: UTF8.self)
        switch record.layoutLink {
        case nil:
            return nil
        case .mirror(let source):
            guard let owner = entries[source], case .source(let mirrors) = owner.layoutLink, mirrors.contains(record.key)
            else { return "mirror \(name) has no source listing it" }
            return owner.lease == record.lease ? nil : "mirror \(name) has another lease than its source"
        case .source(let mirrors):
            if mirrors.isEmpty { return "source \(name) lists no mirror" }
            let strays = mirrors.filter { entries[$0]?.layoutLink != .mirror(of: record.key) }
            return strays.isEmpty ? nil : "source \(name) lists a key that is not its mirror"
        }
    }
}
