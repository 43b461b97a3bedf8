import Posix
import Raft
import Storage
import Synchronization

/// The node's storage, written by a thread of its own so that the Raft loop goes on while the disk syncs
/// (`NodeEnvironment.persistsInBackground`; why, in `NodeDriver.persistInBackground`).
///
/// One ordered stream of writes: Readies queue up while a write runs, and the next write takes them all under one
/// fsync. Everything else on the log (Readies written in place, snapshots, size reports, close) holds the same
/// lock, and a Ready written in place first writes whatever is queued, so nothing overtakes a queued write.
/// Fail-stop as before: a write or fsync that fails stops the process (`NodeStorage`), so no later write finishes
/// and nothing it would have promised is ever sent.
final class BackgroundStorage: Sendable {
    private struct Disk {
        var storage: NodeStorage
        var isClosed = false
    }

    private struct Queue {
        var readies: [Ready] = []
        var lastTicket: UInt64 = 0
        var isWriteScheduled = false
    }

    /// Lock order: `disk`, then `queue`. The queue's lock is held only to add or take Readies, so the Raft loop
    /// never waits for an fsync to queue one.
    private let disk: Mutex<Disk>
    private let queue = Mutex(Queue())
    private let writer: EventLoopThread
    /// The Raft loop, and the server on it that finished writes are reported to (`reportFinishedWrites(to:)`).
    private let loop: EventLoopHandle
    // Not a stored closure: with the report as a closure kept in a `Mutex` and read out for every report, the writer
    // thread spent 56 % of its CPU in chains of reabstraction thunks calling one another (perf, 2026-12-06).
    private let server = Mutex<LoopBound<RosterServer>?>(nil)

    init(storage: NodeStorage, loop: EventLoopHandle) throws(SystemError) {
        disk = Mutex(Disk(storage: storage))
        self.loop = loop
        writer = try EventLoopThread(name: "roster-wal")
    }

    /// Where finished writes are reported; set once, before the first write.
    func reportFinishedWrites(to server: RosterServer) {
        let bound = LoopBound(server)
        self.server.withLock { $0 = bound }
    }

    /// Queues `ready` behind every earlier write; it is reported under `ticket` (or a later one) once durable.
    func startPersisting(_ ready: Ready, ticket: UInt64) {
        let schedule = queue.withLock { queue in
            queue.readies.append(ready)
            queue.lastTicket = ticket
            defer { queue.isWriteScheduled = true }
            return !queue.isWriteScheduled
        }
        if schedule { writer.execute { [self] in writeQueued() } }
    }

    /// On the writer thread: everything queued, under one fsync.
    private func writeQueued() {
        var fsyncSeconds: Double?
        let ticket = disk.withLock { disk -> UInt64? in
            let (readies, ticket) = queue.withLock { queue in
                queue.isWriteScheduled = false
                defer { queue.readies.removeAll(keepingCapacity: true) }
                return (queue.readies, queue.lastTicket)
            }
            guard !readies.isEmpty, !disk.isClosed else { return nil }
            let start = MonotonicClock.seconds()
            if disk.storage.persist(batch: readies) { fsyncSeconds = MonotonicClock.seconds() - start }
            return ticket
        }
        if let ticket { report(ticket, fsyncSeconds) }
    }

    /// Hands the last ticket written, and how long its fsync took (if it synced), to the server on its loop.
    private func report(_ ticket: UInt64, _ fsyncSeconds: Double?) {
        guard let server = server.withLock({ $0 }) else { return }
        _ = loop.execute { server.value?.backgroundWriteFinished(ticket: ticket, fsyncSeconds: fsyncSeconds) }
    }

    /// On the Raft loop: writes what is queued, then `ready` (one the driver writes in place, or a snapshot to
    /// install), and waits until both are durable. What was queued is reported as if the writer had written it.
    /// - Returns: How long the fsync took, if there was one.
    func persistInPlace(_ ready: Ready) -> Double? {
        var queuedTicket: UInt64?
        let seconds = disk.withLock { disk -> Double? in
            let (readies, ticket) = queue.withLock { queue in
                defer { queue.readies.removeAll(keepingCapacity: true) }
                return (queue.readies, queue.lastTicket)
            }
            guard !disk.isClosed else { return nil }
            if !readies.isEmpty {
                _ = disk.storage.persist(batch: readies)
                queuedTicket = ticket
            }
            let start = MonotonicClock.seconds()
            disk.storage.persist(ready)
            return ready.mustSync ? MonotonicClock.seconds() - start : nil
        }
        if let queuedTicket { report(queuedTicket, nil) }
        return seconds
    }

    func save(_ snapshot: Snapshot) { disk.withLock { $0.storage.save(snapshot) } }
    func adopt(_ snapshot: Snapshot) { disk.withLock { $0.storage.adopt(snapshot) } }
    func discard(_ metadata: SnapshotMetadata) { disk.withLock { $0.storage.discard(metadata) } }
    var snapshotWriter: SnapshotWriter { disk.withLock { $0.storage.snapshotWriter } }
    var snapshotBytes: Int { disk.withLock { $0.storage.snapshotBytes } }
    var approximateBytes: Int { disk.withLock { $0.storage.approximateBytes } }

    /// Closes the log after the write under way; writes still queued are dropped (nothing they promise was sent).
    func close() {
        disk.withLock { disk in
            guard !disk.isClosed else { return }
            disk.isClosed = true
            disk.storage.close()
        }
        writer.shutdown()
    }
}
