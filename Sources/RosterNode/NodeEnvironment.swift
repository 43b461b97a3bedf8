import Raft
import Registry

/// What the driver needs from the world. The production server implements it with files, sockets
/// and a monotonic clock; tests implement it with values.
///
/// The shell MUST make `persist` durable before returning (fsync), and MUST stop the process if it
/// cannot (fail-stop: never acknowledge after a failed fsync). All calls happen on the loop thread.
public protocol NodeEnvironment {
    /// Milliseconds of a monotonic clock; only differences matter, and only on this node.
    var nowMilliseconds: UInt64 { get }
    /// Makes a Ready's snapshot, entries and hard state durable (see `Ready`).
    mutating func persist(_ ready: Ready)
    /// Makes a snapshot the node took durable; storage may then drop the entries it covers.
    mutating func saveSnapshot(_ snapshot: Snapshot)
    mutating func send(_ message: Message)
    mutating func send(_ forward: ForwardMessage, to peer: NodeID)
    /// Answers a request submitted with `NodeDriver.submit`; called exactly once per request unless
    /// the shell cancelled it.
    mutating func respond(_ request: RequestID, _ response: NodeResponse)
    /// Events applied at `revision`, in order, for the watches served by this node.
    mutating func publish(_ events: [RegistryEvent], revision: Revision)
    /// The registry state was replaced by a snapshot from the leader: watches must re-read history
    /// from their last delivered revision (the snapshot carries the history window).
    mutating func stateReplaced(revision: Revision)
    /// The cluster's member directory changed (names and addresses of peers).
    mutating func membersChanged(_ members: [Member])
    mutating func log(_ level: LogLevel, _ message: String)
    /// True once `persist` stopped the node instead of returning normally: the simulator's power loss
    /// in the middle of a Ready. The driver then abandons the Ready (nothing after step 2 happens) and
    /// must not be used again. A production shell exits instead, so it keeps the default, false.
    var hasStopped: Bool { get }
}

extension NodeEnvironment {
    public var hasStopped: Bool { false }
}

public enum LogLevel: String, Sendable {
    case debug, info, warning, error
}

/// A cluster member as the directory records it.
public struct Member: Hashable, Sendable, CustomStringConvertible {
    public var id: NodeID
    public var name: String
    /// "host:port" of the peer (Raft) listener.
    public var peerAddress: String
    /// "host:port" of the client (HTTP) listener, when known.
    public var clientAddress: String?

    public init(id: NodeID, name: String, peerAddress: String, clientAddress: String? = nil) {
        self.id = id
        self.name = name
        self.peerAddress = peerAddress
        self.clientAddress = clientAddress
    }

    /// A member's Raft ID, derived from its name so every node computes the same one (FNV-1a 64; 0,
    /// which Raft reserves, maps to 1).
    public static func id(forName name: String) -> NodeID {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return NodeID(rawValue: hash == 0 ? 1 : hash)
    }

    /// The cluster ID of an initial member list, so members of different clusters refuse each other.
    public static func clusterID(of members: [Member]) -> UInt64 {
        let canonical = members.sorted { $0.name < $1.name }.map { "\($0.name)=\($0.peerAddress)" }.joined(separator: ",")
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in canonical.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    public var description: String { "\(name)(\(id))@\(peerAddress)" }
}
