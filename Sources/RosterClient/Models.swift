import Foundation

/// A lease's ID: a positive integer the cluster assigns when it grants the lease.
public struct LeaseID: RawRepresentable, Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (left: LeaseID, right: LeaseID) -> Bool { left.rawValue < right.rawValue }
    public var description: String { String(rawValue) }
}

/// Whether an instance takes new traffic.
public enum InstanceStatus: String, Codable, Sendable {
    /// Serving.
    case up
    /// Finishing its work: pickers skip it, but it is still registered.
    case draining
}

/// One registered endpoint of a service, as the cluster stores it.
///
/// The fields mirror go-kratos' `ServiceInstance` (id, name → `service`, version, metadata, endpoints) plus
/// kitex' `weight`, a `status` for draining and the `incarnation` that fences stale copies.
public struct ServiceInstance: Codable, Hashable, Sendable {
    public var namespace: String
    public var service: String
    public var id: String
    public var version: String
    /// URLs such as `grpc://10.0.0.5:9000`.
    public var endpoints: [String]
    public var metadata: [String: String]
    /// Relative load-balancing weight (server default 100); 0 means "send nothing new".
    public var weight: UInt32
    public var status: InstanceStatus
    /// The lease that keeps the instance alive, if any.
    public var lease: LeaseID?
    /// Fencing counter: a write carrying a lower incarnation than the live record is refused.
    public var incarnation: UInt64

    /// Creates an instance description.
    public init(
        service: String, id: String, endpoints: [String], namespace: String = "default", version: String = "",
        metadata: [String: String] = [:], weight: UInt32 = 100, status: InstanceStatus = .up,
        lease: LeaseID? = nil, incarnation: UInt64 = 0
    ) {
        self.namespace = namespace
        self.service = service
        self.id = id
        self.version = version
        self.endpoints = endpoints
        self.metadata = metadata
        self.weight = weight
        self.status = status
        self.lease = lease
        self.incarnation = incarnation
    }

    /// The key the registry stores the instance under: `<namespace>/<service>/<id>`.
    public var key: String { "\(namespace)/\(service)/\(id)" }
}

/// A service's instances and the revision the list reflects.
public struct InstanceList: Sendable, Equatable {
    public var revision: Int64
    public var instances: [ServiceInstance]
}

/// A service name with its number of live instances.
public struct ServiceSummary: Codable, Sendable, Equatable {
    public var name: String
    public var instances: Int
}

/// A granted lease.
public struct LeaseGrant: Codable, Sendable, Equatable {
    public var id: LeaseID
    public var ttlMilliseconds: Int64
    enum CodingKeys: String, CodingKey {
        case id
        case ttlMilliseconds = "ttl_ms"
    }
}

/// A lease's time to live.
public struct LeaseStatus: Codable, Sendable, Equatable {
    public var id: LeaseID
    public var grantedTTLMilliseconds: Int64
    public var remainingTTLMilliseconds: Int64
    public var keys: [String]
    enum CodingKeys: String, CodingKey {
        case id
        case grantedTTLMilliseconds = "granted_ttl_ms"
        case remainingTTLMilliseconds = "remaining_ttl_ms"
        case keys
    }
}

/// One key of the revisioned key space; `instance` is set for instance records, `value` otherwise
/// (`valueBase64` for values that are not UTF-8).
public struct KeyValue: Codable, Sendable, Equatable {
    public var key: String?
    public var keyBase64: String?
    public var value: String?
    public var valueBase64: String?
    public var instance: ServiceInstance?
    public var createRevision: Int64
    public var modRevision: Int64
    public var version: Int64
    public var lease: LeaseID?
    enum CodingKeys: String, CodingKey {
        case key
        case keyBase64 = "key_base64"
        case value
        case valueBase64 = "value_base64"
        case instance
        case createRevision = "create_revision"
        case modRevision = "mod_revision"
        case version, lease
    }
}

/// What one node says about itself (`GET /v1/cluster/status`).
public struct NodeStatus: Codable, Sendable, Equatable {
    public var name: String
    public var id: String
    /// "leader", "follower", "candidate", "pre_candidate" or "learner".
    public var role: String
    public var term: UInt64
    public var leader: String?
    public var commitIndex: UInt64
    public var appliedIndex: UInt64
    public var revision: Int64
    public var compactedRevision: Int64
    public var leaderContactMilliseconds: UInt64?
    enum CodingKeys: String, CodingKey {
        case name, id, role, term, leader, revision
        case commitIndex = "commit_index"
        case appliedIndex = "applied_index"
        case compactedRevision = "compacted_revision"
        case leaderContactMilliseconds = "leader_contact_ms"
    }
}

/// A cluster member (`GET /v1/cluster/members`).
public struct Member: Codable, Sendable, Equatable {
    public var name: String
    public var id: String
    public var peerAddress: String
    public var clientAddress: String?
    /// "voter", "learner" or "unknown".
    public var role: String
    public var isLeader: Bool
    enum CodingKeys: String, CodingKey {
        case name, id, role
        case peerAddress = "peer_address"
        case clientAddress = "client_address"
        case isLeader = "is_leader"
    }
}

/// One change from a watch.
public struct WatchEvent: Codable, Sendable, Equatable {
    /// "put" or "delete".
    public var type: String
    /// Why: "registered", "updated", "deregistered", "lease_expired", "lease_revoked", "put", "delete".
    public var cause: String
    public var revision: Int64
    public var key: String?
    public var keyBase64: String?
    /// The instance after the change (puts of instance records).
    public var instance: ServiceInstance?
    public var value: String?
    public var valueBase64: String?
    enum CodingKeys: String, CodingKey {
        case type, cause, revision, key, instance, value
        case keyBase64 = "key_base64"
        case valueBase64 = "value_base64"
    }

    /// True when the change removed the key.
    public var isDelete: Bool { type == "delete" }
}
