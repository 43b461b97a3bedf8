/// The replicated registry: a revisioned key space (etcd's MVCC model), typed service instances on top of
/// it, leases and a bounded event history for watches.
///
/// Pure and deterministic: `apply` is a total function of the state and the command, reads no clock and
/// never lets hash-table order reach a result, an event, an encoding or a hash. Every node applies the
/// same commands in log order and ends with equal states, equal `stateHash`es and equal `snapshotBytes`.
///
/// Invariant: `compactedRevision <= revision`; every retained event has a revision in
/// `(compactedRevision, revision]`; `index` holds exactly the keys of `entries`; every key's lease is live
/// and lists the key; `instanceCounts` counts the instance records per service.
public struct RegistryState: Sendable {
    /// The bounds this state enforces; all replicas must use the same.
    public let limits: RegistryLimits
    /// The framework layouts this state pairs with native instances; all replicas must use the same.
    public let layouts: [FrameworkLayout]
    /// The Raft log index of the last applied command (0 before any).
    public internal(set) var lastAppliedIndex: UInt64 = 0
    /// The revision of the last key-space change.
    public internal(set) var revision: Revision = .zero
    /// History at or below this revision is gone; watches from below it get a resync.
    public internal(set) var compactedRevision: Revision = .zero

    var entries = KeyTable()
    var index = SortedKeyIndex()
    var leaseTable = LeaseTable()
    var history = EventHistory()
    var instanceCounts: [ServiceKey: Int] = [:]
    /// Users, roles and the auth switch (replicated with everything else, in snapshots too).
    public internal(set) var auth = AuthState()

    /// An empty registry.
    /// - Parameter layouts: framework layouts to pair with native instances (none by default); they must pass
    ///   `FrameworkLayout.validate(_:)` (a precondition).
    public init(limits: RegistryLimits = .standard, layouts: [FrameworkLayout] = []) {
        precondition(
            limits.historyRevisions >= 1 && limits.historyEvents >= 1 && limits.historyBytes >= 1,
            "history limits must be positive")
        do {
            try FrameworkLayout.validate(layouts)
        } catch {
            preconditionFailure("invalid layouts \(layouts): \(error)")
        }
        self.limits = limits
        self.layouts = layouts
    }

    /// Applies one committed command.
    ///
    /// - Parameters:
    ///   - command: the decoded log entry payload.
    ///   - index: its Raft log index; MUST exceed every index applied before (a precondition).
    /// - Returns: the response and the events produced, or a rejection that changed nothing but
    ///   `lastAppliedIndex`.
    public mutating func apply(_ command: RegistryCommand, at index: UInt64) -> CommandResult {
        precondition(index > lastAppliedIndex, "apply at index \(index) after \(lastAppliedIndex)")
        if case .authChecked(let checkedAt, let command) = command {
            guard !auth.isEnabled || auth.revision == checkedAt else {
                lastAppliedIndex = index
                return .rejected(.auth(.oldRevision(token: checkedAt, current: auth.revision)))
            }
            return apply(command, at: index)
        }
        lastAppliedIndex = index
        var changes = ChangeSet(revision: revision.next)
        let outcome: Result<CommandResponse, RegistryRejection>
        switch command {
        case .put(let request): outcome = applyPut(request, into: &changes)
        case .deleteRange(let request): outcome = applyDeleteRange(request, into: &changes)
        case .transaction(let request): outcome = applyTransaction(request, into: &changes)
        case .grantLease(let id, let ttl, _): outcome = applyGrantLease(id: id, ttlMilliseconds: ttl, index: index)
        case .revokeLease(let id): outcome = applyRevokeLease(id, into: &changes)
        case .checkpointLeases(let checkpoints): outcome = applyCheckpointLeases(checkpoints)
        case .elapseLeases(let milliseconds): outcome = applyElapseLeases(milliseconds)
        case .expireLeases(let ids): outcome = applyExpireLeases(ids, into: &changes)
        case .registerInstance(let instance): outcome = applyRegister(instance, into: &changes)
        case .updateInstance(let update): outcome = applyUpdate(update, into: &changes)
        case .deregisterInstance(let name, let incarnation):
            outcome = applyDeregister(name, incarnation: incarnation, into: &changes)
        case .compact(let target): outcome = applyCompact(target)
        case .auth(let command):
            outcome = auth.apply(command).map { .authChanged(authRevision: $0) }.mapError { .auth($0) }
        case .authChecked:
            preconditionFailure("an auth check inside an auth check")  // unwrapped above; the decoder refuses nesting
        }
        switch outcome {
        case .failure(let rejection):
            precondition(changes.events.isEmpty, "rejected command produced events: \(rejection)")
            return .rejected(rejection)
        case .success(let response):
            if !changes.events.isEmpty {
                revision = changes.revision
                history.append(contentsOf: changes.events)
                compactAutomatically()
            }
            return .applied(AppliedCommand(revision: revision, response: response, events: changes.events))
        }
    }
}

/// A service, the key of the instance counts.
struct ServiceKey: Hashable, Sendable {
    var namespace: String
    var service: String
}

/// The events of the command being applied, all at one pending revision.
struct ChangeSet {
    let revision: Revision
    var events: [RegistryEvent] = []
}

// MARK: - Key-space primitives

extension RegistryState {
    /// Writes a key (validated by the caller) at the pending revision and records the event.
    /// - Returns: the key as it was before.
    @discardableResult
    mutating func writeRecord(
        key: [UInt8], value: [UInt8], lease: LeaseID?, isInstance: Bool, link: LayoutLink? = nil,
        cause: RegistryEvent.Cause, into changes: inout ChangeSet
    ) -> KeyValue? {
        let previous = entries[key]
        let record = KeyValue(
            key: key, value: value, createRevision: previous?.createRevision ?? changes.revision,
            modRevision: changes.revision, version: (previous?.version ?? 0) + 1, lease: lease,
            isInstance: isInstance, layoutLink: link)
        entries[key] = record
        if previous == nil { index.insert(key) }
        if previous?.lease != lease {
            if let old = previous?.lease { leaseTable[old]?.keys.remove(HashedKey(key)) }
            if let lease { leaseTable[lease]?.keys.insert(HashedKey(key)) }
        }
        adjustInstanceCount(key: key, wasInstance: previous?.isInstance ?? false, isInstance: isInstance)
        changes.events.append(
            RegistryEvent(
                revision: changes.revision, kind: .put, cause: cause, key: key, current: record, previous: previous))
        return previous
    }

    /// Deletes a present key at the pending revision and records the event.
    /// - Returns: the key as it was.
    @discardableResult
    mutating func removeRecord(key: [UInt8], cause: RegistryEvent.Cause, into changes: inout ChangeSet) -> KeyValue {
        guard let previous = entries.removeValue(forKey: key) else {
            preconditionFailure("remove of a missing key")
        }
        index.remove(key)
        if let lease = previous.lease { leaseTable[lease]?.keys.remove(HashedKey(key)) }
        if previous.isInstance { adjustInstanceCount(key: key, wasInstance: true, isInstance: false) }
        changes.events.append(
            RegistryEvent(
                revision: changes.revision, kind: .delete, cause: cause, key: key, current: nil, previous: previous))
        return previous
    }

    /// Keeps `instanceCounts` in step when a key becomes or stops being an instance record.
    private mutating func adjustInstanceCount(key: [UInt8], wasInstance: Bool, isInstance: Bool) {
        guard wasInstance != isInstance, let service = Self.serviceKey(of: key) else { return }
        let count = (instanceCounts[service] ?? 0) + (isInstance ? 1 : -1)
        precondition(count >= 0, "negative instance count for \(service)")
        instanceCounts[service] = count == 0 ? nil : count
    }

    /// The service of an instance key `<namespace>/<service>/<id>`.
    static func serviceKey(of key: [UInt8]) -> ServiceKey? {
        guard let first = key.firstIndex(of: UInt8(ascii: "/")),
            let second = key[(first + 1)...].firstIndex(of: UInt8(ascii: "/"))
        else { return nil }
        return ServiceKey(
            namespace: String(decoding: key[..<first], as: UTF8.self),
            service: String(decoding: key[(first + 1)..<second], as: UTF8.self))
    }

    /// Keys in a range, in byte order.
    func keys(in range: KeyRange) -> [[UInt8]] {
        if case .key(let key) = range { return entries[key] == nil ? [] : [key] }
        var keys: [[UInt8]] = []
        index.forEach(from: range.lowerBound) { key in
            if range.isPast(key) { return false }
            if range.contains(key) { keys.append(key) }
            return true
        }
        return keys
    }
}

// MARK: - Equality

extension RegistryState: Equatable {
    /// Equal replicated content; the shape of the key index is not compared, since a restored state builds
    /// it differently from one that grew by inserts.
    public static func == (lhs: RegistryState, rhs: RegistryState) -> Bool {
        lhs.limits == rhs.limits && lhs.layouts == rhs.layouts && lhs.lastAppliedIndex == rhs.lastAppliedIndex && lhs.revision == rhs.revision
            && lhs.compactedRevision == rhs.compactedRevision && lhs.entries == rhs.entries
            && lhs.leaseTable == rhs.leaseTable && lhs.history == rhs.history
            && lhs.instanceCounts == rhs.instanceCounts && lhs.index.allKeys == rhs.index.allKeys
            && lhs.auth == rhs.auth
    }
}
