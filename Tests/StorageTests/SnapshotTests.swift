// Goal: snapshots are atomic (a crash at any step leaves either the old or the new snapshot with a
// log that fits it), verified on load, the newest two are kept, and the segments they cover are
// deleted. Method: stop `saveSnapshot` after each possible number of file operations with an
// injected power loss, crash the simulated disk (cleanly and with torn writes), and reopen; plus
// direct checks of retention, compaction, fallback and install.
import Raft
import Testing

@testable import Storage

@Suite("Snapshots")
struct SnapshotTests {
    /// Entries 1...30 synced, with a snapshot through 8 already saved.
    static func logWithSnapshot() throws -> (SimulatedFileSystem, DurableLog) {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        try log.append(hardState: HardState(term: Term(1), commit: LogIndex(25)), entries: entries(1...30))
        try log.sync()
        try log.saveSnapshot(snapshot(index: 8, term: 1, data: [8]))
        return (fileSystem, log)
    }

    @Test(
        "a crash at every step of saveSnapshot leaves the old or the new snapshot, never a mix",
        arguments: [false, true])
    func atomicAtEveryStep(tornWrites: Bool) throws {
        let steps = try Self.oldOrNewAtEveryStep(tornWrites: tornWrites) { log in
            try log.saveSnapshot(snapshot(index: 20, term: 1, data: [20]))
        }
        #expect(steps > 8, "saveSnapshot needs more than a handful of file operations")
    }

    /// Runs `replace` (which makes the snapshot through 20, data [20], the log's) on `logWithSnapshot()` with a power
    /// loss after 0, 1, 2, … file operations until it completes; after each loss, recovery must find the old snapshot
    /// or the new one, each with the entries after it. Returns how many file operations `replace` took.
    static func oldOrNewAtEveryStep(
        tornWrites: Bool, _ replace: (inout DurableLog) throws -> Void
    ) throws -> Int {
        var step = 0
        while true {
            var (fileSystem, log) = try logWithSnapshot()
            fileSystem.failEveryOperation(afterOperations: step)
            do {
                try replace(&log)
                return step
            } catch {
                fileSystem.crash(keepingRandomPrefixOf: tornWrites ? UInt64(step) : nil)
                let (_, state) = try openLog(fileSystem)
                switch state.snapshot.metadata.index.rawValue {
                case 8:
                    #expect(state.snapshot == snapshot(index: 8, term: 1, data: [8]), "step \(step)")
                    #expect(state.entries == entries(9...30), "step \(step)")
                case 20:
                    #expect(state.snapshot == snapshot(index: 20, term: 1, data: [20]), "step \(step)")
                    #expect(state.entries == entries(21...30), "step \(step)")
                default:
                    Issue.record("step \(step): recovered snapshot \(state.snapshot.metadata)")
                }
                step += 1
            }
        }
    }

    @Test("only the newest two snapshot files are kept")
    func retention() throws {
        var (fileSystem, log) = try Self.logWithSnapshot()
        for index in [12, 16, 20] as [UInt64] { try log.saveSnapshot(snapshot(index: index, term: 1)) }
        let names = try fileSystem.listDirectory(dataDirectory).filter { $0.hasPrefix("snapshot-") }
        #expect(
            names == [DataDirectory.snapshotName(index: 16, term: 1), DataDirectory.snapshotName(index: 20, term: 1)])
    }

    @Test("segments wholly covered by a snapshot are deleted and the rest still recovers")
    func compaction() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        for index in 1...80 as ClosedRange<UInt64> {
            try log.append(hardState: HardState(term: Term(1), commit: LogIndex(index)), entries: [entry(index)])
            try log.sync()
        }
        let before = log.segmentPaths
        try log.saveSnapshot(snapshot(index: 70, term: 1))
        let after = log.segmentPaths
        #expect(after.count < before.count)
        #expect(after == Array(before.suffix(after.count)))
        let listed = try fileSystem.listDirectory(dataDirectory).filter { $0.hasPrefix("wal-") }
        #expect(listed.map { dataDirectory.appendingPathComponent($0) } == after)
        log.close()
        let (_, state) = try openLog(fileSystem)
        #expect(state.entries == entries(71...80))
        #expect(state.hardState.commit == LogIndex(80))
    }

    @Test("a damaged newest snapshot falls back to the older one while the log still covers it")
    func fallback() throws {
        var (fileSystem, log) = try Self.logWithSnapshot()
        // Operations 1-6 of saveSnapshot write, fsync, rename and fsync the directory; stop before the log record.
        fileSystem.failEveryOperation(afterOperations: 6)
        #expect(throws: StorageError.self) { try log.saveSnapshot(snapshot(index: 20, term: 1)) }
        fileSystem.crash()
        let newest = dataDirectory.appendingPathComponent(DataDirectory.snapshotName(index: 20, term: 1))
        var bytes = try fileSystem.readFile(newest, limit: 1 << 20)
        bytes[bytes.count / 2] ^= 0x40
        try fileSystem.overwrite(newest, with: bytes)
        let (reopened, state) = try openLog(fileSystem)
        #expect(state.snapshot.metadata.index == LogIndex(8))
        #expect(state.entries == entries(9...30))
        #expect(reopened.recoveryReport.skippedSnapshots.map(\.path) == [newest])
    }

    @Test("a damaged newest snapshot whose log was compacted away is refused, not silently replaced")
    func damagedSnapshotRefused() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        for index in 1...60 as ClosedRange<UInt64> {
            try log.append(hardState: HardState(term: Term(1), commit: LogIndex(index)), entries: [entry(index)])
            try log.sync()
        }
        try log.saveSnapshot(snapshot(index: 10, term: 1))
        try log.saveSnapshot(snapshot(index: 55, term: 1))
        log.close()
        let newest = dataDirectory.appendingPathComponent(DataDirectory.snapshotName(index: 55, term: 1))
        var bytes = try fileSystem.readFile(newest, limit: 1 << 20)
        bytes[3] ^= 1
        try fileSystem.overwrite(newest, with: bytes)
        #expect {
            try openLog(fileSystem)
        } throws: { error in
            guard case .missingFile = error as? StorageError else { return false }
            return true
        }
    }

    @Test("a damaged only snapshot (the founding one) is refused by name, never replaced by an empty state")
    func damagedOnlySnapshotRefused() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        try log.saveSnapshot(snapshot(index: 0, term: 0, data: [1, 2, 3]))
        try log.append(hardState: HardState(term: Term(1), commit: LogIndex(5)), entries: entries(1...5))
        try log.sync()
        log.close()
        let founding = dataDirectory.appendingPathComponent(DataDirectory.snapshotName(index: 0, term: 0))
        var bytes = try fileSystem.readFile(founding, limit: 1 << 20)
        bytes[bytes.count / 2] ^= 0x01
        try fileSystem.overwrite(founding, with: bytes)
        #expect {
            try openLog(fileSystem)
        } throws: { error in
            guard case .corrupt(let path, _, let reason) = error as? StorageError else { return false }
            return path == founding && reason.contains("no snapshot in the directory verifies")
                && "\(error)".contains("Refusing to start")
        }
    }

    /// Every byte position class of a snapshot file (header, metadata, data, checksum) flipped in turn, in
    /// each of the directory's snapshots: recovery either rebuilds exactly the undamaged state from the
    /// other snapshot plus the log (and reports the damaged one by name) or refuses naming a snapshot.
    @Test("a flipped byte in any snapshot of a directory is reported by name; recovery falls back or refuses",
          arguments: [0, 1])
    func flippedByteInEachSnapshot(damaged: Int) throws {
        let names = [DataDirectory.snapshotName(index: 8, term: 1), DataDirectory.snapshotName(index: 20, term: 1)]
        let target = dataDirectory.appendingPathComponent(names[damaged])
        let size = try {
            var (fileSystem, log) = try Self.logWithTwoSnapshots()
            log.close()
            return try fileSystem.readFile(target, limit: 1 << 20).count
        }()
        for position in stride(from: 0, to: size, by: max(1, size / 24)) {
            var (fileSystem, log) = try Self.logWithTwoSnapshots()
            log.close()
            var bytes = try fileSystem.readFile(target, limit: 1 << 20)
            bytes[position] ^= 0x10
            try fileSystem.overwrite(target, with: bytes)
            do {
                var (reopened, state) = try openLog(fileSystem)
                #expect(reopened.recoveryReport.skippedSnapshots.map(\.path) == [target], "byte \(position)")
                let expected: UInt64 = damaged == 1 ? 8 : 20
                #expect(state.snapshot.metadata.index == LogIndex(expected), "byte \(position)")
                #expect(state.entries.last?.index == LogIndex(30), "byte \(position)")
                reopened.close()
            } catch {
                // Only a damaged newest snapshot whose log was compacted away may refuse; it names the file.
                #expect(damaged == 1, "byte \(position): refused with an older snapshot damaged: \(error)")
                #expect("\(error)".contains(names[damaged]) || "\(error)".contains("snapshot"), "\(error)")
            }
        }
    }

    /// Entries 1...30 synced, snapshots through 8 and through 20 saved (the log still covers 9...30).
    static func logWithTwoSnapshots() throws -> (SimulatedFileSystem, DurableLog) {
        var (fileSystem, log) = try logWithSnapshot()
        try log.saveSnapshot(snapshot(index: 20, term: 1, data: [20]))
        _ = fileSystem
        return (fileSystem, log)
    }

    @Test("a snapshot too large to be read back is refused before anything is written")
    func oversizedSnapshot() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem, options: StorageOptions(segmentBytes: 512, maxSnapshotBytes: 1000))
        try log.append(entries: entries(1...3))
        #expect(throws: StorageError.self) {
            try log.saveSnapshot(snapshot(index: 2, term: 1, data: [UInt8](repeating: 1, count: 2000)))
        }
        try log.saveSnapshot(snapshot(index: 2, term: 1, data: [UInt8](repeating: 1, count: 500)))
    }

    @Test("installing a snapshot beyond the log replaces the log")
    func installBeyondLog() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        try log.append(entries: entries(1...5))
        try log.saveSnapshot(snapshot(index: 50, term: 3))
        #expect(log.lastIndex == LogIndex(50))
        try log.append(entries: [entry(51, term: 3)])
        try log.sync()
        log.close()
        let (_, state) = try openLog(fileSystem)
        #expect(state.snapshot.metadata.index == LogIndex(50))
        #expect(state.entries == [entry(51, term: 3)])
    }

    @Test("a snapshot whose term differs from the log's entry at its index discards the whole log")
    func conflictingSnapshot() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        try log.append(entries: entries(1...10))
        try log.saveSnapshot(snapshot(index: 6, term: 2))
        #expect(log.lastIndex == LogIndex(6))
        log.close()
        let (_, state) = try openLog(fileSystem)
        #expect(state.entries.isEmpty)
        #expect(state.snapshot.metadata.term == Term(2))
    }

    @Test("a snapshot that replaced the log recovers from a later segment's start once the segment before is gone")
    func replacingSnapshotReplayedFromSegmentStart() throws {
        // Found by the simulator (seed 9338, --fault internal-ids-restart): a follower installed the leader's snapshot
        // at an index its own segment had already passed, with another term, so the snapshot replaced its log; a
        // later snapshot deleted the older segment, and recovery, replaying from the newer segment's start, kept the
        // entries the snapshot had dropped and refused the ones appended after it.
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem, options: Self.rolloverOptions)
        try log.append(entries: entries(1...30))
        try log.sync()
        try log.saveSnapshot(snapshot(index: 20, term: 1, data: [20]))  // segment 2 starts at 31
        try log.append(entries: entries(31...32))
        try log.sync()
        try log.saveSnapshot(snapshot(index: 25, term: 2, data: [25]))  // entry 25 has term 1: the log is replaced
        #expect(log.lastIndex == LogIndex(25))
        try log.append(entries: entries(26...40, term: 2))
        try log.sync()
        try log.saveSnapshot(snapshot(index: 32, term: 2, data: [32]))  // deletes segment 1
        #expect(try !Self.segmentNames(fileSystem).contains(DataDirectory.segmentName(sequence: 1)))
        log.close()
        let (_, state) = try openLog(fileSystem, options: Self.rolloverOptions)
        #expect(state.snapshot == snapshot(index: 32, term: 2, data: [32]))
        #expect(state.entries == entries(33...40, term: 2))
    }

    @Test("an older snapshot, or one at the same index with another term, is refused without harm")
    func olderSnapshotRefused() throws {
        var (_, log) = try Self.logWithSnapshot()
        #expect(throws: StorageError.self) { try log.saveSnapshot(snapshot(index: 5, term: 1)) }
        #expect(throws: StorageError.self) { try log.saveSnapshot(snapshot(index: 8, term: 2)) }
        try log.append(entries: [entry(31)])
        #expect(try log.sync() == LogIndex(31))
    }

    // MARK: - Rollover at a snapshot

    /// Segments that never fill, so that only a snapshot starts a new one.
    static let rolloverOptions = StorageOptions(segmentBytes: 1 << 20, snapshotRolloverBytes: 200, maxRecordBytes: 4096)

    static func segmentNames(_ fileSystem: SimulatedFileSystem) throws -> [String] {
        try fileSystem.listDirectory(dataDirectory).filter { $0.hasPrefix("wal-") }.sorted()
    }

    @Test("a snapshot closes a segment past snapshotRolloverBytes, and the next snapshot deletes it")
    func rolloverAtSnapshot() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem, options: Self.rolloverOptions)
        try log.append(hardState: HardState(term: Term(1), commit: LogIndex(30)), entries: entries(1...30))
        try log.sync()
        try log.saveSnapshot(snapshot(index: 20, term: 1, data: [20]))
        #expect(try Self.segmentNames(fileSystem).count == 2, "the snapshot started a new segment")
        try log.append(hardState: HardState(term: Term(1), commit: LogIndex(40)), entries: entries(31...40))
        try log.sync()
        // Recovery reads both: the old one still holds entries 21...30 after the snapshot.
        log.close()
        var state: PersistentState
        (log, state) = try openLog(fileSystem, options: Self.rolloverOptions)
        #expect(state.snapshot.metadata.index == LogIndex(20))
        #expect(state.entries == entries(21...40))
        try log.saveSnapshot(snapshot(index: 35, term: 1, data: [35]))
        // Segment 1 (entries 1...30) is gone; 2 (31...40) stays for 36...40; 3 was started by this snapshot.
        #expect(try Self.segmentNames(fileSystem) == [2, 3].map { DataDirectory.segmentName(sequence: $0) })
        log.close()
        (_, state) = try openLog(fileSystem, options: Self.rolloverOptions)
        #expect(state.snapshot == snapshot(index: 35, term: 1, data: [35]))
        #expect(state.entries == entries(36...40))
        #expect(state.hardState == HardState(term: Term(1), commit: LogIndex(40)))
    }

    @Test("a crash at every step of a snapshot that rolls over recovers the old or the new snapshot", arguments: [false, true])
    func rolloverAtomicAtEveryStep(tornWrites: Bool) throws {
        var step = 0
        while true {
            let fileSystem = SimulatedFileSystem()
            var (log, _) = try openLog(fileSystem, options: Self.rolloverOptions)
            try log.append(hardState: HardState(term: Term(1), commit: LogIndex(25)), entries: entries(1...30))
            try log.sync()
            fileSystem.failEveryOperation(afterOperations: step)
            do {
                try log.saveSnapshot(snapshot(index: 20, term: 1, data: [20]))
            } catch {
                fileSystem.crash(keepingRandomPrefixOf: tornWrites ? UInt64(step) : nil)
                let (_, state) = try openLog(fileSystem, options: Self.rolloverOptions)
                #expect(state.hardState == HardState(term: Term(1), commit: LogIndex(25)), "step \(step)")
                switch state.snapshot.metadata.index.rawValue {
                case 0: #expect(state.entries == entries(1...30), "step \(step)")
                case 20: #expect(state.entries == entries(21...30), "step \(step)")
                default: Issue.record("step \(step): recovered snapshot \(state.snapshot.metadata)")
                }
                step += 1
                continue
            }
            #expect(try Self.segmentNames(fileSystem).count == 2)
            break
        }
    }
}
