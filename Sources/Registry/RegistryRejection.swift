/// Why the registry refused a command or a read.
///
/// A rejected command changes nothing, not even the revision; it still consumes its log index. Every case
/// carries the offending values so that a client can say what to fix.
public enum RegistryRejection: Error, Equatable, Sendable {
    /// Keys must have at least one byte.
    case emptyKey
    /// A put that keeps the current value or lease names a key that does not exist (etcd's "key not found").
    case keyNotFound([UInt8])
    /// A put that keeps the current value carries a value too.
    case valueWithIgnoreValue
    /// A put that keeps the current lease names a lease too.
    case leaseWithIgnoreLease
    /// A key is longer than `RegistryLimits.keyBytes`.
    case keyTooLong(bytes: Int, limit: Int)
    /// A value (or an encoded instance) is longer than `RegistryLimits.valueBytes`.
    case valueTooLong(bytes: Int, limit: Int)
    /// The command's payload is larger than `RegistryLimits.requestBytes`.
    case requestTooLarge(bytes: Int, limit: Int)
    /// A transaction branch or its compares exceed `RegistryLimits.transactionOperations`.
    case tooManyOperations(count: Int, limit: Int)
    /// Two writes of one transaction branch touch the same key; etcd refuses this too, since the outcome
    /// would depend on the order of operations inside one revision.
    case duplicateKeyInTransaction(key: [UInt8])
    /// A key range whose end precedes its start.
    case invalidRange(start: [UInt8], end: [UInt8])
    /// A result limit below one, or negative.
    case invalidLimit(Int)
    /// A namespace, service, instance ID or version is empty, too long or has a forbidden character.
    case invalidName(field: String, name: String, reason: String)
    /// An instance has more metadata entries than `RegistryLimits.metadataEntries`.
    case tooManyMetadataEntries(count: Int, limit: Int)
    /// A metadata entry is longer than `RegistryLimits.metadataEntryBytes` or has an empty key.
    case invalidMetadataEntry(key: String, reason: String)
    /// An instance has more endpoints than `RegistryLimits.endpointsPerInstance`.
    case tooManyEndpoints(count: Int, limit: Int)
    /// An endpoint is not a `scheme://authority…` URL within `RegistryLimits.endpointBytes`.
    case invalidEndpoint(String, reason: String)
    /// Registering one more instance would exceed `RegistryLimits.instancesPerService`.
    case serviceFull(namespace: String, service: String, limit: Int)
    /// No live instance has that name.
    case instanceNotFound(namespace: String, service: String, id: String)
    /// The command carries an older incarnation than the registered instance: a stale process must never
    /// overwrite, update or remove its successor's record (fencing).
    case staleIncarnation(current: UInt64, offered: UInt64)
    /// Lease ID zero is reserved for "no lease".
    case invalidLeaseID
    /// No live lease has that ID.
    case leaseNotFound(LeaseID)
    /// A lease with that ID is already live; granting it again would silently merge two owners.
    case leaseAlreadyExists(LeaseID)
    /// A TTL outside `[minimumTTLMilliseconds, maximumTTLMilliseconds]`.
    case ttlOutOfRange(ttlMilliseconds: Int64, minimum: Int64, maximum: Int64)
    /// Granting one more lease would exceed `RegistryLimits.leases`.
    case tooManyLeases(limit: Int)
    /// A checkpoint or expiry batch longer than `RegistryLimits.leaseBatch`.
    case leaseBatchTooLarge(count: Int, limit: Int)
    /// Revisions are never negative.
    case negativeRevision(Revision)
    /// The revision has not happened yet.
    case futureRevision(Revision, current: Revision)
    /// The revision is at or below the compaction point, so its history is gone.
    case compactedRevision(Revision, compacted: Revision)
    /// An auth command (or an authorization) was refused.
    case auth(AuthRejection)
}
