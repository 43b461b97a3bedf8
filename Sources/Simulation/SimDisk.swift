import Raft
import RosterNode
import Storage

/// A node's disk in the simulation: exactly what the node made durable, nothing more.
///
/// Two backends, chosen per seed. `memory` keeps the persisted state as a value, so a crash loses
/// nothing that was persisted. `storage` runs the production write-ahead log (`DurableLog`) on a
/// `SimulatedFileSystem`, so every simulated crash drops unsynced bytes (sometimes keeping a torn
/// prefix of them) and every restart runs the real recovery code.
struct SimDisk {
    enum Backend {
        case memory(PersistentState)
        case storage(log: SimLog?, fileSystem: SimulatedFileSystem)
    }

    private var backend: Backend
    let node: NodeID
    static let directory = "/data"

    /// A disk holding a node's first state: the bootstrap configuration of an initial member, or an
    /// empty configuration for a node about to join.
    init(node: NodeID, initial: PersistentState, useStorage: Bool) throws(Violation) {
        self.node = node
        guard useStorage else {
            backend = .memory(initial)
            return
        }
        let fileSystem = SimulatedFileSystem()
        backend = .storage(log: nil, fileSystem: fileSystem)
        var (log, recovered) = try Self.open(node: node, fileSystem: fileSystem)
        precondition(recovered.entries.isEmpty, "a fresh simulated disk holds entries")
        do {
            try log.log.saveSnapshot(initial.snapshot)
        } catch {
            throw Violation(step: 0, property: "storage", detail: "node \(node) could not save its bootstrap snapshot: \(error)")
        }
        backend = .storage(log: log, fileSystem: fileSystem)
    }

    private static func open(node: NodeID, fileSystem: SimulatedFileSystem) throws(Violation) -> (SimLog, PersistentState) {
        do {
            let (log, state) = try DurableLog.open(
                directory: directory, identity: StorageIdentity(clusterID: 1, memberID: node.rawValue),
                fileSystem: fileSystem, options: StorageOptions(segmentBytes: 4_096, snapshotRolloverBytes: 1_024))
            return (SimLog(log: log), state)
        } catch {
            throw Violation(step: 0, property: "storage recovery", detail: "node \(node) cannot recover its disk: \(error)")
        }
    }

    var usesStorage: Bool {
        if case .storage = backend { true } else { false }
    }

    /// Persists a Ready's snapshot, entries and hard state, durably, through the node's one Ready-to-log
    /// mapping (`ReadyLog.persist`).
    mutating func persist(_ ready: Ready) throws(Violation) {
        switch backend {
        case .memory(var state):
            state.persist(ready)
            backend = .memory(state)
        case .storage(var log?, let fileSystem):
            do {
                try log.persist(ready)
            } catch {
                throw Violation(step: 0, property: "storage", detail: "node \(node) failed to persist: \(error)")
            }
            backend = .storage(log: log, fileSystem: fileSystem)
        case .storage(nil, _):
            preconditionFailure("persist on the closed disk of node \(node)")
        }
    }

    /// Writes a Ready to the file system but fails its fsync, as a power loss in the middle of a
    /// write would: the caller then crashes the node. Memory disks have no such state.
    mutating func persistTorn(_ ready: Ready) {
        guard case .storage(var log?, let fileSystem) = backend else { return }
        fileSystem.failNextSync(with: .ioError)
        do {
            try log.persist(ready)
        } catch {
            // Expected: the injected fsync failure poisons the log, and the node crashes next.
        }
        backend = .storage(log: log, fileSystem: fileSystem)
    }

    mutating func save(_ snapshot: Snapshot) throws(Violation) {
        try withSnapshot(snapshot, doing: "save a snapshot") { log throws(StorageError) in try log.saveSnapshot(snapshot) }
    }

    /// The snapshot worker's half of a periodic snapshot: the file, made durable, not yet the log's base. Memory
    /// disks keep snapshots only as the log's base, so for them this is `adopt`'s job.
    mutating func writeFile(of snapshot: Snapshot) throws(Violation) {
        guard case .storage(var log?, let fileSystem) = backend else { return }
        try onLog(&log, doing: "write a snapshot file") { log throws(StorageError) in try log.snapshotWriter.write(snapshot) }
        backend = .storage(log: log, fileSystem: fileSystem)
    }

    /// The loop's half of a periodic snapshot: the written file becomes the log's base.
    mutating func adopt(_ snapshot: Snapshot) throws(Violation) {
        try withSnapshot(snapshot, doing: "adopt a snapshot") { log throws(StorageError) in
            try log.adoptSnapshot(snapshot.metadata)
        }
    }

    /// Deletes a written snapshot file a newer snapshot made useless.
    mutating func discard(_ metadata: SnapshotMetadata) throws(Violation) {
        guard case .storage(var log?, let fileSystem) = backend else { return }
        try onLog(&log, doing: "discard a snapshot") { log throws(StorageError) in try log.discardSnapshot(metadata) }
        backend = .storage(log: log, fileSystem: fileSystem)
    }

    /// Makes `snapshot` the disk's base: a memory disk keeps it as it is, a storage disk runs `body` on its log.
    private mutating func withSnapshot(
        _ snapshot: Snapshot, doing what: String, _ body: (inout DurableLog) throws(StorageError) -> Void
    ) throws(Violation) {
        switch backend {
        case .memory(var state):
            state.save(snapshot)
            backend = .memory(state)
        case .storage(var log?, let fileSystem):
            try onLog(&log, doing: what, body)
            backend = .storage(log: log, fileSystem: fileSystem)
        case .storage(nil, _):
            preconditionFailure("snapshot on the closed disk of node \(node)")
        }
    }

    /// Runs `body` on the production log, turning its failure into the simulator's storage violation.
    private func onLog(
        _ log: inout SimLog, doing what: String, _ body: (inout DurableLog) throws(StorageError) -> Void
    ) throws(Violation) {
        do {
            try body(&log.log)
        } catch {
            throw Violation(step: 0, property: "storage", detail: "node \(node) failed to \(what): \(error)")
        }
    }

    /// A power loss: what was not fsynced is lost, and a random prefix of it may survive as a torn tail.
    mutating func crash(seed: UInt64) {
        guard case .storage(var log, let fileSystem) = backend else { return }
        log?.log.close()
        fileSystem.crash(keepingRandomPrefixOf: seed)
        backend = .storage(log: nil, fileSystem: fileSystem)
    }

    /// What a starting or restarting node reads back.
    mutating func recover() throws(Violation) -> PersistentState {
        switch backend {
        case .memory(let state):
            return state
        case .storage(var log, let fileSystem):
            // An open log is a first start: the disk holds only what `init` synced; close it cleanly.
            log?.log.close()
            let (reopened, state) = try Self.open(node: node, fileSystem: fileSystem)
            backend = .storage(log: reopened, fileSystem: fileSystem)
            return state
        }
    }
}

/// The production write-ahead log as the driver's `ReadyLog`.
struct SimLog: ReadyLog {
    var log: DurableLog

    mutating func saveSnapshot(_ snapshot: Snapshot) throws(StorageError) { try log.saveSnapshot(snapshot) }
    mutating func append(hardState: HardState?, entries: [Entry]) throws(StorageError) {
        try log.append(hardState: hardState, entries: entries)
    }
    mutating func sync() throws(StorageError) { _ = try log.sync() }
}
