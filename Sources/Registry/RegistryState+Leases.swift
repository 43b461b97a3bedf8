// MARK: - Reads

extension RegistryState {
    /// One lease as replicated, etcd's `LeaseTimeToLive`.
    /// - Parameter includeKeys: list the attached keys (byte order).
    /// - Throws: `.leaseNotFound` or `.invalidLeaseID`.
    public func timeToLive(_ id: LeaseID, includeKeys: Bool = false) throws(RegistryRejection) -> LeaseStatus {
        if id.rawValue == 0 { throw .invalidLeaseID }
        guard let lease = leaseTable[id] else { throw .leaseNotFound(id) }
        return status(of: lease, includeKeys: includeKeys)
    }

    /// One live lease, or nil.
    public func lease(_ id: LeaseID) -> Lease? { leaseTable[id] }

    /// Every live lease without its keys, by ID, etcd's `LeaseLeases`.
    /// - Complexity: O(l log l).
    public func leases() -> [LeaseStatus] {
        leaseTable.ids.sorted().map { status(of: leaseTable[$0]!, includeKeys: false) }
    }

    /// Number of live leases.
    public var leaseCount: Int { leaseTable.count }

    /// The keys a client attached to a lease, in byte order: layout mirrors carry their source's lease but were
    /// attached by no one, so etcd clients see the keys they put (as on etcd).
    private func attachedKeys(of lease: Lease) -> [[UInt8]] {
        let keys = lease.sortedKeys
        guard !layouts.isEmpty || keys.contains(where: { entries[$0]?.layoutLink != nil }) else { return keys }
        return keys.filter { entries[$0]?.layoutLink?.isMirror != true }
    }

    private func status(of lease: Lease, includeKeys: Bool) -> LeaseStatus {
        LeaseStatus(
            id: lease.id, grantedTTLMilliseconds: lease.grantedTTLMilliseconds,
            remainingTTLMilliseconds: lease.remainingTTLMilliseconds, keys: includeKeys ? attachedKeys(of: lease) : [],
            revision: revision)
    }
}

// MARK: - Commands

extension RegistryState {
    mutating func applyGrantLease(id: LeaseID?, ttlMilliseconds: Int64, index: UInt64)
        -> Result<CommandResponse, RegistryRejection>
    {
        guard ttlMilliseconds >= limits.minimumTTLMilliseconds && ttlMilliseconds <= limits.maximumTTLMilliseconds else {
            return .failure(
                .ttlOutOfRange(
                    ttlMilliseconds: ttlMilliseconds, minimum: limits.minimumTTLMilliseconds,
                    maximum: limits.maximumTTLMilliseconds))
        }
        if leaseTable.count >= limits.leases { return .failure(.tooManyLeases(limit: limits.leases)) }
        let chosen: LeaseID
        if let id {
            if id.rawValue == 0 { return .failure(.invalidLeaseID) }
            if leaseTable[id] != nil { return .failure(.leaseAlreadyExists(id)) }
            chosen = id
        } else {
            // The log index is unique per command, so it is a free ID unless a client chose it before.
            var candidate = index
            while leaseTable[LeaseID(candidate)] != nil { candidate &+= 1 }
            chosen = LeaseID(candidate)
        }
        leaseTable[chosen] = Lease(id: chosen, grantedTTLMilliseconds: ttlMilliseconds)
        return .success(.leaseGranted(chosen, ttlMilliseconds: ttlMilliseconds))
    }

    mutating func applyRevokeLease(_ id: LeaseID, into changes: inout ChangeSet)
        -> Result<CommandResponse, RegistryRejection>
    {
        if id.rawValue == 0 { return .failure(.invalidLeaseID) }
        guard leaseTable[id] != nil else { return .failure(.leaseNotFound(id)) }
        let deleted = endLease(id, cause: .leaseRevoked, into: &changes)
        return .success(.leaseRevoked(id, deletedKeys: deleted))
    }

    mutating func applyCheckpointLeases(_ checkpoints: [LeaseCheckpoint]) -> Result<CommandResponse, RegistryRejection> {
        if checkpoints.count > limits.leaseBatch {
            return .failure(.leaseBatchTooLarge(count: checkpoints.count, limit: limits.leaseBatch))
        }
        var count = 0
        for checkpoint in checkpoints {
            guard let lease = leaseTable[checkpoint.id] else { continue }
            // Clamped to [0, granted]: a checkpoint can shorten the countdown but never extend a lease
            // beyond what a keepalive could.
            let remaining = min(max(checkpoint.remainingMilliseconds, 0), lease.grantedTTLMilliseconds)
            leaseTable[checkpoint.id]?.remainingTTLMilliseconds = remaining
            count += 1
        }
        return .success(.leasesCheckpointed(count: count))
    }

    /// Counts every lease down by `milliseconds` (not below zero): O(leases), a tight loop over the table
    /// once a second, against one checkpoint per silent lease per second before.
    mutating func applyElapseLeases(_ milliseconds: UInt64) -> Result<CommandResponse, RegistryRejection> {
        let elapsed = Int64(clamping: milliseconds)
        leaseTable.updateEach { lease in
            let remaining = lease.remainingTTLMilliseconds
            lease.remainingTTLMilliseconds = remaining > elapsed ? remaining - elapsed : 0
        }
        return .success(.leasesCheckpointed(count: leaseTable.count))
    }

    mutating func applyExpireLeases(_ ids: [LeaseID], into changes: inout ChangeSet)
        -> Result<CommandResponse, RegistryRejection>
    {
        if ids.count > limits.leaseBatch { return .failure(.leaseBatchTooLarge(count: ids.count, limit: limits.leaseBatch)) }
        // Sorted and deduplicated so that the event order does not depend on how the leader listed them.
        let live = Set(ids.filter { leaseTable[$0] != nil }).sorted()
        var deleted = 0
        for id in live { deleted += endLease(id, cause: .leaseExpired, into: &changes) }
        return .success(.leasesExpired(live, deletedKeys: deleted))
    }

    /// Deletes a lease's keys in byte order at the pending revision, then the lease.
    /// - Returns: how many of the keys clients attached were deleted (layout mirrors go too, uncounted, as
    ///   `timeToLive` does not list them).
    private mutating func endLease(_ id: LeaseID, cause: RegistryEvent.Cause, into changes: inout ChangeSet) -> Int {
        let keys = leaseTable[id]?.sortedKeys ?? []
        let attached = keys.count { entries[$0]?.layoutLink?.isMirror != true }
        // A key may already be gone: removing one member of a layout pair removes the others.
        for key in keys where entries[key] != nil { removeLinked(key: key, cause: cause, into: &changes) }
        leaseTable[id] = nil
        return attached
    }
}
