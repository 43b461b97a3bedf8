import Raft
import Registry

/// What the shell must carry out for the node: the driver decides, the shell only performs (as
/// swift-nio's state machines return actions and SWIM's instance returns directives).
///
/// Inputs (`tick`, `receive`, `submit`, …) and the Ready loop queue effects in the driver;
/// `NodeDriver.processReady()` hands them all back, in the order they arose, and the shell carries
/// them out before the next driver call. Nothing calls back into the shell while the driver runs,
/// so the shell needs no re-entrancy guard and no outbox of its own.
///
/// Ordering: everything queued when a Ready is persisted may leave before that Ready is durable
/// (see `NodeEnvironment.persist(_:queued:)`); what must wait for durability (votes and append
/// acknowledgements, `Ready.messagesAfterPersist`) is queued only once `persist` has returned.
public struct NodeEffects: Sendable {
    /// Raft messages to peers, in the order Raft produced them.
    public var messages: [Message] = []
    /// Client work forwarded between nodes, in the order the driver produced it.
    public var forwards: [(message: ForwardMessage, peer: NodeID)] = []
    /// Answers to requests submitted with `NodeDriver.submit`: exactly one per request, unless the
    /// shell cancelled it first.
    public var responses: [(request: RequestID, response: NodeResponse)] = []
    /// What the registry did, in apply order, for the watches this node serves.
    public var changes: [RegistryChange] = []
    /// The cluster's member directory (names and addresses of peers), when it changed.
    public var members: [Member]?
    /// A periodic snapshot to encode and write (`SnapshotWriter`), then report with
    /// `NodeDriver.snapshotWritten(_:data:)`. At most one is under way at a time: the driver takes no other
    /// until that call.
    public var snapshotToWrite: SnapshotCapture?

    public init() {}

    public var isEmpty: Bool {
        messages.isEmpty && forwards.isEmpty && responses.isEmpty && changes.isEmpty && members == nil
            && snapshotToWrite == nil
    }
}

/// One change of the registry state, as watches see it.
public enum RegistryChange: Equatable, Sendable {
    /// Events applied at `revision`, in order.
    case applied([RegistryEvent], revision: Revision)
    /// A snapshot from the leader replaced the state: watches must re-read history from their last
    /// delivered revision (the snapshot carries the history window).
    case replaced(revision: Revision)
}
