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

    /// What the event counts against `RegistryLimits.historyBytes`: its key and the key and value of each
    /// record it carries, plus a fixed 64 bytes per event and per record for the rest. A deterministic
    /// function of the event (never of allocator behaviour), since the budget decides what every replica
    /// compacts; close to the event's size in a snapshot and a lower bound on its size in memory.
    public var retainedBytes: Int {
        64 + key.count + (current.map { 64 + $0.key.count + $0.value.count } ?? 0)
            + (previous.map { 64 + $0.key.count + $0.value.count } ?? 0)
    }

    /// Whether this put created the key, etcd's `IsCreate`.
    public var isCreate: Bool { kind == .put && current?.version == 1 }
}
