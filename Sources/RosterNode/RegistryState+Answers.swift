import Registry

extension RegistryQuery {
    /// Whether the applied state alone answers this query. A lease's remaining TTL is the leader's own countdown
    /// (`LeaseKeeper`), which lives with the driver, so only the driver answers lease queries.
    public var isAnsweredByStateAlone: Bool {
        switch self {
        case .lease: false
        case .range, .rangeAt, .instances, .instance, .instancesAt, .instanceAt, .services, .leases, .hash: true
        }
    }
}

extension RegistryState {
    /// A read's answer from this applied state: what the driver serves, and what a copy of the state handed to
    /// another thread serves for serializable reads (`isAnsweredByStateAlone`), with one code path for both.
    ///
    /// - Parameters:
    ///   - leaderContactAgeMilliseconds: how long ago this node last heard from a leader (0 on the leader).
    ///   - leaseRemaining: a lease's remaining TTL as the leader counts it, nil where unknown (then the TTL the
    ///     state holds is reported).
    public func answer(
        _ query: RegistryQuery, options readOptions: ReadOptions, leaderContactAgeMilliseconds: UInt64?,
        leaseRemaining: (LeaseID) -> Int64? = { _ in nil }
    ) -> NodeResponse {
        var context = ReadContext(
            revision: revision, consistency: readOptions.consistency, leaderContactAgeMilliseconds: leaderContactAgeMilliseconds)
        do {
            let result: QueryResult
            switch query {
            case .range(let request): result = .range(try range(request))
            case .rangeAt(let request, let revision): result = .range(try range(request, atRevision: revision))
            case .instances(let namespace, let service): result = .instances(try instances(namespace: namespace, service: service))
            case .instance(let name): result = .instance(instanceRecord(named: name))
            case .instancesAt(let namespace, let service, let revision):
                result = .instances(try instances(namespace: namespace, service: service, atRevision: revision))
                context.revision = revision
            case .instanceAt(let name, let revision):
                result = .instance(try instanceRecord(named: name, atRevision: revision))
                context.revision = revision
            case .services(let namespace): result = .services(try services(namespace: namespace))
            case .lease(let lease, let includeKeys):
                var status = try timeToLive(lease, includeKeys: includeKeys)
                if let remaining = leaseRemaining(lease) { status.remainingTTLMilliseconds = remaining }
                result = .lease(status)
            case .leases: result = .leases(leases())
            case .hash(let revision): result = .hash(try stateHash(atRevision: revision))
            }
            return .read(result, context)
        } catch {
            return .rejected(error, evaluatedAt: revision)
        }
    }
}
