// Goal: the everyday contract of DurableLog: what is synced comes back after a restart exactly
// (hard state, log, snapshot), group commit covers any number of appends with one fsync, conflicts
// truncate the tail, and bad appends are refused without harm. Method: drive a log on a
// SimulatedFileSystem, close or crash it, reopen, and compare with what was written.
import Raft
import Testing

@testable import Storage

@Suite("DurableLog basics")
struct DurableLogTests {
    @Test("a fresh directory opens empty and says so")
    func fresh() throws {
        let fileSystem = SimulatedFileSystem()
        let (log, state) = try openLog(fileSystem)
        #expect(log.recoveryReport.createdFresh)
        #expect(state.entries.isEmpty)
        #expect(state.hardState == HardState())
        #expect(state.snapshot.metadata.index == .zero)
    }

    @Test("restart yields the same hard state, log and snapshot")
    func restartRoundTrip() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        try log.append(hardState: HardState(term: Term(1), vote: NodeID(1), commit: .zero), entries: entries(1...30))
        try log.sync()
        try log.saveSnapshot(snapshot(index: 20, term: 1))
        try log.append(
            hardState: HardState(term: Term(2), vote: NodeID(2), commit: LogIndex(25)),
            entries: entries(31...40, term: 2))
        #expect(try log.sync() == LogIndex(40))
        log.close()
        let (reopened, state) = try openLog(fileSystem)
        #expect(state.hardState == HardState(term: Term(2), vote: NodeID(2), commit: LogIndex(25)))
        #expect(state.snapshot == snapshot(index: 20, term: 1))
        #expect(state.entries == entries(21...30) + entries(31...40, term: 2))
        #expect(reopened.recoveryReport.truncatedTail == nil)
        #expect(reopened.lastIndex == LogIndex(40))
    }

    @Test("one sync covers every append since the last one with a single fsync (or direct write)", arguments: [true, false])
    func groupCommit(directWrites: Bool) throws {
        let fileSystem = SimulatedFileSystem()
        // No zeros written ahead: a direct write's fill is a durable write of its own (`DirectWriteTests`).
        var (log, _) = try openLog(fileSystem, options: StorageOptions(fillAheadBytes: 0, directWrites: directWrites))
        let before = fileSystem.fileSyncCount
        for batch in 0..<16 {
            let first = UInt64(batch * 16 + 1)
            try log.append(
                hardState: HardState(term: Term(1), commit: LogIndex(first - 1)), entries: entries(first...(first + 15))
            )
        }
        #expect(log.durableLastIndex == .zero)
        #expect(try log.sync() == LogIndex(256))
        #expect(fileSystem.fileSyncCount == before + 1)
        #expect(try log.sync() == LogIndex(256))
        #expect(fileSystem.fileSyncCount == before + 1)
    }

    @Test("entries spill over into new segments of bounded size")
    func segmentRollover() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        for index in 1...60 as ClosedRange<UInt64> {
            try log.append(entries: [entry(index)])
            if index % 7 == 0 { try log.sync() }
        }
        try log.sync()
        #expect(log.segmentPaths.count > 3)
        for path in log.segmentPaths.dropLast() {
            let size = try #require(try fileSystem.status(path)).size
            #expect(size <= smallSegments.segmentBytes)
        }
        log.close()
        let (_, state) = try openLog(fileSystem)
        #expect(state.entries == entries(1...60))
    }

    @Test("an append that starts inside the log replaces the conflicting tail")
    func conflictTruncation() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        try log.append(entries: entries(1...10))
        try log.sync()
        try log.append(entries: entries(6...8, term: 2))
        #expect(try log.sync() == LogIndex(8))
        log.close()
        let (_, state) = try openLog(fileSystem)
        #expect(state.entries == entries(1...5) + entries(6...8, term: 2))
    }

    @Test(
        "appends that cannot follow the log are refused and change nothing",
        arguments: [
            [entry(3)], [entry(1), entry(3)], [entry(2, term: 1), entry(3, term: 0)],
        ])
    func rejectedAppends(bad: [Entry]) throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        if bad.first?.index == LogIndex(2) { try log.append(entries: [entry(1, term: 1)]) }
        let before = log.lastIndex
        #expect(throws: StorageError.self) { try log.append(entries: bad) }
        #expect(log.lastIndex == before)
        try log.append(entries: [entry(before.rawValue + 1)])
        #expect(try log.sync() == before.next)
    }

    @Test("a batch that would truncate and then breaks the log is refused whole: the truncated entries stay")
    func rejectedTruncatingAppend() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        try log.append(entries: entries(1...5))
        #expect(throws: StorageError.rejected(reason: "entry 5 does not follow last index 3")) {
            try log.append(entries: [entry(3, term: 2), entry(5, term: 2)])
        }
        #expect(log.lastIndex == LogIndex(5))
        #expect(try log.sync() == LogIndex(5))
        try log.append(entries: entries(6...6))
        #expect(try log.sync() == LogIndex(6))
        log.close()
        let (_, state) = try openLog(fileSystem)
        #expect(state.entries == entries(1...6))
    }

    @Test("a hard state whose commit index passes the last index is refused")
    func commitPastLog() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        #expect(throws: StorageError.rejected(reason: "commit index 4 is past the last index 3")) {
            try log.append(hardState: HardState(term: Term(1), commit: LogIndex(4)), entries: entries(1...3))
        }
        #expect(log.lastIndex == .zero)
    }

    @Test("a hard state whose term goes back is refused")
    func termRegression() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        try log.append(hardState: HardState(term: Term(3)), entries: [])
        #expect(throws: StorageError.rejected(reason: "hard state term 2 is below the stored term 3")) {
            try log.append(hardState: HardState(term: Term(2)), entries: [])
        }
    }

    @Test("a truncation into the snapshot is refused")
    func truncationBelowSnapshot() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        try log.append(entries: entries(1...10))
        try log.saveSnapshot(snapshot(index: 5, term: 1))
        #expect(throws: StorageError.rejected(reason: "entry 4 is at or below the snapshot through 5")) {
            try log.append(entries: [entry(4, term: 2)])
        }
    }

    @Test("a record over the size limit is refused before anything is written")
    func recordTooLarge() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        #expect(throws: StorageError.self) { try log.append(entries: [entry(1, size: 5000)]) }
        #expect(log.lastIndex == .zero)
        #expect(!log.hasUnsyncedRecords)
    }
}
