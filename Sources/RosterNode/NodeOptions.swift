import Raft
import Registry

/// Settings of one node's driver.
public struct NodeOptions: Sendable {
    public var id: NodeID
    public var raft: RaftOptions
    /// Real time per Raft tick; lease deadlines and grace are in milliseconds of the shell's clock.
    public var tickMilliseconds: UInt64
    public var registryLimits: RegistryLimits
    /// Applied entries after the last snapshot before the node takes a new one and compacts its log.
    public var snapshotEveryEntries: UInt64 = 10_000
    /// Requests waiting on this node (writes, reads, keepalives) before new ones are refused.
    public var maxPendingRequests: Int = 100_000
    /// The members this node knows from its configuration; later members come from the replicated
    /// member directory.
    public var initialMembers: [Member]
    /// Testing only, loses data: answer a write as soon as the leader appends it, with the result it
    /// would have if it committed. Lets the chaos suite prove its checker catches lost writes.
    public var unsafeAcknowledgeBeforeCommit = false

    public init(id: NodeID, raft: RaftOptions, tickMilliseconds: UInt64, initialMembers: [Member]) {
        self.id = id
        self.raft = raft
        self.tickMilliseconds = tickMilliseconds
        self.initialMembers = initialMembers
        self.registryLimits = RegistryLimits(electionTimeoutMilliseconds: Int64(tickMilliseconds) * Int64(raft.electionTimeoutTicks))
    }

    public var electionTimeoutMilliseconds: UInt64 { tickMilliseconds * UInt64(raft.electionTimeoutTicks) }
}
