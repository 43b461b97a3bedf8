/// One change of one key, as watchers see it.
///
/// Events are ordered by revision; the events of one revision (a transaction, a revoke that deletes many
/// keys) keep the order the command produced them in: operation order for transactions, key byte order
/// for range deletes and lease ends, lease ID order across the leases of one expiry batch.
public struct RegistryEvent: Equatable, Sendable {
    /// The revision of the command that made the change.
    public var revision: Revision
    public var kind: Kind
    /// Why the key changed; instance causes for instance records.
    public var cause: Cause
    public var key: [UInt8]
    /// The key after the change; nil for a delete.
    public var current: KeyValue?
    /// The key before the change; nil when the change created it. Always present for deletes.
    public var previous: KeyValue?

    public init(
        revision: Revision, kind: Kind, cause: Cause, key: [UInt8], current: KeyValue?, previous: KeyValue?
    ) {
        self.revision = revision
        self.kind = kind
        self.cause = cause
        self.key = key
        self.current = current
        self.previous = previous
    }

    /// etcd's event type.
    public enum Kind: UInt8, Sendable, CaseIterable {
        case put = 1
        case delete = 2
    }

    /// What caused a change.
    public enum Cause: UInt8, Sendable, CaseIterable {
        /// A plain put (alone or in a transaction).
        case put = 1
        /// A plain delete (range delete, alone or in a transaction).
        case delete = 2
        /// `registerInstance` created or replaced the record.
        case registered = 3
        /// `updateInstance` changed status, metadata or weight.
        case updated = 4
        /// `deregisterInstance` removed the record.
        case deregistered = 5
        /// The key's lease expired (proposed by the leader's `LeaseKeeper`).
        case leaseExpired = 6
        /// The key's lease was revoked by a client.
        case leaseRevoked = 7
    }

    /// Whether this put created the key, etcd's `IsCreate`.
    public var isCreate: Bool { kind == .put && current?.version == 1 }
}

/// Which keys a watch or a resync covers.
public struct WatchFilter: Hashable, Sendable {
    public var range: KeyRange

    public init(range: KeyRange) { self.range = range }

    /// One key.
    public static func key(_ key: [UInt8]) -> WatchFilter { WatchFilter(range: .key(key)) }
    /// Every key with a prefix.
    public static func prefix(_ prefix: [UInt8]) -> WatchFilter { WatchFilter(range: .prefix(prefix)) }
    /// Every instance of a service.
    public static func service(namespace: String, service: String) -> WatchFilter {
        WatchFilter(range: .prefix(InstanceName.servicePrefix(namespace: namespace, service: service)))
    }
    /// The whole key space.
    public static let all = WatchFilter(range: .prefix([]))

    /// Whether events of `key` pass the filter.
    public func matches(_ key: [UInt8]) -> Bool { range.contains(key) }
}

/// What a watcher gets when it asks for events after a revision.
public enum WatchBatch: Equatable, Sendable {
    /// Every matching event with a revision in `(after, through]`, in order. Ask again with
    /// `after: through`. No events and `through` equal to the current revision is a progress
    /// notification.
    case events([RegistryEvent], through: Revision)
    /// The requested start was compacted away, so instead of failing the watch this is the full matching
    /// state at `revision` (keys in byte order); continue with events after `revision`.
    case resync([KeyValue], revision: Revision)
}
