/// What applying one command did: applied with a response and events, or rejected without effect.
public enum CommandResult: Equatable, Sendable {
    case applied(AppliedCommand)
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
    case put(previous: KeyValue?)
    case deleteRange(deleted: Int, previous: [KeyValue])
    case transaction(succeeded: Bool, responses: [OperationResponse])
    case leaseGranted(LeaseID, ttlMilliseconds: Int64)
    case leaseRevoked(LeaseID, deletedKeys: Int)
    /// How many named leases were still live and took the checkpoint.
    case leasesCheckpointed(count: Int)
    /// The leases that were live and ended (IDs ascending), and how many keys went with them.
    case leasesExpired([LeaseID], deletedKeys: Int)
    case instanceRegistered(ServiceInstance, previous: ServiceInstance?)
    case instanceUpdated(ServiceInstance)
    case instanceDeregistered(ServiceInstance)
    /// The new compaction point.
    case compacted(Revision)
}
