/// Every change to the registry: the payload of a Raft log entry, applied in log order on every node.
///
/// Time enters only inside commands, stamped by the leader from its monotonic clock; applying never reads
/// a clock. Lease expiry is itself a command (`expireLeases`), proposed by the leader's `LeaseKeeper`.
public enum RegistryCommand: Equatable, Sendable {
    /// Writes one key (etcd `Put`).
    case put(PutRequest)
    /// Deletes every key in a range at one revision (etcd `DeleteRange`).
    case deleteRange(DeleteRangeRequest)
    /// Compares, then one branch of operations, at one revision (etcd `Txn`).
    case transaction(TransactionRequest)
    /// Grants a lease. A nil ID lets the state choose one deterministically (the entry's log index, or
    /// the next free ID above it). `grantedAtMilliseconds` is the leader's clock at proposal, kept only for
    /// diagnostics: the state never compares it with anything.
    case grantLease(id: LeaseID?, ttlMilliseconds: Int64, grantedAtMilliseconds: UInt64)
    /// Ends a lease now, deleting every attached key at one revision.
    case revokeLease(LeaseID)
    /// Records each lease's remaining TTL so that a new leader resumes the countdown. Unknown IDs are
    /// skipped (the lease may have ended since the leader measured it).
    case checkpointLeases([LeaseCheckpoint])
    /// Time that passed on the leader since its previous `elapseLeases`: every lease's replicated remaining
    /// TTL drops by it (not below zero). One small entry a second keeps every silent lease's countdown
    /// replicated, where a checkpoint per lease per second grew with the number of leases (100,000 silent
    /// leases were 100,000 checkpoints a second, and registrations slowed to a crawl as they accumulated).
    case elapseLeases(milliseconds: UInt64)
    /// Ends leases whose deadline passed on the leader. Unknown IDs are skipped, as above; all keys of
    /// the batch are deleted at one revision.
    case expireLeases([LeaseID])
    /// Creates or replaces an instance record (fenced by incarnation).
    case registerInstance(ServiceInstance)
    /// Changes status, metadata or weight of a live instance of the same incarnation.
    case updateInstance(InstanceUpdate)
    /// Removes an instance; with an incarnation, only if the live record's is not newer.
    case deregisterInstance(InstanceName, incarnation: UInt64?)
    /// Drops history at or below a revision; watches from there on get a resync.
    case compact(Revision)
    /// Changes users, roles or the auth switch; touches no key and bumps the auth revision, not the
    /// registry revision.
    case auth(AuthCommand)
    /// A client's command with the auth revision its permission was checked at. It applies only if auth is
    /// off or still at that revision; otherwise it is refused `oldRevision` (etcd's `ErrAuthOldRevision`,
    /// which clients answer by logging in again and retrying), so a permission revoked between a member's
    /// check and the entry's turn in the log never lets the write through. Never nested.
    indirect case authChecked(authRevision: UInt64, RegistryCommand)
}

extension RegistryCommand {
    /// The command itself, without the auth revision it was checked at.
    public var payload: RegistryCommand {
        if case .authChecked(_, let command) = self { command } else { self }
    }

    /// The auth revision the command was checked at, if it carries one.
    public var checkedAuthRevision: UInt64? {
        if case .authChecked(let revision, _) = self { revision } else { nil }
    }

    /// The command carrying `authRevision`; unchanged when `authRevision` is nil or the command already carries
    /// one (the earlier check is the one that counts).
    public func checked(atAuthRevision authRevision: UInt64?) -> RegistryCommand {
        guard let authRevision, checkedAuthRevision == nil else { return self }
        return .authChecked(authRevision: authRevision, self)
    }
}
