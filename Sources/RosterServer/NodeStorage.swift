import Posix
import PosixStorage
import Raft
import RosterNode
import Storage


/// The node's data directory: the write-ahead log and snapshots, opened at boot and written by
/// every Ready.
///
/// Fail-stop: a write or fsync that fails stops the process. Nothing is ever acknowledged after a
/// failed fsync, and an fsync is never retried (the page cache may have dropped the dirty pages;
/// see PostgreSQL's "fsyncgate").
struct NodeStorage {
    private(set) var log: WriteAheadLog
    let logger: Logger

    /// Opens (or creates) the data directory and returns what the node persisted.
    ///
    /// A fresh directory is bootstrapped: an initial member persists the initial configuration as
    /// its zero snapshot; a joining member persists none and waits for the leader's snapshot.
    static func open(
        directory: String, clusterID: UInt64, member: NodeID, initialConfiguration: Configuration, isJoining: Bool,
        logger: Logger
    ) throws(StorageError) -> (NodeStorage, PersistentState) {
        var (log, persisted) = try DurableLog.open(
            directory: directory, identity: StorageIdentity(clusterID: clusterID, memberID: member.rawValue),
            fileSystem: PosixFileSystem())
        let report = log.recoveryReport
        for skipped in report.skippedSnapshots {
            logger.warning(
                "a snapshot failed verification and was skipped; the state was rebuilt from an older snapshot and the log",
                ["file": skipped.path, "reason": skipped.reason, "used": report.snapshotPath ?? "none"])
        }
        if let cut = report.truncatedTail {
            logger.warning("recovery cut a torn tail", ["file": cut.path, "offset": "\(cut.offset)", "bytes": "\(cut.discardedBytes)"])
        }
        if report.createdFresh {
            persisted = .bootstrap(configuration: isJoining ? Configuration(voters: []) : initialConfiguration)
            try log.saveSnapshot(persisted.snapshot)
            logger.info("created data directory", ["dir": directory, "joining": "\(isJoining)"])
        } else {
            logger.info(
                "recovered data directory",
                ["dir": directory, "snapshot": "\(persisted.snapshot.metadata.index)", "entries": "\(persisted.entries.count)",
                 "term": "\(persisted.hardState.term)", "commit": "\(persisted.hardState.commit)"])
        }
        var storage = NodeStorage(log: WriteAheadLog(log: log), logger: logger)
        storage.snapshotBytes = persisted.snapshot.data.count
        return (storage, persisted)
    }

    mutating func persist(_ ready: Ready) {
        if let installed = ready.snapshotToInstall { snapshotBytes = installed.data.count }
        do {
            try log.persist(ready)
        } catch {
            stop(because: error, doing: "persist")
        }
    }

    /// Readies written in the background, under one fsync; see `ReadyLog.persist(batch:)`.
    /// - Returns: Whether it synced.
    mutating func persist(batch readies: [Ready]) -> Bool {
        do {
            return try log.persist(batch: readies)
        } catch {
            stop(because: error, doing: "persist")
        }
    }

    /// Bytes of the newest snapshot's data (the state's size on disk), for size reports and `--quota-bytes`.
    private(set) var snapshotBytes = 0

    /// The on-disk state, roughly: the newest snapshot plus the segment being written (etcd's "db size").
    var approximateBytes: Int { snapshotBytes + log.log.activeSegmentBytes }

    mutating func save(_ snapshot: Snapshot) {
        snapshotBytes = snapshot.data.count
        do {
            try log.log.saveSnapshot(snapshot)
        } catch {
            stop(because: error, doing: "save a snapshot")
        }
    }

    /// Writes snapshot files from the snapshot worker (`RosterServer.writeSnapshot`).
    var snapshotWriter: SnapshotWriter { log.log.snapshotWriter }

    /// Makes the snapshot whose file `snapshotWriter` wrote the log's base.
    mutating func adopt(_ snapshot: Snapshot) {
        snapshotBytes = snapshot.data.count
        do {
            try log.log.adoptSnapshot(snapshot.metadata)
        } catch {
            stop(because: error, doing: "adopt a snapshot")
        }
    }

    /// Deletes a written snapshot file that a newer snapshot made useless.
    mutating func discard(_ metadata: SnapshotMetadata) {
        do {
            try log.log.discardSnapshot(metadata)
        } catch {
            stop(because: error, doing: "discard a snapshot")
        }
    }

    private func stop(because error: StorageError, doing what: String) -> Never {
        logger.error("storage failed; stopping so that nothing is acknowledged after a failed write", ["during": what, "error": "\(error)"])
        CurrentProcess.exit(70)
    }

    mutating func close() {
        log.log.close()
    }
}

/// The durable log as the driver's `ReadyLog`, so a Ready reaches the disk through the one mapping in
/// `ReadyLog.persist(_:)`.
struct WriteAheadLog: ReadyLog {
    var log: DurableLog

    mutating func saveSnapshot(_ snapshot: Snapshot) throws(StorageError) { try log.saveSnapshot(snapshot) }
    mutating func append(hardState: HardState?, entries: [Entry]) throws(StorageError) {
        try log.append(hardState: hardState, entries: entries)
    }
    mutating func sync() throws(StorageError) { _ = try log.sync() }
}
