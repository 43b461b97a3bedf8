/// The instances of one service at a revision.
///
/// Holds the records, not decoded instances: a listing's answer is mostly already-encoded bytes (the
/// server caches each record's JSON by its value), so decoding 100 instances per read only to encode
/// them again would be most of the cost of a read.
public struct InstanceList: Equatable, Sendable {
    /// The instance records in key order (by ID bytes); every one has `isInstance` set.
    public var records: [KeyValue]
    public var revision: Revision

    public init(records: [KeyValue], revision: Revision) {
        self.records = records
        self.revision = revision
    }

    /// The instances, decoded, in key order.
    public var instances: [ServiceInstance] { records.compactMap(\.instance) }
}

/// A service and how many live instances it has.
public struct ServiceSummary: Equatable, Sendable {
    public var name: String
    public var instanceCount: Int
}

/// The services of one namespace at a revision.
public struct ServiceList: Equatable, Sendable {
    /// Services with at least one instance, by name bytes.
    public var services: [ServiceSummary]
    public var revision: Revision
}

// MARK: - Reads

extension RegistryState {
    /// The live instances of a service.
    /// - Throws: `RegistryRejection.invalidName` for an invalid namespace or service.
    /// - Complexity: O(log n + instances of the service).
    public func instances(namespace: String, service: String) throws(RegistryRejection) -> InstanceList {
        let probe = InstanceName(namespace: namespace, service: service, id: "x")
        if let rejection = probe.validate(limits: limits) { throw rejection }
        let prefix = InstanceName.servicePrefix(namespace: namespace, service: service)
        var records: [KeyValue] = []
        records.reserveCapacity(instanceCounts[ServiceKey(namespace: namespace, service: service)] ?? 0)
        index.forEach(from: prefix) { key in
            guard hasBytePrefix(key, prefix) else { return false }
            if let record = entries[key], record.isInstance { records.append(record) }
            return true
        }
        return InstanceList(records: records, revision: revision)
    }

    /// The services of a namespace with their instance counts.
    /// - Complexity: O(s log s) for s services in all namespaces.
    public func services(namespace: String) throws(RegistryRejection) -> ServiceList {
        let probe = InstanceName(namespace: namespace, service: "x", id: "x")
        if let rejection = probe.validate(limits: limits) { throw rejection }
        let services = instanceCounts.filter { $0.key.namespace == namespace }
            .map { ServiceSummary(name: $0.key.service, instanceCount: $0.value) }
            .sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        return ServiceList(services: services, revision: revision)
    }

    /// One live instance, or nil.
    public func instance(named name: InstanceName) -> ServiceInstance? {
        entries[name.key]?.instance
    }

    /// One live instance's record (key, revisions, value), or nil: what a read answers with, so the answer's JSON
    /// can come from a cache keyed by the record instead of decoding and encoding the instance on every read.
    public func instanceRecord(named name: InstanceName) -> KeyValue? {
        guard let record = entries[name.key], record.isInstance else { return nil }
        return record
    }
}

// MARK: - Commands

extension RegistryState {
    mutating func applyRegister(_ instance: ServiceInstance, into changes: inout ChangeSet)
        -> Result<CommandResponse, RegistryRejection>
    {
        if let rejection = instance.validate(limits: limits) { return .failure(rejection) }
        let value = instance.encoded()
        if value.count > limits.valueBytes { return .failure(.valueTooLong(bytes: value.count, limit: limits.valueBytes)) }
        let key = instance.name.key
        if key.count > limits.keyBytes { return .failure(.keyTooLong(bytes: key.count, limit: limits.keyBytes)) }
        if let rejection = checkRequestSize(key.count + value.count) { return .failure(rejection) }
        if let lease = instance.lease, leaseTable[lease] == nil { return .failure(.leaseNotFound(lease)) }
        let existing = entries[key]
        let previous = existing?.instance
        if let previous, previous.incarnation > instance.incarnation {
            return .failure(.staleIncarnation(current: previous.incarnation, offered: instance.incarnation))
        }
        if previous == nil {
            let service = ServiceKey(namespace: instance.namespace, service: instance.service)
            if (instanceCounts[service] ?? 0) >= limits.instancesPerService {
                return .failure(
                    .serviceFull(
                        namespace: instance.namespace, service: instance.service, limit: limits.instancesPerService))
            }
        }
        writeInstanceRecord(instance, value: value, lease: instance.lease, cause: .registered, into: &changes)
        return .success(.instanceRegistered(instance, previous: previous))
    }

    mutating func applyUpdate(_ update: InstanceUpdate, into changes: inout ChangeSet)
        -> Result<CommandResponse, RegistryRejection>
    {
        if let rejection = update.name.validate(limits: limits) { return .failure(rejection) }
        if let metadata = update.metadata, let rejection = RegistryValidation.metadata(metadata, limits: limits) {
            return .failure(rejection)
        }
        let key = update.name.key
        guard let record = entries[key], var instance = record.instance else {
            return .failure(.instanceNotFound(namespace: update.name.namespace, service: update.name.service, id: update.name.id))
        }
        if let offered = update.incarnation, instance.incarnation != offered {
            return .failure(.staleIncarnation(current: instance.incarnation, offered: offered))
        }
        if let status = update.status { instance.status = status }
        if let metadata = update.metadata { instance.metadata = metadata }
        if let weight = update.weight { instance.weight = weight }
        let value = instance.encoded()
        if value.count > limits.valueBytes { return .failure(.valueTooLong(bytes: value.count, limit: limits.valueBytes)) }
        if let rejection = checkRequestSize(key.count + value.count) { return .failure(rejection) }
        writeInstanceRecord(instance, value: value, lease: instance.lease, cause: .updated, into: &changes)
        return .success(.instanceUpdated(instance))
    }

    mutating func applyDeregister(_ name: InstanceName, incarnation: UInt64?, into changes: inout ChangeSet)
        -> Result<CommandResponse, RegistryRejection>
    {
        if let rejection = name.validate(limits: limits) { return .failure(rejection) }
        let key = name.key
        guard let record = entries[key], let instance = record.instance else {
            return .failure(.instanceNotFound(namespace: name.namespace, service: name.service, id: name.id))
        }
        if let incarnation, instance.incarnation > incarnation {
            return .failure(.staleIncarnation(current: instance.incarnation, offered: incarnation))
        }
        removeLinked(key: key, cause: .deregistered, into: &changes)
        return .success(.instanceDeregistered(instance))
    }
}

extension RegistryState {
    /// Registered instances across every service, for metrics.
    public var instanceCount: Int { instanceCounts.values.reduce(0, +) }
}
