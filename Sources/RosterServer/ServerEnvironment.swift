import Posix
import Raft
import Registry
import RosterNode

/// The production `NodeEnvironment`: the write-ahead log on real files, the monotonic clock and the
/// logger. Everything else the driver wants done comes back from `processReady()` as `NodeEffects`,
/// which `RosterServer.carryOut(_:)` performs.
struct ServerEnvironment: NodeEnvironment {
    let storage: BackgroundStorage
    let logger: Logger
    /// The peer transport, for the sends that may leave before a Ready is durable.
    let transport: PeerTransport
    /// How long each fsync took since the server last read them, for the metrics.
    var fsyncSeconds: [Double] = []

    var nowMilliseconds: UInt64 { MonotonicClock.milliseconds() }

    /// A Ready that installs no snapshot may be written by the storage's own thread (the driver decides when).
    var persistsInBackground: Bool { true }

    func startPersisting(_ ready: Ready, ticket: UInt64) {
        storage.startPersisting(ready, ticket: ticket)
    }

    /// A Ready written in place (the driver's choice, or one that installs a snapshot): sends what is queued first,
    /// so the leader's appends reach followers while it writes (thesis §10.2.1), then makes it durable behind every
    /// queued background write. A Ready with nothing to fsync (a leader's commit, say) has no wait to overlap: its
    /// sends stay queued for `carryOut`, which on a leader hands the answers to the I/O loops before it writes the
    /// commit notices.
    mutating func persist(_ ready: Ready, queued: inout NodeEffects) {
        if ready.mustSync { transport.send(&queued) }
        if let seconds = storage.persistInPlace(ready) { fsyncSeconds.append(seconds) }
    }

    mutating func sendEarly(_ queued: inout NodeEffects) {
        transport.send(&queued)
    }

    /// Saves the snapshot, then hands the heap's free pages back to the kernel: by now the previous
    /// snapshot's bytes and the entries it covered are freed, and so is whatever the history and key space
    /// dropped since the last one (see `Heap`).
    func saveSnapshot(_ snapshot: Snapshot) {
        storage.save(snapshot)
        Heap.releaseFreePages()
    }

    /// Adopts the file the snapshot worker wrote (which then hands the free pages back, off the loop).
    func adoptSnapshot(_ snapshot: Snapshot) {
        storage.adopt(snapshot)
    }

    func discardSnapshot(_ metadata: SnapshotMetadata) {
        storage.discard(metadata)
    }

    mutating func log(_ level: RosterNode.LogLevel, _ message: String) {
        switch level {
        case .debug: logger.debug(message)
        case .info: logger.info(message)
        case .warning: logger.warning(message)
        case .error: logger.error(message)
        }
    }
}

extension PeerTransport {
    /// Sends the forwards and Raft messages of `effects` and takes them out of it: one write per peer, forwards
    /// first, so a leader's answer to a forwarded write reaches the follower ahead of the append that carries the
    /// entry.
    func send(_ effects: inout NodeEffects) {
        guard !effects.forwards.isEmpty || !effects.messages.isEmpty else { return }
        send(forwards: effects.forwards, messages: effects.messages)
        effects.forwards.removeAll()
        effects.messages.removeAll()
    }

    /// Sends the forwards of `effects` alone (one write per peer) and takes them out of it.
    func sendForwards(_ effects: inout NodeEffects) {
        guard !effects.forwards.isEmpty else { return }
        send(forwards: effects.forwards, messages: [])
        effects.forwards.removeAll()
    }
}
