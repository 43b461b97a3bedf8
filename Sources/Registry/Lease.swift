/// A lease as replicated on every node: its granted TTL, the remaining TTL last checkpointed by a leader,
/// and the keys it deletes when it ends.
///
/// Deliberately no deadline: absolute time exists only on the leader, in `LeaseKeeper`, because followers'
/// clocks need not agree with it. What survives a leader change is `remainingTTLMilliseconds`; see
/// `LeaseKeeper` for the exact semantics.
public struct Lease: Equatable, Sendable {
    /// Never zero.
    public let id: LeaseID
    /// The TTL the lease was granted with; every keepalive renews to this.
    public let grantedTTLMilliseconds: Int64
    /// The remaining TTL as of the last `checkpointLeases` that named this lease (the granted TTL until
    /// then), counted down by every `elapseLeases` since. A new leader restarts the countdown from here,
    /// plus its election grace.
    public internal(set) var remainingTTLMilliseconds: Int64
    /// Keys attached to the lease.
    var keys: Set<HashedKey>

    init(id: LeaseID, grantedTTLMilliseconds: Int64) {
        self.id = id
        self.grantedTTLMilliseconds = grantedTTLMilliseconds
        self.remainingTTLMilliseconds = grantedTTLMilliseconds
        self.keys = []
    }

    /// Attached keys in byte order.
    public var sortedKeys: [[UInt8]] { keys.map(\.bytes).sorted { compareBytes($0, $1) < 0 } }

    /// Number of attached keys.
    public var keyCount: Int { keys.count }
}

/// The answer to a time-to-live query (etcd's `LeaseTimeToLive`), as replicated state knows it.
///
/// `remainingTTLMilliseconds` is the last checkpoint; the leader's `LeaseKeeper.remainingMilliseconds`
/// knows the live countdown, and a node serving the query should prefer that when it is the leader.
public struct LeaseStatus: Equatable, Sendable {
    public var id: LeaseID
    public var grantedTTLMilliseconds: Int64
    public var remainingTTLMilliseconds: Int64
    /// Attached keys in byte order; empty unless requested.
    public var keys: [[UInt8]]
    /// The revision this answer reflects.
    public var revision: Revision
}

/// One lease's remaining TTL as measured by the leader, carried by `checkpointLeases`.
public struct LeaseCheckpoint: Equatable, Sendable {
    public var id: LeaseID
    public var remainingMilliseconds: Int64

    public init(id: LeaseID, remainingMilliseconds: Int64) {
        self.id = id
        self.remainingMilliseconds = remainingMilliseconds
    }
}
