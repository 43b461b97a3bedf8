import Posix
import Raft
import Registry
import RosterNode

/// Work the driver asked for that must wait until the driver call returns: answers to clients,
/// events for watches, member directory changes. Queuing them (instead of acting at once) means no
/// callback can re-enter the driver while it runs, and answers carry the status after the call.
final class DriverOutbox {
    var responses: [(RequestID, NodeResponse)] = []
    var events: [(events: [RegistryEvent], revision: Revision)] = []
    var stateReplaced = false
    var members: [Member]?
    var fsyncSeconds: [Double] = []
}

/// The production `NodeEnvironment`: the write-ahead log on real files, the peer transport, the
/// monotonic clock, and the outbox the server drains after every driver call.
struct ServerEnvironment: NodeEnvironment {
    var storage: NodeStorage
    let outbox: DriverOutbox
    let logger: Logger
    /// Sends a Raft message or forward to a peer; never calls back into the driver synchronously.
    let sendMessage: (Message) -> Void
    let sendForward: (ForwardMessage, NodeID) -> Void

    var nowMilliseconds: UInt64 { MonotonicSeconds.milliseconds() }

    mutating func persist(_ ready: Ready) {
        let start = MonotonicSeconds.now()
        storage.persist(ready)
        if ready.mustSync { outbox.fsyncSeconds.append(MonotonicSeconds.now() - start) }
    }

    /// Saves the snapshot, then hands the heap's free pages back to the kernel: by now the previous
    /// snapshot's bytes and the entries it covered are freed, and so is whatever the history and key space
    /// dropped since the last one (see `Heap`).
    mutating func saveSnapshot(_ snapshot: Snapshot) {
        storage.save(snapshot)
        Heap.releaseFreePages()
    }

    mutating func send(_ message: Message) { sendMessage(message) }
    mutating func send(_ forward: ForwardMessage, to peer: NodeID) { sendForward(forward, peer) }
    mutating func respond(_ request: RequestID, _ response: NodeResponse) { outbox.responses.append((request, response)) }
    mutating func publish(_ events: [RegistryEvent], revision: Revision) { outbox.events.append((events, revision)) }
    mutating func stateReplaced(revision: Revision) {
        outbox.stateReplaced = true
        // The whole previous state was just freed.
        Heap.releaseFreePages()
    }
    mutating func membersChanged(_ members: [Member]) { outbox.members = members }

    mutating func log(_ level: RosterNode.LogLevel, _ message: String) {
        switch level {
        case .debug: logger.debug(message)
        case .info: logger.info(message)
        case .warning: logger.warning(message)
        case .error: logger.error(message)
        }
    }
}
