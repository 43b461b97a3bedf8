import Posix
import Raft
import RosterNode
import Storage

/// Periodic snapshots, written off the Raft loop.
///
/// The driver captures the applied state in O(1) (`NodeEffects.snapshotToWrite`); a worker thread encodes it,
/// checksums it and makes its file durable (`SnapshotWriter`); the loop then compacts Raft's log and storage
/// (`NodeDriver.snapshotWritten`). Measured before this change, at about 700,000 instances: a snapshot encoded and
/// written on the loop stalled a leader for 3–4 s, long enough for its followers to start an election.
extension RosterServer {
    /// The one thread that encodes and writes periodic snapshots; nil if it could not be started (then the loop
    /// does it, as before).
    static let snapshotWorker: EventLoopThread? = try? EventLoopThread(name: "roster-snapshot")

    func writeSnapshot(_ capture: SnapshotCapture) {
        let writer = driver.environment.storage.snapshotWriter
        let logger = logger
        let server = LoopConfined(self)
        let handle = loop.handle
        let started = MonotonicClock.seconds()
        let work: @Sendable () -> Void = {
            let data = capture.encode()
            Self.write(capture.snapshot(data: data), with: writer, logger: logger)
            let seconds = MonotonicClock.seconds() - started
            _ = handle.execute {
                let server = server.value
                server.metrics.snapshotWrite.observe(seconds)
                server.withDriver { $0.snapshotWritten(capture, data: data) }
            }
        }
        if let worker = Self.snapshotWorker, worker.execute(work) { return }
        work()
    }

    /// Writes the file or stops the process: the node cannot compact its log without it, and a disk that fails a
    /// write may have lost others (fail-stop, as for every write).
    private static func write(_ snapshot: Snapshot, with writer: SnapshotWriter, logger: Logger) {
        do {
            try writer.write(snapshot)
        } catch {
            logger.error(
                "storage failed; stopping so that nothing is acknowledged after a failed write",
                ["during": "write a snapshot", "error": "\(error)"])
            CurrentProcess.exit(70)
        }
    }
}
