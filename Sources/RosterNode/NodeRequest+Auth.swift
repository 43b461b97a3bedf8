import Registry

/// What each node request needs from its user when auth is on: the single place that decides, so that every
/// front end (native HTTP, etcd gRPC, the console) enforces the same rules.
///
/// etcd's rules: reads need read and writes need write on every key they touch, a transaction needs read on
/// every compare and the access of every operation in both branches (its outcome is not known in advance), a
/// lease revoke needs write on every key attached to the lease; membership, maintenance, compaction and the
/// auth store itself need the root role; lease grants and keepalives need only a valid user.
extension NodeRequest {
    /// The requirement of this request against `registry` (for lease revocations, whose keys live there).
    public func authRequirement(in registry: RegistryState) -> AuthRequirement {
        switch self {
        case .write(let command): command.authRequirement(in: registry)
        case .registerWithLease(let instance, _, _): .keys([KeyAccess(.write, .key(instance.name.key))])
        // A barrier reveals nothing but that the node caught up; the reads it stands for are checked on their own.
        case .keepAlive, .readBarrier: .authenticated
        case .read(let query, _): query.authRequirement
        case .admin: .root
        }
    }

    /// The request with its writes carrying the auth revision its permission was checked at, so that they apply
    /// only while auth is still at that revision (see `RegistryCommand.authChecked`); a revision it already
    /// carries is kept.
    public func checked(atAuthRevision authRevision: UInt64) -> NodeRequest {
        switch self {
        case .write(let command): .write(command.checked(atAuthRevision: authRevision))
        case .registerWithLease(let instance, let ttl, let checked):
            .registerWithLease(instance, ttlMilliseconds: ttl, authRevision: checked ?? authRevision)
        case .keepAlive, .read, .readBarrier, .admin: self
        }
    }
}

extension RegistryCommand {
    /// The requirement of this command against `registry`.
    public func authRequirement(in registry: RegistryState) -> AuthRequirement {
        switch self {
        case .put(let request): .keys([KeyAccess(.write, .key(request.key))])
        case .deleteRange(let request): .keys([KeyAccess(.write, request.range)])
        case .transaction(let request): .keys(request.keyAccesses)
        case .grantLease: .authenticated
        case .revokeLease(let id):
            .keys((registry.lease(id)?.sortedKeys ?? []).map { KeyAccess(.write, .key($0)) })
        case .checkpointLeases, .elapseLeases, .expireLeases, .compact, .auth: .root
        case .registerInstance(let instance): .keys([KeyAccess(.write, .key(instance.name.key))])
        case .updateInstance(let update): .keys([KeyAccess(.write, .key(update.name.key))])
        case .deregisterInstance(let name, _): .keys([KeyAccess(.write, .key(name.key))])
        case .authChecked(_, let command): command.authRequirement(in: registry)
        }
    }
}

extension TransactionRequest {
    /// Read on every compare, and every operation's access in both branches, nested ones included.
    var keyAccesses: [KeyAccess] {
        var accesses = compares.map { KeyAccess(.read, $0.range ?? .key($0.key)) }
        for operation in success + failure {
            switch operation {
            case .range(let request): accesses.append(KeyAccess(.read, request.range))
            case .put(let request): accesses.append(KeyAccess(.write, .key(request.key)))
            case .deleteRange(let request): accesses.append(KeyAccess(.write, request.range))
            case .transaction(let nested): accesses += nested.keyAccesses
            }
        }
        return accesses
    }
}

extension RegistryQuery {
    /// Reads need read on what they show; a service's instances are its key prefix.
    public var authRequirement: AuthRequirement {
        switch self {
        case .range(let request), .rangeAt(let request, _): .keys([KeyAccess(.read, request.range)])
        case .instances(let namespace, let service), .instancesAt(let namespace, let service, _): .keys([KeyAccess(.read, .prefix(Array("\(namespace)/\(service)/".utf8)))])
        case .instance(let name), .instanceAt(let name, _): .keys([KeyAccess(.read, .key(name.key))])
        case .services(let namespace): .keys([KeyAccess(.read, .prefix(Array("\(namespace)/".utf8)))])
        case .lease, .leases: .authenticated
        case .hash: .root
        }
    }
}
