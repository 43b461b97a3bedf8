import Raft
import Registry

/// What the driver needs from the world while it runs: a clock, durable storage and a log. Everything
/// else the node wants done (sends, answers, watch events, member changes) it returns as
/// `NodeEffects` instead of calling out, so nothing re-enters the shell in the middle of a Ready.
/// The production server implements it with files and a monotonic clock; tests with values.
///
/// The shell MUST make `persist` durable before returning (fsync), and MUST stop the process if it
/// cannot (fail-stop: never acknowledge after a failed fsync). All calls happen on the loop thread.
public protocol NodeEnvironment {
    /// Milliseconds of a monotonic clock; only differences matter, and only on this node.
    var nowMilliseconds: UInt64 { get }
    /// Step 2 of a Ready: makes its snapshot, entries and hard state durable (see `Ready`).
    ///
    /// - Parameter queued: The effects queued so far. Every one of them may leave before this Ready
    ///   is durable (what must wait, `Ready.messagesAfterPersist`, is queued after `persist`
    ///   returns). The shell MAY take sends out of it and carry them out before its fsync, so that
    ///   the leader's appends reach followers while it writes (thesis §10.2.1) and a forwarded
    ///   write's answer reaches its follower ahead of the append carrying the entry; whatever it
    ///   leaves comes back from `NodeDriver.processReady()` with the rest.
    mutating func persist(_ ready: Ready, queued: inout NodeEffects)
    /// Before step 4 of a Ready whose commit a follower waits on (`NodeDriver.commitNoticesBeforeApply`): the shell MAY
    /// take the sends out of `queued` and carry them out now, as in `persist`; whatever it leaves comes back from
    /// `NodeDriver.processReady()` with the rest.
    mutating func sendEarly(_ queued: inout NodeEffects)
    /// Whether the next Ready may be written in the background (`startPersisting`), so the loop goes on taking
    /// requests and acknowledgements while the disk syncs; the driver decides when it wants to
    /// (`NodeDriver.persistsNextReadyInBackground`), and asks only then. Readies that install a snapshot still come
    /// to `persist`, which must then first finish every background write (they are one ordered stream of writes).
    var persistsInBackground: Bool { mutating get }
    /// Starts writing step 2 of `ready` (`Ready.persistsInBackground`) after every earlier write, and returns at
    /// once; when it and everything before it is durable, the shell calls `NodeDriver.persisted(ticket:)` on the
    /// loop thread. Fail-stop as `persist`: a write that fails stops the process, and no later write may finish.
    mutating func startPersisting(_ ready: Ready, ticket: UInt64)
    /// Makes a snapshot the node took durable, on this thread; storage may then drop the entries it covers.
    mutating func saveSnapshot(_ snapshot: Snapshot)
    /// Makes the snapshot whose file the shell already wrote (`NodeEffects.snapshotToWrite`) the log's base;
    /// storage may then drop the entries it covers.
    mutating func adoptSnapshot(_ snapshot: Snapshot)
    /// Deletes the file the shell wrote for a snapshot the node no longer needs (a newer one took its place).
    mutating func discardSnapshot(_ metadata: SnapshotMetadata)
    mutating func log(_ level: LogLevel, _ message: String)
    /// True once `persist` stopped the node instead of returning normally: the simulator's power loss
    /// in the middle of a Ready. The driver then abandons the Ready (nothing after step 2 happens) and
    /// must not be used again. A production shell exits instead, so it keeps the default, false.
    var hasStopped: Bool { get }
}

extension NodeEnvironment {
    public var hasStopped: Bool { false }
    public var persistsInBackground: Bool { false }
    public mutating func sendEarly(_ queued: inout NodeEffects) {}
    public mutating func startPersisting(_ ready: Ready, ticket: UInt64) {
        preconditionFailure("startPersisting on an environment that does not persist in the background")
    }
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
