import Codec
import Raft
import Registry

/// Identifies one client request on one node; the shell picks unique values.
public struct RequestID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (lhs: RequestID, rhs: RequestID) -> Bool { lhs.rawValue < rhs.rawValue }
    /// Every request is inserted into and removed from tables of open requests on the node and in the shell: no
    /// SipHash per lookup (`SeededMix`).
    public func _rawHashValue(seed: Int) -> Int { SeededMix.hash(rawValue, seed: seed) }
    public var description: String { "#\(rawValue)" }
}

/// How fresh a read must be.
public enum Consistency: String, Hashable, Sendable {
    /// Reflects every write acknowledged before the read began, on any node (ReadIndex, thesis §6.4).
    case linearizable
    /// Served from this node's applied state at once; may be stale. The answer says how stale.
    case serializable
}

/// Read options shared by every query.
public struct ReadOptions: Equatable, Sendable {
    public var consistency: Consistency
    /// Wait (bounded by the request timeout) until this node has applied at least this revision:
    /// read-your-writes on any node without a round trip to the leader.
    public var minRevision: Revision?

    public init(consistency: Consistency = .linearizable, minRevision: Revision? = nil) {
        self.consistency = consistency
        self.minRevision = minRevision
    }
}

/// A question about the registry state.
public enum RegistryQuery: Equatable, Sendable {
    case range(RangeRequest)
    /// A range as it was at an older revision inside the history window (etcd's range `revision`).
    case rangeAt(RangeRequest, Revision)
    case instances(namespace: String, service: String)
    case instance(InstanceName)
    /// A service's instances, or one instance, as they were at an older revision inside the history window;
    /// answered as `.instances` / `.instance`, stamped with that revision.
    case instancesAt(namespace: String, service: String, Revision)
    case instanceAt(InstanceName, Revision)
    case services(namespace: String)
    case lease(LeaseID, includeKeys: Bool)
    case leases
    /// The state hash at a revision (current if nil), to compare members.
    case hash(Revision?)
}

/// A cluster administration request.
public enum AdminRequest: Hashable, Sendable {
    /// Adds a non-voting member reachable at `peerAddress` ("host:port").
    case addLearner(name: String, peerAddress: String)
    /// Adds a member that votes once it has caught up (etcd's MemberAdd without `is_learner`): it joins as a
    /// learner, and the leader promotes it as soon as it holds 90 % of the log, so an added member that is
    /// slow to start never counts toward a quorum it cannot yet help form.
    case addVoter(name: String, peerAddress: String)
    case promote(name: String)
    case remove(name: String)
    /// Records a new peer address for a member, replicated through the member directory (etcd's
    /// MemberUpdate); every node connects to the member there from then on.
    case updatePeerAddress(name: String, peerAddress: String)
    /// Hands leadership to `name`, or to the most up-to-date other voter when nil.
    case transferLeadership(to: String?)
}

/// Everything a client can ask of a node.
public enum NodeRequest: Equatable, Sendable {
    /// A registry write; proposed on the leader (forwarded there from a follower).
    case write(RegistryCommand)
    /// Registers `instance` under a new lease of `ttlMilliseconds` (the HTTP API's `"ttl"`): the
    /// driver grants the lease, then registers the instance with it (`instance.lease` is replaced),
    /// and answers once: with the registration's outcome, or with the grant's failure (then nothing
    /// was registered). A registration that does not apply revokes the lease, so no orphan lease
    /// lingers for a TTL.
    case registerWithLease(ServiceInstance, ttlMilliseconds: Int64, authRevision: UInt64? = nil)
    /// Renews a lease on the leader (forwarded from a follower); not a log entry.
    case keepAlive(LeaseID)
    case read(RegistryQuery, ReadOptions)
    /// Waits, as a linearizable read does, until this node has applied every write acknowledged anywhere before the
    /// request arrived (a read index, then applying up to it), and answers `.readBarrierPassed` with the index then
    /// applied. The server's I/O loops ask one on behalf of all the linearizable reads that arrived in one loop turn,
    /// then answer them from a published view of the applied state taken at or after that index (`LocalReadView`).
    case readBarrier
    case admin(AdminRequest)

    /// Whether the request may change the registry (so a lost answer leaves its outcome unknown).
    public var isWrite: Bool {
        switch self {
        case .write, .registerWithLease: true
        case .keepAlive, .read, .readBarrier, .admin: false
        }
    }
}

/// The answer to a `NodeRequest`.
public enum NodeResponse: Equatable, Sendable {
    /// The write applied, on this node, at `revision`.
    case written(AppliedCommand)
    /// The registry refused the request; nothing changed. `evaluatedAt` is the registry revision at which
    /// the refusal was decided (for a write, the revision when its log entry applied), so a client recording
    /// history can place a "did not exist" answer, as etcd's response header revision does.
    case rejected(RegistryRejection, evaluatedAt: Revision)
    case keptAlive(LeaseID, ttlMilliseconds: Int64)
    case read(QueryResult, ReadContext)
    /// A `readBarrier` passed: the node's applied index, at or after the barrier's read index, when it did.
    case readBarrierPassed(appliedIndex: UInt64)
    case admin(AdminResult)
    case failed(NodeFailure)
}

/// The result of a `RegistryQuery`.
public enum QueryResult: Equatable, Sendable {
    case range(RangeResult)
    case instances(InstanceList)
    /// The instance's record (nil: no live instance); `KeyValue.instance` decodes it.
    case instance(KeyValue?)
    case services(ServiceList)
    case lease(LeaseStatus)
    case leases([LeaseStatus])
    case hash(StateHash)
}

/// How a read was served, so a client can judge its freshness.
public struct ReadContext: Equatable, Sendable {
    /// The registry revision the answer reflects.
    public var revision: Revision
    public var consistency: Consistency
    /// Milliseconds since this node last heard from a leader (0 on the leader); nil if it never did.
    public var leaderContactAgeMilliseconds: UInt64?

    public init(revision: Revision, consistency: Consistency, leaderContactAgeMilliseconds: UInt64?) {
        self.revision = revision
        self.consistency = consistency
        self.leaderContactAgeMilliseconds = leaderContactAgeMilliseconds
    }
}

public enum AdminResult: Equatable, Sendable {
    /// The membership change (or directory update) applied on the node that answers; the configuration
    /// now in force.
    case membershipChanged(Configuration)
    case transferStarted(to: NodeID)
}

/// Why a request did not complete. Each case says whether the write may have happened.
public enum NodeFailure: Equatable, Sendable {
    /// No leader is known. Nothing was applied; retry after `retryAfterMilliseconds`.
    case noLeader(retryAfterMilliseconds: UInt64)
    /// The leader refused before appending (limits, transfer in progress). Nothing was applied.
    case leaderBusy(reason: String)
    /// The entry was lost in a leader change: another entry committed at its index. Nothing was
    /// applied; retrying is safe.
    case notApplied
    /// The outcome cannot be known (the leader was lost after it may have appended the write).
    /// Registering the same instance again is harmless.
    case indeterminate(reason: String)
    /// A linearizable read could not be confirmed (leadership changed); retry.
    case readNotConfirmed(ReadFailure)
    /// The request did not finish within its timeout.
    case timedOut
    /// The node refuses new work while shutting down.
    case shuttingDown
    /// A membership or transfer request was refused; nothing changed.
    case membershipRefused(AdminRefusal)
    /// Too many requests are waiting on this node.
    case overloaded(limit: Int)
    /// A NOSPACE alarm is raised (by `members`): writes that add data are refused until an operator makes room
    /// and disarms it (`AlarmDirectory`). Nothing was applied.
    case noSpace(members: [String])
}
