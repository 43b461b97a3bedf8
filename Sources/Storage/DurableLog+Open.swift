import Raft

extension DurableLog {
    /// Opens (creating it if needed) and recovers the data directory at `directory`.
    ///
    /// Recovery replays every segment in order. A torn tail of the last segment is cut and reported
    /// in `recoveryReport`; anything else that fails validation, a gap in the segment sequence, an
    /// index that cannot follow its predecessor, or a log that does not reach back to the newest
    /// valid snapshot refuses to start with an error naming the file and offset: recovery never
    /// drops data it cannot prove was unacknowledged.
    /// - Returns: the open log, and the state the Raft node starts from. A fresh directory yields an
    ///   empty log on a zero snapshot with no members (`recoveryReport.createdFresh`); a new member
    ///   then starts from `PersistentState.bootstrap(configuration:)` and may persist it with
    ///   `saveSnapshot`.
    /// - Throws: `StorageError`: `.locked`, `.notADirectory`, `.unsafePermissions`, `.readOnly`,
    ///   `.identityMismatch`, `.unsupportedFormat`, `.corrupt`, `.impossibleIndex`, `.missingFile`, I/O.
    public static func open(
        directory: String,
        identity: StorageIdentity,
        fileSystem: any FileSystem,
        options: StorageOptions = StorageOptions()
    ) throws(StorageError) -> (DurableLog, PersistentState) {
        try prepareDirectory(directory, fileSystem: fileSystem)
        let lock = try fileSystem.lockDirectory(directory)
        do {
            var recovery = Recovery(directory: directory, identity: identity, fileSystem: fileSystem, options: options)
            return try recovery.run(lock: lock)
        } catch {
            fileSystem.close(lock)
            throw error
        }
    }

    private static func prepareDirectory(_ directory: String, fileSystem: any FileSystem) throws(StorageError) {
        guard let status = try fileSystem.status(directory) else {
            try fileSystem.createDirectory(directory)
            try fileSystem.syncDirectory(parent(of: directory))
            return
        }
        guard status.kind == .directory else { throw .notADirectory(path: directory) }
        // Group- or world-writable lets another user replace the log (CVE-2020-15113 in etcd).
        guard status.permissions & 0o022 == 0 else {
            throw .unsafePermissions(path: directory, mode: status.permissions)
        }
    }

    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// The steps of `DurableLog.open` after the lock is taken.
private struct Recovery {
    let directory: String
    let identity: StorageIdentity
    let fileSystem: any FileSystem
    let options: StorageOptions
    var report = RecoveryReport()
    /// Where each damaged snapshot failed, so a refusal can name the offset.
    var damagedOffsets: [String: Int] = [:]

    /// Every skipped snapshot with its reason, for refusals.
    var skippedSummary: String {
        report.skippedSnapshots.map { "\($0.path): \($0.reason)" }.joined(separator: "; ")
    }

    init(directory: String, identity: StorageIdentity, fileSystem: any FileSystem, options: StorageOptions) {
        self.directory = directory
        self.identity = identity
        self.fileSystem = fileSystem
        self.options = options
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name) }

    mutating func run(lock: OpenFile) throws(StorageError) -> (DurableLog, PersistentState) {
        var names = try fileSystem.listDirectory(directory)
        try removeTemporaryFiles(&names)
        var sequences = names.compactMap(DataDirectory.segmentSequence(fromName:)).sorted()
        let snapshotNames = names.filter { DataDirectory.snapshotPosition(fromName: $0) != nil }
        if names.contains(DataDirectory.identityName) {
            let identityPath = path(DataDirectory.identityName)
            try IdentityFile.verify(
                fileSystem.readFile(identityPath, limit: 4096), path: identityPath, expected: identity)
        } else {
            try initialize(existingSequences: sequences, snapshotNames: snapshotNames)
            sequences = [1]
        }
        try checkSequence(sequences)
        let (snapshot, snapshotPath) = try loadNewestSnapshot(snapshotNames)
        report.snapshotPath = snapshotPath
        return try replay(
            sequences: sequences, snapshot: snapshot,
            snapshotPaths: snapshotNames.sorted(by: Self.snapshotOrder).map(path), lock: lock)
    }

    private mutating func removeTemporaryFiles(_ names: inout [String]) throws(StorageError) {
        let temporary = names.filter { $0.hasSuffix(DataDirectory.temporarySuffix) }
        guard !temporary.isEmpty else { return }
        for name in temporary {
            try fileSystem.remove(path(name))
            report.removedFiles.append(path(name))
        }
        names.removeAll { $0.hasSuffix(DataDirectory.temporarySuffix) }
        try fileSystem.syncDirectory(directory)
    }

    /// Creates segment 1 and then the identity file. The identity is written last and marks the
    /// directory complete, so a crash in between leaves an unmistakable half-made directory (one
    /// segment holding nothing but its preamble), which is safe to make again.
    private mutating func initialize(existingSequences: [UInt64], snapshotNames: [String]) throws(StorageError) {
        let preamble = DurableLog.segmentPreamble(
            identity: identity, sequence: 1, firstIndex: LogIndex(1), hardState: HardState())
        let segmentPath = path(DataDirectory.segmentName(sequence: 1))
        let segmentSize = existingSequences == [1] ? try fileSystem.status(segmentPath)?.size ?? 0 : 0
        let halfMade =
            snapshotNames.isEmpty
            && (existingSequences.isEmpty || (existingSequences == [1] && segmentSize <= preamble.count))
        guard halfMade else {
            throw .missingFile(
                path: path(DataDirectory.identityName),
                reason: "the directory holds log or snapshot files but no identity file")
        }
        if !existingSequences.isEmpty { report.removedFiles.append(segmentPath) }
        let file = try fileSystem.open(segmentPath, create: true)
        try fileSystem.truncate(file, to: 0)
        try fileSystem.append(preamble, to: file)
        try fileSystem.sync(file)
        fileSystem.close(file)
        try DurableLog.writeAtomically(
            IdentityFile.encode(identity), to: path(DataDirectory.identityName), directory: directory,
            fileSystem: fileSystem)
        report.createdFresh = true
    }

    private func checkSequence(_ sequences: [UInt64]) throws(StorageError) {
        guard let first = sequences.first else {
            throw .missingFile(
                path: path(DataDirectory.segmentName(sequence: 1)), reason: "the directory holds no log segment")
        }
        for (offset, sequence) in sequences.enumerated() where sequence != first + UInt64(offset) {
            throw .missingFile(
                path: path(DataDirectory.segmentName(sequence: first + UInt64(offset))),
                reason: "segments \(first + UInt64(offset) - 1) and \(sequence) exist but not the ones between")
        }
    }

    private static func snapshotOrder(_ left: String, _ right: String) -> Bool {
        left < right  // fixed-width hex: name order is (index, term) order
    }

    /// The newest snapshot that verifies; damaged ones are skipped and reported (the log check
    /// that follows refuses to start if the survivor is too old for the log). When snapshot files exist
    /// but none verifies, recovery refuses: starting from "no snapshot" would silently drop what the
    /// founding snapshot holds (the initial member list) or everything a later one compacted away.
    private mutating func loadNewestSnapshot(_ names: [String]) throws(StorageError) -> (Snapshot, String?) {
        let newestFirst = Array(names.sorted(by: Self.snapshotOrder).reversed())
        for (rank, name) in newestFirst.enumerated() {
            let snapshotPath = path(name)
            let snapshot: Snapshot
            do {
                let bytes = try fileSystem.readFile(snapshotPath, limit: options.maxSnapshotBytes)
                snapshot = try SnapshotFile.decode(
                    bytes, path: snapshotPath, identity: identity, limits: options.decodingLimits)
            } catch .corrupt(_, let offset, let reason) {
                report.skippedSnapshots.append(.init(path: snapshotPath, reason: "\(reason) at offset \(offset)"))
                damagedOffsets[snapshotPath] = offset
                continue
            }
            guard let position = DataDirectory.snapshotPosition(fromName: name),
                position == (snapshot.metadata.index.rawValue, snapshot.metadata.term.rawValue)
            else {
                report.skippedSnapshots.append(
                    .init(path: snapshotPath, reason: "content is \(snapshot.metadata), not what the name says"))
                continue
            }
            try checkOlderSnapshots(newestFirst.dropFirst(rank + 1))
            return (snapshot, snapshotPath)
        }
        if let newest = names.max(by: Self.snapshotOrder) {
            throw .corrupt(
                path: path(newest), offset: damagedOffsets[path(newest)] ?? 0,
                reason: "no snapshot in the directory verifies (\(skippedSummary)), so the state cannot be rebuilt")
        }
        let empty = SnapshotMetadata(index: .zero, term: .zero, configuration: Configuration(voters: []))
        return (Snapshot(metadata: empty, data: []), nil)
    }

    /// Reports older snapshots (kept as a fallback) that fail their checksum, so damage is found and
    /// logged now rather than on the day the fallback is needed.
    private mutating func checkOlderSnapshots(_ names: ArraySlice<String>) throws(StorageError) {
        for name in names {
            let snapshotPath = path(name)
            do {
                try SnapshotFile.verifyChecksum(
                    fileSystem.readFile(snapshotPath, limit: options.maxSnapshotBytes), path: snapshotPath)
            } catch .corrupt(_, let offset, let reason) {
                report.skippedSnapshots.append(
                    .init(path: snapshotPath, reason: "\(reason) at offset \(offset) (an older fallback, not needed now)"))
            }
        }
    }

    // MARK: - Replay

    private struct ReplayedSegment {
        var segment: DurableLog.Segment
        var scan: SegmentScan
    }

    private mutating func replay(
        sequences: [UInt64], snapshot: Snapshot, snapshotPaths: [String], lock: OpenFile
    ) throws(StorageError) -> (DurableLog, PersistentState) {
        var sequences = sequences
        try removeHalfMadeSuccessor(&sequences)
        var window = LogWindow<Entry>(baseIndex: .zero, baseTerm: nil)
        var hardState = HardState()
        var replayed: [ReplayedSegment] = []
        var unsealed: (path: String, offset: Int)?
        var lastTailBlock: [UInt8] = []
        for (position, sequence) in sequences.enumerated() {
            let segmentPath = path(DataDirectory.segmentName(sequence: sequence))
            let isLast = position == sequences.count - 1
            let bytes = try fileSystem.readFile(segmentPath, limit: segmentReadLimit)
            let scan = try SegmentScan(
                bytes: bytes, path: segmentPath, isLast: isLast, maxRecordBytes: options.maxRecordBytes,
                limits: options.decodingLimits)
            if isLast {
                lastTailBlock = Array(bytes[DurableLog.blockAligned(scan.validLength, roundingUp: false)..<scan.validLength])
            }
            let header = try replaySegment(
                scan, sequence: sequence, path: segmentPath, isFirst: position == 0, isLast: isLast,
                unsealed: unsealed, into: &window, hardState: &hardState)
            if case .sealed? = scan.records.last?.record {
                unsealed = nil
            } else {
                unsealed = (segmentPath, scan.validLength)
            }
            replayed.append(
                ReplayedSegment(
                    segment: .init(sequence: sequence, firstIndex: header.firstIndex, path: segmentPath), scan: scan))
            report.segmentsReplayed.append(segmentPath)
        }
        try attach(snapshot, to: &window, firstSegment: replayed[0].segment)
        let last = replayed[replayed.count - 1]
        guard hardState.commit <= window.lastIndex else {
            throw .impossibleIndex(
                path: last.segment.path, offset: last.scan.validLength,
                reason: "commit index \(hardState.commit) is past the last index \(window.lastIndex); "
                    + "entries the node committed are gone")
        }
        let file = try fileSystem.open(last.segment.path, create: false)
        if let tail = last.scan.tornTail {
            try fileSystem.truncate(file, to: last.scan.validLength)
            try fileSystem.sync(file)
            report.truncatedTail = .init(
                path: last.segment.path, offset: tail.offset,
                discardedBytes: last.scan.dataEnd - last.scan.validLength, reason: tail.reason)
        }
        let headerSize = last.scan.records.count > 2 ? last.scan.records[2].offset : last.scan.validLength
        var log = DurableLog(
            fileSystem: fileSystem, directory: directory, identity: identity, options: options, recoveryReport: report,
            lock: lock, segments: replayed.map(\.segment), activeFile: file, activeSize: last.scan.validLength,
            activeHeaderSize: headerSize,
            window: LogWindow(baseIndex: window.baseIndex, baseTerm: window.baseTerm, items: window.items.map(\.term)),
            hardState: hardState, durableHardState: hardState, durableLastIndexValue: window.lastIndex,
            snapshotPaths: snapshotPaths, failure: nil)
        log.reservedEnd = log.preallocate(file)
        log.tailBlock = lastTailBlock
        log.directFile = try log.openDirect(last.segment.path, reserved: log.reservedEnd)
        return (log, PersistentState(hardState: hardState, snapshot: snapshot, entries: window.items))
    }

    /// A bound on the memory a segment may take at recovery; generous, so that lowering
    /// `segmentBytes` between runs never makes existing, larger segments unreadable.
    private var segmentReadLimit: Int { max(options.segmentBytes + options.maxRecordBytes + 4096, 256 << 20) }

    /// Deletes a newest segment whose creation a crash interrupted: one holding nothing but its
    /// preamble (or less) while its predecessor is not yet sealed. Rollover writes the seal only
    /// after the successor is durable, so nothing in such a successor was ever acknowledged.
    private mutating func removeHalfMadeSuccessor(_ sequences: inout [UInt64]) throws(StorageError) {
        guard sequences.count > 1, let last = sequences.last else { return }
        let lastPath = path(DataDirectory.segmentName(sequence: last))
        let lastScan = try SegmentScan(
            bytes: fileSystem.readFile(lastPath, limit: segmentReadLimit), path: lastPath, isLast: true,
            maxRecordBytes: options.maxRecordBytes, limits: options.decodingLimits)
        guard lastScan.records.count <= 2 else { return }
        if case .segmentHeader(let header)? = lastScan.records.first?.record, header.identity != identity {
            return  // not ours: replay reports the mismatch instead of deleting evidence
        }
        let previousPath = path(DataDirectory.segmentName(sequence: last - 1))
        let previousScan = try SegmentScan(
            bytes: fileSystem.readFile(previousPath, limit: segmentReadLimit), path: previousPath, isLast: true,
            maxRecordBytes: options.maxRecordBytes, limits: options.decodingLimits)
        if case .sealed? = previousScan.records.last?.record { return }
        try fileSystem.remove(lastPath)
        try fileSystem.syncDirectory(directory)
        report.removedFiles.append(lastPath)
        sequences.removeLast()
    }

    /// Applies one segment's records to the log being rebuilt; returns its header.
    private func replaySegment(
        _ scan: SegmentScan, sequence: UInt64, path: String, isFirst: Bool, isLast: Bool,
        unsealed: (path: String, offset: Int)?,
        into window: inout LogWindow<Entry>, hardState: inout HardState
    ) throws(StorageError) -> SegmentHeader {
        guard case .segmentHeader(let header)? = scan.records.first?.record else {
            throw .corrupt(path: path, offset: 0, reason: "segment does not begin with a segment header")
        }
        guard header.identity == identity else {
            throw .identityMismatch(path: path, expected: identity, found: header.identity)
        }
        try IdentityFile.checkReadable(header.formatVersion, path: path)
        guard header.sequence == sequence else {
            throw .corrupt(
                path: path, offset: 0, reason: "header says segment \(header.sequence), the name says \(sequence)")
        }
        if let unsealed {
            throw .corrupt(
                path: unsealed.path, offset: unsealed.offset,
                reason: "segment ends without a seal but \(path) follows it")
        }
        guard header.firstIndex.rawValue >= 1 else {
            throw .impossibleIndex(path: path, offset: 0, reason: "segment starts at index 0")
        }
        if isFirst {
            window = LogWindow(baseIndex: header.firstIndex.previous, baseTerm: nil)
        } else if header.firstIndex != window.lastIndex.next {
            throw .impossibleIndex(
                path: path, offset: 0,
                reason: "segment starts at index \(header.firstIndex) but the log before it ends at \(window.lastIndex)"
            )
        }
        for item in scan.records.dropFirst() {
            switch item.record {
            case .segmentHeader:
                throw .corrupt(path: path, offset: item.offset, reason: "a second segment header")
            case .hardState(let next):
                guard next.term >= hardState.term else {
                    throw .impossibleIndex(
                        path: path, offset: item.offset, reason: "hard state term \(next.term) below \(hardState.term)")
                }
                hardState = next
            case .entry(let entry):
                if let refusal = window.refusalToAppend(entry, at: entry.index) {
                    throw .impossibleIndex(path: path, offset: item.offset, reason: refusal)
                }
                window.append(entry)
            case .truncate(let index):
                if let refusal = window.refusalToTruncate(from: index) {
                    throw .impossibleIndex(path: path, offset: item.offset, reason: refusal)
                }
                window.truncate(from: index)
            case .snapshotBase(let index, let term):
                window.rebase(index: index, term: term)
            case .sealed(let successor):
                guard item.offset == scan.records.last?.offset else {
                    throw .corrupt(path: path, offset: item.offset, reason: "records follow the segment's seal")
                }
                guard successor == sequence + 1 else {
                    throw .corrupt(
                        path: path, offset: item.offset,
                        reason: "sealed with successor \(successor), expected \(sequence + 1)")
                }
                if isLast {
                    throw .missingFile(
                        path: self.path(DataDirectory.segmentName(sequence: successor)),
                        reason: "\(path) is sealed, so its successor was made durable, but it is gone")
                }
            }
        }
        return header
    }

    /// Puts the rebuilt log on the snapshot, refusing when the log does not reach back to it.
    private func attach(_ snapshot: Snapshot, to window: inout LogWindow<Entry>, firstSegment: DurableLog.Segment)
        throws(StorageError)
    {
        let metadata = snapshot.metadata
        guard metadata.index >= window.baseIndex else {
            let missing =
                window.baseTerm == nil
                ? "the segments before \(firstSegment.path), which started at index \(firstSegment.firstIndex),"
                : "the snapshot through \(window.baseIndex) that the log refers to"
            let damaged = report.skippedSnapshots.isEmpty ? "" : " (damaged and skipped: \(skippedSummary))"
            throw .missingFile(
                path: report.snapshotPath ?? path("snapshot-*.snap"),
                reason: "\(missing) cannot be found; the newest valid snapshot covers only through "
                    + "\(metadata.index)\(damaged)")
        }
        if metadata.index == window.baseIndex {
            if let term = window.baseTerm, term != metadata.term {
                throw .impossibleIndex(
                    path: report.snapshotPath ?? firstSegment.path, offset: 0,
                    reason:
                        "snapshot term \(metadata.term) differs from the logged base term \(term) at index \(metadata.index)"
                )
            }
            window.baseTerm = metadata.term
        } else {
            window.rebase(index: metadata.index, term: metadata.term)
        }
    }
}

extension DurableLog {
    /// Writes a whole file so that after a crash it is either absent or complete.
    static func writeAtomically(
        _ bytes: [UInt8], to path: String, directory: String, fileSystem: any FileSystem,
        temporarySuffix: String = DataDirectory.temporarySuffix
    ) throws(StorageError) {
        let temporary = path + temporarySuffix
        let file = try fileSystem.open(temporary, create: true)
        try fileSystem.truncate(file, to: 0)
        try fileSystem.append(bytes, to: file)
        try fileSystem.sync(file)
        fileSystem.close(file)
        try fileSystem.rename(temporary, to: path)
        try fileSystem.syncDirectory(directory)
    }
}
