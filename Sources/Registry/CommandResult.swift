/// What applying one command did: applied with a response and events, or rejected without effect.
public enum CommandResult: Equatable, Sendable {
    /// The command took effect (possibly changing no key, like a checkpoint or an empty delete).
    case applied(AppliedCommand)
    /// The command was refused and changed nothing but the applied index.
    case rejected(RegistryRejection)

    /// The events the command produced (none if rejected), for the node to fan out to watchers.
    public var events: [RegistryEvent] {
        if case .applied(let applied) = self { return applied.events }
        return []
    }

    /// The rejection, if any.
    public var rejection: RegistryRejection? {
        if case .rejected(let rejection) = self { return rejection }
        return nil
    }
}

/// A command that applied.
public struct AppliedCommand: Equatable, Sendable {
    /// The revision the state is at after the command (unchanged if it wrote no key).
    public var revision: Revision
    public var response: CommandResponse
    /// Changes in order, all at `revision` when there are any.
    public var events: [RegistryEvent]
}

/// The command-specific part of an answer.
public enum CommandResponse: Equatable, Sendable {
    /// The previous record, when requested.
    case put(previous: KeyValue?)
    /// How many keys were deleted, and their records when requested.
    case deleteRange(deleted: Int, previous: [KeyValue])
    /// Which branch ran, and one response per operation of it.
    case transaction(succeeded: Bool, responses: [OperationResponse])
    /// The granted lease (its ID chosen by the state when the command gave none).
    case leaseGranted(LeaseID, ttlMilliseconds: Int64)
    /// The revoked lease and how many keys went with it.
    case leaseRevoked(LeaseID, deletedKeys: Int)
    /// How many named leases were still live and took the checkpoint.
    case leasesCheckpointed(count: Int)
    /// The leases that were live and ended (IDs ascending), and how many keys went with them.
    case leasesExpired([LeaseID], deletedKeys: Int)
    /// The registered instance and the record it replaced, if any.
    case instanceRegistered(ServiceInstance, previous: ServiceInstance?)
    /// The instance after the update.
    case instanceUpdated(ServiceInstance)
    /// The removed instance.
    case instanceDeregistered(ServiceInstance)
    /// The new compaction point.
    case compacted(Revision)
    /// An auth command applied; the auth revision it produced.
    case authChanged(authRevision: UInt64)
}
