import Foundation

/// Typed calls for the registry, leases, keys and the cluster. Each is one `send` with the right retry rule.
extension RosterClient {
    // MARK: - JSON helpers

    static func decode<T: Decodable>(_ type: T.Type, _ response: HTTPResponse) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(response.body))
        } catch {
            throw RosterClientError(
                .invalidResponse, "cannot decode \(T.self) from \(response.text.prefix(200))", cause: error,
                httpStatus: response.status)
        }
    }

    static func json(_ object: [String: Any]) throws -> [UInt8] {
        do {
            return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
        } catch {
            throw RosterClientError(.invalidArgument, "cannot encode the request body as JSON", cause: error)
        }
    }

    func readQuery(_ consistency: ReadConsistency, minRevision: Int64?) -> String {
        var parts: [String] = []
        if consistency == .serializable { parts.append("consistency=serializable") }
        if let minRevision { parts.append("min_revision=\(minRevision)") }
        return parts.joined(separator: "&")
    }

    private func instancePath(_ service: String, _ id: String) -> String {
        "/v1/services/\(Self.encode(service))/instances/\(Self.encode(id))"
    }

    // MARK: - Discovery

    /// The live instances of `service` and the revision the list reflects.
    /// - Parameters:
    ///   - consistency: `.linearizable` (default) sees every acknowledged write; `.serializable` is cheaper
    ///     and may lag, fine for cache refreshes.
    ///   - minRevision: Wait until the node has applied this revision (read-your-writes on any node).
    public func instances(
        of service: String, namespace: String? = nil, consistency: ReadConsistency = .linearizable,
        minRevision: Int64? = nil, timeout: Duration? = nil
    ) async throws -> InstanceList {
        struct Body: Decodable {
            var revision: Int64
            var instances: [ServiceInstance]
        }
        var query = readQuery(consistency, minRevision: minRevision)
        query += (query.isEmpty ? "" : "&") + "namespace=\(Self.encode(namespace ?? configuration.namespace))"
        let response = try await send(
            "GET", "/v1/services/\(Self.encode(service))?\(query)", idempotent: true, timeout: timeout)
        let body = try Self.decode(Body.self, response)
        return InstanceList(revision: body.revision, instances: body.instances)
    }

    /// One instance, or nil when it is not registered.
    public func instance(
        service: String, id: String, namespace: String? = nil, consistency: ReadConsistency = .linearizable,
        timeout: Duration? = nil
    ) async throws -> ServiceInstance? {
        struct Body: Decodable { var instance: ServiceInstance }
        var query = readQuery(consistency, minRevision: nil)
        query += (query.isEmpty ? "" : "&") + "namespace=\(Self.encode(namespace ?? configuration.namespace))"
        do {
            let response = try await send(
                "GET", instancePath(service, id) + "?\(query)", idempotent: true, timeout: timeout)
            return try Self.decode(Body.self, response).instance
        } catch let error as RosterClientError where error.code == .instanceNotFound {
            return nil
        }
    }

    /// Every service with its instance count.
    public func services(namespace: String? = nil, timeout: Duration? = nil) async throws -> [ServiceSummary] {
        struct Body: Decodable { var services: [ServiceSummary] }
        let path = "/v1/services?namespace=\(Self.encode(namespace ?? configuration.namespace))"
        return try Self.decode(Body.self, try await send("GET", path, idempotent: true, timeout: timeout)).services
    }

    // MARK: - Registration

    /// Registers (or re-registers) `instance`, attached to `instance.lease` if set, or to a new lease of `ttl`.
    ///
    /// Retried on unknown outcomes: registering the same id with the same incarnation again is harmless. With
    /// `ttl` a new lease is granted by every attempt, so an unknown outcome there can leave one unused lease,
    /// which expires by itself.
    /// - Returns: The instance as stored (with its lease) and the revision of the write.
    /// - Throws: `.staleIncarnation` when a newer incarnation is registered.
    @discardableResult
    public func register(_ instance: ServiceInstance, ttl: Duration? = nil, timeout: Duration? = nil) async throws
        -> (instance: ServiceInstance, revision: Int64)
    {
        struct Body: Decodable {
            var revision: Int64
            var instance: ServiceInstance
        }
        var object: [String: Any] = [
            "namespace": instance.namespace, "version": instance.version, "endpoints": instance.endpoints,
            "metadata": instance.metadata, "weight": instance.weight, "status": instance.status.rawValue,
            "incarnation": instance.incarnation,
        ]
        if let ttl {
            object["ttl"] = "\(Self.milliseconds(ttl))ms"
        } else if let lease = instance.lease {
            object["lease"] = lease.rawValue
        }
        let response = try await send(
            "PUT", instancePath(instance.service, instance.id), body: try Self.json(object), idempotent: ttl == nil,
            preferLeader: true, timeout: timeout)
        let body = try Self.decode(Body.self, response)
        return (body.instance, body.revision)
    }

    /// Changes an instance's status, weight or metadata; `incarnation` must not be older than the live one.
    @discardableResult
    public func update(
        service: String, id: String, namespace: String? = nil, incarnation: UInt64, status: InstanceStatus? = nil,
        weight: UInt32? = nil, metadata: [String: String]? = nil, timeout: Duration? = nil
    ) async throws -> ServiceInstance {
        struct Body: Decodable { var instance: ServiceInstance }
        var object: [String: Any] = [
            "namespace": namespace ?? configuration.namespace, "incarnation": incarnation,
        ]
        if let status { object["status"] = status.rawValue }
        if let weight { object["weight"] = weight }
        if let metadata { object["metadata"] = metadata }
        let response = try await send(
            "PATCH", instancePath(service, id), body: try Self.json(object), idempotent: true, preferLeader: true,
            timeout: timeout)
        return try Self.decode(Body.self, response).instance
    }

    /// Removes an instance; with `incarnation`, only if the live record is not newer.
    /// - Returns: The removed instance, or nil when it was not registered.
    @discardableResult
    public func deregister(
        service: String, id: String, namespace: String? = nil, incarnation: UInt64? = nil, timeout: Duration? = nil
    ) async throws -> ServiceInstance? {
        struct Body: Decodable { var instance: ServiceInstance }
        var path = instancePath(service, id) + "?namespace=\(Self.encode(namespace ?? configuration.namespace))"
        if let incarnation { path += "&incarnation=\(incarnation)" }
        do {
            let response = try await send("DELETE", path, idempotent: true, preferLeader: true, timeout: timeout)
            return try Self.decode(Body.self, response).instance
        } catch let error as RosterClientError where error.code == .instanceNotFound {
            return nil
        }
    }

    // MARK: - Leases

    /// Grants a lease of `ttl` (at least 1.5 × the cluster's election timeout).
    public func grantLease(ttl: Duration, id: LeaseID? = nil, timeout: Duration? = nil) async throws -> LeaseGrant {
        struct Body: Decodable { var lease: LeaseGrant }
        var object: [String: Any] = ["ttl": "\(Self.milliseconds(ttl))ms"]
        if let id { object["id"] = id.rawValue }
        // Not idempotent without an ID: a repeated grant makes a second lease (harmless, it expires).
        let response = try await send(
            "POST", "/v1/leases", body: try Self.json(object), idempotent: id == nil, preferLeader: true,
            timeout: timeout)
        return try Self.decode(Body.self, response).lease
    }

    /// Renews a lease to its full TTL.
    /// - Throws: `.leaseNotFound` when the lease expired or was revoked: grant a new one and register again.
    @discardableResult
    public func keepAlive(_ lease: LeaseID, timeout: Duration? = nil) async throws -> LeaseGrant {
        let response = try await send(
            "POST", "/v1/leases/\(lease.rawValue)/keepalive", idempotent: true, preferLeader: true, timeout: timeout)
        return try Self.decode(LeaseGrant.self, response)
    }

    /// Revokes a lease, removing every instance and key attached to it.
    /// - Returns: How many keys went with it; nil when the lease no longer existed.
    @discardableResult
    public func revokeLease(_ lease: LeaseID, timeout: Duration? = nil) async throws -> Int? {
        struct Body: Decodable {
            var deletedKeys: Int
            enum CodingKeys: String, CodingKey { case deletedKeys = "deleted_keys" }
        }
        do {
            let response = try await send(
                "DELETE", "/v1/leases/\(lease.rawValue)", idempotent: true, preferLeader: true, timeout: timeout)
            return try Self.decode(Body.self, response).deletedKeys
        } catch let error as RosterClientError where error.code == .leaseNotFound {
            return nil
        }
    }

    /// A lease's remaining time to live (and attached keys with `keys`), or nil when it does not exist.
    public func leaseTimeToLive(_ lease: LeaseID, keys: Bool = false, timeout: Duration? = nil) async throws
        -> LeaseStatus?
    {
        struct Body: Decodable { var lease: LeaseStatus }
        do {
            let response = try await send(
                "GET", "/v1/leases/\(lease.rawValue)\(keys ? "?keys=true" : "")", idempotent: true, timeout: timeout)
            return try Self.decode(Body.self, response).lease
        } catch let error as RosterClientError where error.code == .leaseNotFound {
            return nil
        }
    }

    /// Every live lease.
    public func leases(timeout: Duration? = nil) async throws -> [LeaseStatus] {
        struct Body: Decodable { var leases: [LeaseStatus] }
        return try Self.decode(Body.self, try await send("GET", "/v1/leases", idempotent: true, timeout: timeout))
            .leases
    }

    // MARK: - Keys

    /// The value of one key, or nil when absent.
    public func get(_ key: String, timeout: Duration? = nil) async throws -> KeyValue? {
        struct Body: Decodable { var kvs: [KeyValue] }
        let response = try await send("GET", "/v1/kv/\(Self.encode(key))", idempotent: true, timeout: timeout)
        return try Self.decode(Body.self, response).kvs.first
    }

    /// Writes a UTF-8 value, optionally attached to a lease; returns the write's revision.
    @discardableResult
    public func put(_ key: String, _ value: String, lease: LeaseID? = nil, timeout: Duration? = nil) async throws
        -> Int64
    {
        struct Body: Decodable { var revision: Int64 }
        var object: [String: Any] = ["value": value]
        if let lease { object["lease"] = lease.rawValue }
        let response = try await send(
            "PUT", "/v1/kv/\(Self.encode(key))", body: try Self.json(object), idempotent: true, preferLeader: true,
            timeout: timeout)
        return try Self.decode(Body.self, response).revision
    }

    /// Deletes one key (or every key under it with `prefix`); returns how many were deleted.
    @discardableResult
    public func delete(_ key: String, prefix: Bool = false, timeout: Duration? = nil) async throws -> Int {
        struct Body: Decodable { var deleted: Int }
        let response = try await send(
            "DELETE", "/v1/kv/\(Self.encode(key))\(prefix ? "?prefix=true" : "")", idempotent: true,
            preferLeader: true, timeout: timeout)
        return try Self.decode(Body.self, response).deleted
    }

    // MARK: - Cluster

    /// What the node this client prefers says about itself (`at` asks one node, with no failover).
    public func status(at endpoint: Endpoint? = nil, timeout: Duration? = nil) async throws -> NodeStatus {
        if let endpoint {
            let single = RosterClient(configuration: singleNode(endpoint))
            return try await single.status(timeout: timeout)
        }
        return try Self.decode(
            NodeStatus.self, try await send("GET", "/v1/cluster/status", idempotent: true, timeout: timeout))
    }

    /// The cluster's members.
    public func members(timeout: Duration? = nil) async throws -> [Member] {
        struct Body: Decodable { var members: [Member] }
        return try Self.decode(
            Body.self, try await send("GET", "/v1/cluster/members", idempotent: true, timeout: timeout)
        ).members
    }

    private func singleNode(_ endpoint: Endpoint) -> RosterClientConfiguration {
        var single = configuration
        single.endpoints = [endpoint]
        return single
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}

/// How fresh a read must be.
public enum ReadConsistency: Sendable {
    /// Sees every write acknowledged before the read began (ReadIndex through the leader).
    case linearizable
    /// The answering node's applied state, possibly behind; no round trip to the leader.
    case serializable
}
