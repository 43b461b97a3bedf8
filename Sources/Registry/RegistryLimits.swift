/// Every bound the registry enforces, in one place.
///
/// A command that would exceed a limit is rejected with a typed `RegistryRejection` and changes nothing;
/// decoders check the same limits before allocating. Defaults follow etcd where etcd documents one
/// (request size, operations per transaction, lease TTL bounds) and are otherwise sized for a registry of a
/// few hundred thousand instances. All replicas MUST run with the same limits, since limits decide which
/// commands apply.
public struct RegistryLimits: Equatable, Sendable {
    /// Largest encoded command, etcd's `--max-request-bytes` default of 1.5 MiB.
    public var requestBytes: Int = 1_572_864
    /// Most compares plus operations in one branch of a transaction, etcd's `--max-txn-ops` default.
    public var transactionOperations: Int = 128
    /// Longest key.
    public var keyBytes: Int = 4_096
    /// Longest value, including an encoded instance.
    public var valueBytes: Int = 1_048_576
    /// Longest namespace, service name or instance ID.
    public var nameBytes: Int = 128
    /// Longest instance version string.
    public var versionBytes: Int = 128
    /// Most metadata entries on one instance.
    public var metadataEntries: Int = 64
    /// Longest metadata entry, key plus value.
    public var metadataEntryBytes: Int = 1_024
    /// Most endpoints on one instance.
    public var endpointsPerInstance: Int = 16
    /// Longest endpoint URL.
    public var endpointBytes: Int = 256
    /// Most live instances registered under one service.
    public var instancesPerService: Int = 10_000
    /// Most live leases.
    public var leases: Int = 1_000_000
    /// Most lease IDs in one `checkpointLeases` or `expireLeases` command, so that one entry stays small.
    public var leaseBatch: Int = 1_000
    /// Shortest TTL a lease may be granted; see `init(electionTimeoutMilliseconds:)`.
    public var minimumTTLMilliseconds: Int64 = 2_000
    /// Longest TTL a lease may be granted: etcd's `MaxLeaseTTL` of 9,000,000,000 s.
    public var maximumTTLMilliseconds: Int64 = 9_000_000_000_000
    /// Revisions of event history kept for watches; older revisions are compacted automatically.
    public var historyRevisions: Int64 = 10_000
    /// Most events kept in the history, whatever their revisions; bounds memory when one revision deletes
    /// many keys.
    public var historyEvents: Int = 100_000
    /// Most bytes of events kept in the history (`RegistryEvent.retainedBytes`, which counts every key and
    /// value an event carries), whatever their count: bounds memory when events are large or one revision
    /// deletes many keys. The history is held twice, in memory and inside the latest snapshot (which the
    /// node keeps to send to followers), so this costs about twice its value in RAM. 16 MiB holds the whole
    /// 10,000-revision window for records up to ~700 bytes; a watcher further behind gets a resync.
    public var historyBytes: Int = 16 << 20

    /// The default limits, with a 2 s minimum TTL (an election timeout of 1 s, etcd's default).
    public init() {}

    /// Default limits whose minimum TTL is ceil(1.5 × election timeout), etcd's rule: a shorter lease could
    /// expire during one ordinary election, before its holder can even reach the new leader.
    public init(electionTimeoutMilliseconds: Int64) {
        precondition(electionTimeoutMilliseconds > 0, "election timeout \(electionTimeoutMilliseconds) ms")
        minimumTTLMilliseconds = (3 * electionTimeoutMilliseconds + 1) / 2
    }

    /// The defaults.
    public static let standard = RegistryLimits()
}
