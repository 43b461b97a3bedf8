import Codec
import Raft

/// Durable Raft storage: a write-ahead log of hard state and entries in bounded segment files, plus
/// snapshot files, in one locked data directory. It implements the persistence half of the Raft
/// core's `Ready` contract: append what a `Ready` carries, `sync()`, and only then send the messages
/// that depend on it.
///
/// Group commit: `append` only encodes records; `sync` writes everything appended since the last
/// sync and covers it with one fsync (three more and a directory fsync when a segment fills up),
/// then reports the durable last index. Fail-stop: after any failed write or fsync every call
/// throws `.poisoned`, since the kernel may have dropped the unsynced pages and a retried fsync
/// could falsely succeed.
///
/// Use from one thread at a time (it is a value; the simulator and the node each own one). Open
/// with `open(directory:identity:fileSystem:options:)`, which also recovers; see `RecoveryReport`.
///
/// The simulator's entry point: give every simulated node its own `SimulatedFileSystem` (a crash
/// hits a whole disk), open a `DurableLog` on it at boot, and to kill the node drop the log and
/// call `crash()` or `crash(keepingRandomPrefixOf: seed)` on its disk; booting again with `open`
/// then runs the real recovery on exactly the bytes a real disk could have kept. Nothing here
/// reads a clock or a random source, so a run is a function of the simulator's seed.
public struct DurableLog: Sendable {
    /// One segment file still on disk.
    struct Segment: Hashable, Sendable {
        var sequence: UInt64
        var firstIndex: LogIndex
        var path: String
    }

    /// A framed record waiting for `sync`, with the log's state after it (for segment headers).
    struct PendingRecord: Sendable {
        var bytes: [UInt8]
        var lastIndexAfter: LogIndex
        var hardStateAfter: HardState
    }

    let fileSystem: any FileSystem
    public let directory: String
    public let identity: StorageIdentity
    public let options: StorageOptions
    /// What recovery found when this log was opened.
    public let recoveryReport: RecoveryReport

    var lock: OpenFile
    /// Retained segments, oldest first; the last is the one being appended to.
    var segments: [Segment]
    var activeFile: OpenFile
    var activeSize: Int
    /// How far `preallocate` reserved the active segment (0 when the reservation failed).
    var reservedEnd = 0
    /// Where the zeros `fillAhead` wrote into the active segment end (0: none written yet). Records written before
    /// it go over blocks already written, so their fsync commits no extent conversion (see `fillAhead`).
    var filledEnd = 0
    /// The active segment opened a second time for `FileSystem.writeDurably` (nil: records are written, then synced).
    var directFile: OpenFile?
    /// The active segment's bytes from the start of the block that holds its end up to the end (`activeSize`): a
    /// direct write covers whole blocks, so it writes these again in front of the new records.
    var tailBlock: [UInt8] = []
    /// Bytes of the active segment taken by its header and hard-state copy.
    var activeHeaderSize: Int
    var pending: [PendingRecord] = []
    /// The log including pending records: its base is the newest snapshot.
    var window: LogWindow<Term>
    /// The hard state including pending records.
    var hardState: HardState
    var durableHardState: HardState
    var durableLastIndexValue: LogIndex
    /// Retained snapshot files, oldest first.
    var snapshotPaths: [String]
    var failure: StorageError?

    /// The last index covered by a completed `sync`.
    public var durableLastIndex: LogIndex { durableLastIndexValue }
    /// The last index including appended, not yet synced, entries.
    public var lastIndex: LogIndex { window.lastIndex }
    /// The index of the newest durable snapshot (0 when there is none).
    public var snapshotIndex: LogIndex { window.baseIndex }
    /// Whether records are waiting for `sync`.
    public var hasUnsyncedRecords: Bool { !pending.isEmpty }
    /// Paths of the segment files the log currently spans, oldest first.
    public var segmentPaths: [String] { segments.map(\.path) }
    /// Bytes in the segment being written.
    public var activeSegmentBytes: Int { activeSize }

    // MARK: - Appending

    /// Buffers entries and, optionally, a new hard state; nothing is durable before `sync()`.
    ///
    /// Entries must be contiguous with non-decreasing terms. When the first entry's index is at or
    /// below the last index, the stored entries from that index on are discarded first: a follower
    /// overwriting a conflicting suffix (Raft §5.3).
    /// - Throws: `.rejected` (nothing changed, still usable) when the entries cannot follow the log
    ///   or would reach into the snapshot, or the commit index would pass the last index;
    ///   `.recordTooLarge`; `.poisoned` after an earlier failure.
    public mutating func append(hardState newHardState: HardState? = nil, entries: [Entry]) throws(StorageError) {
        try checkUsable()
        // The whole batch is checked against the log as it stands and framed before anything changes, so a refused
        // batch leaves the log as it was and an accepted one changes the window in place. (Changing a copy of the
        // window instead copied its one term per entry on every append: 4 % of a leader's instructions under
        // registration load, growing with the log.)
        var records: [WALRecord] = []
        var truncation: LogIndex?
        var lastIndex = window.lastIndex
        var lastTerm = window.lastTerm
        if let first = entries.first, first.index <= lastIndex {
            if first.index <= window.baseIndex {
                throw .rejected(reason: "entry \(first.index) is at or below the snapshot through \(window.baseIndex)")
            }
            if let refusal = window.refusalToTruncate(from: first.index) { throw .rejected(reason: refusal) }
            truncation = first.index
            lastIndex = first.index.previous
            lastTerm = window.term(at: lastIndex)
            records.append(.truncate(from: first.index))
        }
        for entry in entries {
            if let refusal = LogWindow<Term>.refusalToAppend(entry.term, at: entry.index, after: lastIndex, lastTerm: lastTerm) {
                throw .rejected(reason: refusal)
            }
            lastIndex = entry.index
            lastTerm = entry.term
            records.append(.entry(entry))
        }
        // After the entries, so a torn batch never keeps a commit index without its entries.
        if let newHardState {
            // Recovery refuses a commit index past the log (it means a lost segment), so a caller
            // bug that would persist one is caught here rather than at the next boot.
            guard newHardState.commit <= lastIndex else {
                throw .rejected(
                    reason: "commit index \(newHardState.commit) is past the last index \(lastIndex)")
            }
            // Terms only grow (Raft §5.1); recovery refuses a log whose hard state goes back.
            guard newHardState.term >= hardState.term else {
                throw .rejected(
                    reason: "hard state term \(newHardState.term) is below the stored term \(hardState.term)")
            }
            records.append(.hardState(newHardState))
        }
        var framed: [PendingRecord] = []
        framed.reserveCapacity(records.count)
        var lastIndexAfter = window.lastIndex
        let hardStateAfter = newHardState ?? hardState
        for record in records {
            let bytes = RecordFrame.encode(record)
            let bodyLength = bytes.count - RecordFrame.headerBytes
            guard bodyLength <= options.maxRecordBytes else {
                throw .recordTooLarge(length: bodyLength, limit: options.maxRecordBytes)
            }
            switch record {
            case .entry(let entry): lastIndexAfter = entry.index
            case .truncate(let index): lastIndexAfter = index.previous
            default: break
            }
            framed.append(PendingRecord(bytes: bytes, lastIndexAfter: lastIndexAfter, hardStateAfter: hardState))
        }
        if !framed.isEmpty { framed[framed.count - 1].hardStateAfter = hardStateAfter }
        if let truncation { window.truncate(from: truncation) }
        for entry in entries { window.append(entry.term) }
        hardState = hardStateAfter
        pending.append(contentsOf: framed)
    }

    // MARK: - Group commit

    /// Writes every record appended since the last sync and makes it durable with one fsync.
    ///
    /// - Returns: the durable last index, which every later crash preserves.
    /// - Throws: the write or fsync error, after which the log is poisoned; the caller must stop
    ///   and must not acknowledge anything appended since the previous successful sync.
    @discardableResult
    public mutating func sync() throws(StorageError) -> LogIndex {
        try checkUsable()
        guard !pending.isEmpty else { return durableLastIndexValue }
        do {
            try writePending()
        } catch {
            failure = error
            throw error
        }
        pending = []
        durableLastIndexValue = window.lastIndex
        durableHardState = hardState
        return durableLastIndexValue
    }

    private mutating func writePending() throws(StorageError) {
        var chunk: [UInt8] = []
        var lastIndexBefore = durableLastIndexValue
        var hardStateBefore = durableHardState
        for record in pending {
            let segmentHasRecords = activeSize > activeHeaderSize || chunk.count > 0
            let sealBytes = RecordFrame.headerBytes + 10  // room left for the seal record
            if segmentHasRecords && activeSize + chunk.count + record.bytes.count + sealBytes > options.segmentBytes {
                try fileSystem.write(chunk, to: activeFile, at: activeSize)
                noteWritten(chunk)
                chunk = []
                try rollOver(firstIndex: lastIndexBefore.next, hardState: hardStateBefore)
            }
            chunk.append(contentsOf: record.bytes)
            lastIndexBefore = record.lastIndexAfter
            hardStateBefore = record.hardStateAfter
        }
        if try writeDurably(chunk) { return }
        try fileSystem.write(chunk, to: activeFile, at: activeSize)
        noteWritten(chunk)
        try fillAhead()
        try fileSystem.sync(activeFile)
    }

    /// Moves the end of the active segment past `chunk`, just written there, keeping `tailBlock` in step.
    private mutating func noteWritten(_ chunk: [UInt8]) {
        let newSize = activeSize + chunk.count
        let blockStart = Self.blockAligned(newSize, roundingUp: false)
        if blockStart >= activeSize {
            tailBlock = Array(chunk[(blockStart - activeSize)...])
        } else {
            tailBlock.append(contentsOf: chunk)
        }
        activeSize = newSize
    }

    /// Writes `chunk` at the end of the active segment and makes it durable in one direct write (`directFile`), with
    /// the tail of the last block in front (the same bytes again) and zeros up to the next block boundary behind,
    /// which is what that space held anyway (zeros after the last record read as reserved space). Returns false,
    /// having written nothing, where the segment takes no direct writes or the blocks would pass the reservation; the
    /// caller then writes and syncs.
    ///
    /// Why: a write and an `fdatasync` take the page cache's way, dirtying pages and writing them back before the
    /// flush; a direct synced write hands the blocks to the device and flushes. On this project's 2-core VM
    /// (2026-12-06): python3, 300-byte records into a zero-filled file, 79–82 µs at the median against 92–105 µs, and
    /// about a third less kernel CPU; one member, one client registering, 5,962–6,101 against 4,932–5,577/s.
    private mutating func writeDurably(_ chunk: [UInt8]) throws(StorageError) -> Bool {
        guard let directFile else { return false }
        let start = activeSize - tailBlock.count
        let end = activeSize + chunk.count
        let paddedEnd = Self.blockAligned(end, roundingUp: true)
        guard paddedEnd <= Self.blockAligned(reservedEnd, roundingUp: false) else { return false }
        try fillAheadDurably(past: paddedEnd, through: directFile)
        var blocks = tailBlock
        blocks.reserveCapacity(paddedEnd - start)
        blocks.append(contentsOf: chunk)
        blocks.append(contentsOf: repeatElement(0, count: paddedEnd - end))
        try fileSystem.writeDurably(blocks, to: directFile, at: start)
        noteWritten(chunk)
        return true
    }

    /// `fillAhead` for direct writes: the zeros go the same way, before the records that will overwrite them, so
    /// that the records' write converts no extent (each fill is one more synced write, once per half a step).
    private mutating func fillAheadDurably(past paddedEnd: Int, through directFile: OpenFile) throws(StorageError) {
        let step = options.fillAheadBytes
        guard step > 0, filledEnd - paddedEnd < step / 2 else { return }
        let start = max(filledEnd, Self.blockAligned(activeSize, roundingUp: true))
        let end = min(Self.blockAligned(paddedEnd + step, roundingUp: false), Self.blockAligned(reservedEnd, roundingUp: false))
        guard end > start else { return }
        try fileSystem.writeDurably([UInt8](repeating: 0, count: end - start), to: directFile, at: start)
        filledEnd = end
    }

    static func blockAligned(_ offset: Int, roundingUp: Bool) -> Int {
        let block = durableWriteBlockBytes
        return (roundingUp ? offset + block - 1 : offset) / block * block
    }

    /// Opens `path`, the active segment, for direct writes when the options allow them and space was reserved.
    func openDirect(_ path: String, reserved: Int) throws(StorageError) -> OpenFile? {
        guard options.directWrites, reserved > 0 else { return nil }
        return try fileSystem.openForDurableWrites(path)
    }

    /// Writes zeros ahead of the records, `StorageOptions.fillAheadBytes` at a time, once fewer than half that are
    /// left, so that the records after them overwrite blocks already written. Space `preallocate` reserved is
    /// unwritten on ext4: the first write into a block converts its extent, a change of metadata, and the fsync after
    /// it commits the journal. Over blocks already written the fsync only flushes the data. The conversion is then
    /// paid once per fill, under the same fsync as the records before it, instead of on every small synced write.
    /// Zeros after the last record read as reserved space at recovery, so a crash at any point leaves nothing new.
    /// Only inside the reservation: where it failed, zeros would take space the records may need.
    private mutating func fillAhead() throws(StorageError) {
        let step = options.fillAheadBytes
        guard step > 0, filledEnd - activeSize < step / 2 else { return }
        let start = max(filledEnd, activeSize)
        let end = min(activeSize + step, reservedEnd)
        guard end > start else { return }
        try fileSystem.write([UInt8](repeating: 0, count: end - start), to: activeFile, at: start)
        filledEnd = end
    }

    /// Replaces the full active segment with a new one, in an order that leaves every crash
    /// recognisable (see `Recovery`):
    /// 1. fsync the old segment, so that only the newest segment can ever have a torn tail;
    /// 2. create the new one with its preamble, preallocate it, fsync it and the directory;
    /// 3. write a seal naming the new segment after the old one's last record, cut the old one's unwritten
    ///    reserved space (recovery reads every retained segment whole), and fsync it. From then on a missing
    ///    newest segment is detectable: its predecessor is sealed. A crash before the cut leaves zeros after
    ///    the seal, which recovery skips.
    private mutating func rollOver(firstIndex: LogIndex, hardState: HardState) throws(StorageError) {
        try fileSystem.sync(activeFile)
        if let directFile { fileSystem.close(directFile) }
        directFile = nil
        let previous = activeFile
        let sequence = (segments.last?.sequence ?? 0) + 1
        let path = directory.appendingPathComponent(DataDirectory.segmentName(sequence: sequence))
        let file = try fileSystem.open(path, create: true)
        let preamble = Self.segmentPreamble(
            identity: identity, sequence: sequence, firstIndex: firstIndex, hardState: hardState)
        try fileSystem.write(preamble, to: file, at: 0)
        let reservedSize = preallocate(file)
        try fileSystem.sync(file)
        try fileSystem.syncDirectory(directory)
        let seal = RecordFrame.encode(.sealed(successor: sequence))
        try fileSystem.write(seal, to: previous, at: activeSize)
        try fileSystem.truncate(previous, to: activeSize + seal.count)
        try fileSystem.sync(previous)
        fileSystem.close(previous)
        segments.append(Segment(sequence: sequence, firstIndex: firstIndex, path: path))
        activeFile = file
        activeSize = preamble.count
        activeHeaderSize = preamble.count
        reservedEnd = reservedSize
        filledEnd = 0
        tailBlock = Array(preamble[Self.blockAligned(preamble.count, roundingUp: false)...])
        directFile = try openDirect(path, reserved: reservedSize)
    }

    /// Reserves the segment's full size (`segmentBytes`), so its records are written into reserved space and each
    /// fsync commits no change of size. Best effort: the reservation only makes fsyncs cheaper, so a file system that
    /// refuses it (no space for a whole segment, no fallocate support) leaves the log appending as before, and a full
    /// disk then shows up where it matters, on a write.
    /// - Returns: the size reserved, 0 when the reservation failed.
    func preallocate(_ file: OpenFile) -> Int {
        (try? fileSystem.preallocate(file, size: options.segmentBytes)) == nil ? 0 : options.segmentBytes
    }

    static func segmentPreamble(
        identity: StorageIdentity, sequence: UInt64, firstIndex: LogIndex, hardState: HardState
    ) -> [UInt8] {
        let header = SegmentHeader(
            formatVersion: IdentityFile.formatVersion, identity: identity, sequence: sequence, firstIndex: firstIndex)
        return RecordFrame.encode(.segmentHeader(header)) + RecordFrame.encode(.hardState(hardState))
    }

    // MARK: - Snapshots

    /// Writes snapshot files for this log from another thread (see `SnapshotWriter`).
    public var snapshotWriter: SnapshotWriter {
        SnapshotWriter(
            fileSystem: fileSystem, directory: directory, identity: identity, maxSnapshotBytes: options.maxSnapshotBytes)
    }

    /// Makes `snapshot` durable and compacts the log behind it, on this thread: syncs pending records first, then
    /// `snapshotWriter.write` and `adoptSnapshot`. The sync comes first because the snapshot may lie beyond what the
    /// log has made durable (one installed from the leader): a snapshot file must never be durable ahead of the
    /// records before it, or recovery would pair it with a log that ends short of it.
    /// - Throws: as `adoptSnapshot`, and `.rejected` (nothing written) for a snapshot over `maxSnapshotBytes`.
    public mutating func saveSnapshot(_ snapshot: Snapshot) throws(StorageError) {
        try checkUsable()
        try checkAdoptable(snapshot.metadata)
        do {
            try sync()
            try snapshotWriter.write(snapshot)
        } catch {
            if case .rejected = error { throw error }
            failure = failure ?? error
            throw error
        }
        try adoptSnapshot(snapshot.metadata)
    }

    /// Makes the snapshot file `snapshotWriter` wrote for `metadata` the log's base and compacts the log behind it.
    /// The caller guarantees what `saveSnapshot` ensures with its first sync: the log's records through
    /// `metadata.index` were durable before the file was written (a node snapshots only entries it applied, and it
    /// applies only entries it persisted).
    ///
    /// Steps, each safe to crash after: sync pending records; log a snapshot-base record and
    /// fsync; start a new segment if the active one holds `snapshotRolloverBytes`; delete all but the
    /// newest two snapshot files and every segment whose entries all lie at or below the snapshot; fsync
    /// the directory. Entries after the snapshot are kept when the
    /// log holds the snapshot's last entry with the same term, otherwise the log restarts after it.
    /// - Throws: `.rejected` (nothing changed) for a snapshot older than the current one or at its
    ///   index with another term; I/O errors poison the log.
    public mutating func adoptSnapshot(_ metadata: SnapshotMetadata) throws(StorageError) {
        try checkUsable()
        try checkAdoptable(metadata)
        do {
            try sync()
            let path = snapshotWriter.path(for: metadata)
            snapshotPaths.removeAll { $0 == path }
            snapshotPaths.append(path)
            if window.rebase(index: metadata.index, term: metadata.term) {
                // The snapshot replaced entries the log held from its index on. Recovery may replay this segment
                // from its start, after a compaction deleted the one before: it then does not see the entry at the
                // snapshot's index, and the snapshot-base record alone would leave the later ones in place, with the
                // entries appended after the snapshot not following them. A truncation first says they are gone
                // (simulator seed 9338 with --fault internal-ids-restart).
                pending.append(
                    PendingRecord(
                        bytes: RecordFrame.encode(.truncate(from: metadata.index)),
                        lastIndexAfter: metadata.index.previous, hardStateAfter: hardState))
            }
            pending.append(
                PendingRecord(
                    bytes: RecordFrame.encode(.snapshotBase(index: metadata.index, term: metadata.term)),
                    lastIndexAfter: window.lastIndex, hardStateAfter: hardState))
            try sync()
            if activeSize - activeHeaderSize >= options.snapshotRolloverBytes {
                try rollOver(firstIndex: window.lastIndex.next, hardState: hardState)
            }
            try compact(through: metadata.index)
        } catch {
            failure = failure ?? error
            throw error
        }
    }

    /// Deletes the file `snapshotWriter` wrote for `metadata` when the log will not adopt it (a newer snapshot, one
    /// installed from the leader, took its place meanwhile); a file the log adopted stays.
    public mutating func discardSnapshot(_ metadata: SnapshotMetadata) throws(StorageError) {
        try checkUsable()
        let path = snapshotWriter.path(for: metadata)
        guard !snapshotPaths.contains(path), try fileSystem.status(path) != nil else { return }
        do {
            try fileSystem.remove(path)
            try fileSystem.syncDirectory(directory)
        } catch {
            failure = failure ?? error
            throw error
        }
    }

    private func checkAdoptable(_ metadata: SnapshotMetadata) throws(StorageError) {
        guard metadata.index >= window.baseIndex else {
            throw .rejected(
                reason: "snapshot through \(metadata.index) is older than the current one through \(window.baseIndex)")
        }
        // A committed index has one term forever (Log Matching), so two snapshots at one index
        // with different terms mean a caller bug; recovery could not tell which one is right.
        if metadata.index == window.baseIndex, let term = window.baseTerm, term != metadata.term {
            throw .rejected(
                reason:
                    "snapshot through \(metadata.index) has term \(metadata.term), but the current one has term \(term)"
            )
        }
    }

    private mutating func compact(through index: LogIndex) throws(StorageError) {
        var removed = false
        while snapshotPaths.count > 2 {
            try fileSystem.remove(snapshotPaths.removeFirst())
            removed = true
        }
        // Segment k holds only indexes below segment k+1's first index.
        while segments.count > 1, segments[1].firstIndex.rawValue - 1 <= index.rawValue {
            try fileSystem.remove(segments.removeFirst().path)
            removed = true
        }
        if removed { try fileSystem.syncDirectory(directory) }
    }

    // MARK: - Lifecycle

    /// Releases the directory lock and the open segment. Unsynced records are dropped, as in a crash.
    public mutating func close() {
        if let directFile { fileSystem.close(directFile) }
        fileSystem.close(activeFile)
        fileSystem.close(lock)
        failure = failure ?? .closed(path: directory)
    }

    private func checkUsable() throws(StorageError) {
        guard let failure else { return }
        switch failure {
        case .closed, .poisoned: throw failure
        default: throw .poisoned(cause: failure)
        }
    }
}
