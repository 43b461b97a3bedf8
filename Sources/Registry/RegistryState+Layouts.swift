/// Framework layouts on the state machine: how a write or delete of one view of an instance writes or deletes
/// the other view in the same command, at the same revision (the rules are listed on `LayoutLink`).
///
/// Every write that may touch a pair goes through `writePair` and every removal through `removeLinked`; with no
/// layouts configured and no links present both are exactly `writeRecord`/`removeRecord`.
extension RegistryState {
    /// One record of a pair about to be written.
    struct PairMember {
        var key: [UInt8]
        var value: [UInt8]
        var isInstance: Bool
        var cause: RegistryEvent.Cause
    }

    // MARK: - Deriving the other view

    /// The layout whose keys include `key`, if any.
    func layout(containing key: [UInt8]) -> FrameworkLayout? {
        layouts.first { hasBytePrefix(key, $0.keyPrefix) }
    }

    /// The instance a plain put of `value` at `key` describes through a layout, with the lease and the live
    /// incarnation filled in (etcd writes carry no fencing token, so they keep the live one); nil when the key is
    /// outside every layout or the value does not describe a valid instance, and then the put is a plain put.
    func layoutInstance(key: [UInt8], value: [UInt8], lease: LeaseID?) -> ServiceInstance? {
        guard !layouts.isEmpty, let layout = layout(containing: key),
            var instance = layout.instance(key: key, value: value, limits: limits)
        else { return nil }
        instance.lease = lease
        instance.incarnation = entries[instance.name.key]?.instance?.incarnation ?? 0
        return instance
    }

    /// The renderings of a natively written instance whose record is `source`: one per layout of its namespace
    /// that can show it, except at keys held by a record outside the source's current pair (rule 4).
    func renderings(of instance: ServiceInstance, source: [UInt8]) -> [PairMember] {
        guard !layouts.isEmpty else { return [] }
        let pair = pairMembers(of: source)
        var renderings: [PairMember] = []
        for layout in layouts {
            guard let (key, value) = layout.rendering(of: instance), key.count <= limits.keyBytes,
                value.count <= limits.valueBytes, entries[key] == nil || pair.contains(key),
                !renderings.contains(where: { $0.key == key })
            else { continue }
            renderings.append(PairMember(key: key, value: value, isInstance: false, cause: .put))
        }
        return renderings
    }

    /// Every key of the pair `key` belongs to, source first; just `key` when it is in none.
    func pairMembers(of key: [UInt8]) -> [[UInt8]] {
        switch entries[key]?.layoutLink {
        case nil: return [key]
        case .source(let mirrors): return [key] + mirrors
        case .mirror(let source):
            guard case .source(let mirrors) = entries[source]?.layoutLink else { return [key] }
            return [source] + mirrors
        }
    }

    // MARK: - Writing

    /// Writes an instance record a client sent natively (register, update, or a put that keeps an instance
    /// value) with its renderings.
    @discardableResult
    mutating func writeInstanceRecord(
        _ instance: ServiceInstance, value: [UInt8], lease: LeaseID?, cause: RegistryEvent.Cause,
        into changes: inout ChangeSet
    ) -> KeyValue? {
        let key = instance.name.key
        return writePair(
            source: PairMember(key: key, value: value, isInstance: true, cause: cause), lease: lease,
            mirrors: renderings(of: instance, source: key), into: &changes)
    }

    /// Writes a plain put: at a layout with the framework's JSON, the key plus the instance it describes;
    /// anywhere else, just the key.
    mutating func writePlainPut(key: [UInt8], value: [UInt8], lease: LeaseID?, into changes: inout ChangeSet)
        -> KeyValue?
    {
        var mirrors: [PairMember] = []
        if let instance = layoutInstance(key: key, value: value, lease: lease) {
            mirrors.append(PairMember(key: instance.name.key, value: instance.encoded(), isInstance: true, cause: .registered))
        }
        return writePair(
            source: PairMember(key: key, value: value, isInstance: false, cause: .put), lease: lease,
            mirrors: mirrors, into: &changes)
    }

    /// Writes a source and its mirrors at the pending revision, first removing whatever the pairs of those keys
    /// had that the new pair does not (rule 3).
    /// - Returns: the source record as it was before.
    @discardableResult
    mutating func writePair(
        source: PairMember, lease: LeaseID?, mirrors: [PairMember], into changes: inout ChangeSet
    ) -> KeyValue? {
        let keys = [source.key] + mirrors.map(\.key)
        // Collected before removing anything: a removal unlinks the records the next lookup would follow.
        var leaving: [[UInt8]] = []
        for key in keys where entries[key]?.layoutLink != nil {
            for member in pairMembers(of: key) where !keys.contains(member) && !leaving.contains(member) {
                leaving.append(member)
            }
        }
        for member in leaving {
            guard let record = entries[member] else { continue }
            removeRecord(key: member, cause: Self.pairCause(source.cause, for: record), into: &changes)
        }
        let previous = writeRecord(
            key: source.key, value: source.value, lease: lease, isInstance: source.isInstance,
            link: mirrors.isEmpty ? nil : .source(mirrors: mirrors.map(\.key)), cause: source.cause, into: &changes)
        for mirror in mirrors {
            writeRecord(
                key: mirror.key, value: mirror.value, lease: lease, isInstance: mirror.isInstance,
                link: .mirror(of: source.key), cause: mirror.cause, into: &changes)
        }
        return previous
    }

    // MARK: - Removing

    /// Removes `key` and, when it is in a pair, every other member of the pair (rules 1 and 2).
    /// - Returns: the record of `key` as it was.
    @discardableResult
    mutating func removeLinked(key: [UInt8], cause: RegistryEvent.Cause, into changes: inout ChangeSet) -> KeyValue {
        let members = entries[key]?.layoutLink == nil ? [] : pairMembers(of: key)
        let record = removeRecord(key: key, cause: cause, into: &changes)
        for member in members where member != key {
            guard let other = entries[member] else { continue }
            removeRecord(key: member, cause: Self.pairCause(cause, for: other), into: &changes)
        }
        return record
    }

    /// The cause recorded for a pair member removed because of a change to another member: lease ends keep
    /// their cause; otherwise an instance record is deregistered and a key deleted.
    static func pairCause(_ cause: RegistryEvent.Cause, for record: KeyValue) -> RegistryEvent.Cause {
        switch cause {
        case .leaseExpired, .leaseRevoked: cause
        default: record.isInstance ? .deregistered : .delete
        }
    }

    /// Whether a put would create an instance in a service that is already at `instancesPerService`.
    func layoutPutOverfillsService(_ put: PutRequest) -> RegistryRejection? {
        // Cheap first: only a service at its limit needs the value read (apply reads it again anyway).
        guard !put.ignoreValue, let layout = layout(containing: put.key), let (serviceName, _) = layout.split(put.key),
            (instanceCounts[ServiceKey(namespace: layout.namespace, service: serviceName)] ?? 0) >= limits.instancesPerService
        else { return nil }
        guard let instance = layoutInstance(key: put.key, value: put.value, lease: put.lease),
            entries[instance.name.key]?.isInstance != true
        else { return nil }
        let service = ServiceKey(namespace: instance.namespace, service: instance.service)
        guard (instanceCounts[service] ?? 0) >= limits.instancesPerService else { return nil }
        return .serviceFull(namespace: instance.namespace, service: instance.service, limit: limits.instancesPerService)
    }
}
