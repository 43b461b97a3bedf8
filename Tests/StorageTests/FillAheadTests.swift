// Goal: the zeros the log writes ahead of its records (`StorageOptions.fillAheadBytes`) sit inside the segment's
// reservation, come with the fsync of the records before them, and change nothing recovery sees: every synced entry
// comes back after a crash, with no torn tail reported, however the fills and the records interleave.
// Method: drive a log on a SimulatedFileSystem with a small fill step, read the segment's bytes and the log's fill mark
// after each sync, crash, reopen and compare.
import Raft
import Testing

@testable import Storage

@Suite("DurableLog fill ahead")
struct FillAheadTests {
    /// The page cache's way (a write, then an fsync); `DirectWriteTests` covers the fills of direct writes.
    static let options = StorageOptions(segmentBytes: 64 << 10, maxRecordBytes: 4096, fillAheadBytes: 4096, directWrites: false)

    @Test("a sync writes zeros a step ahead of its records, durable with them")
    func zerosFollowTheRecords() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem, options: Self.options)
        try log.append(entries: [entry(1)])
        let syncsBefore = fileSystem.fileSyncCount
        try log.sync()
        #expect(fileSystem.fileSyncCount == syncsBefore + 1)
        let path = try #require(log.segmentPaths.last)
        let bytes = try fileSystem.readFile(path, limit: 1 << 20)
        let recordsEnd = log.activeSegmentBytes
        #expect(bytes.count == recordsEnd + 4096)
        #expect(bytes[recordsEnd...].allSatisfy { $0 == 0 })
        fileSystem.crash()
        let (reopened, state) = try openLog(fileSystem, options: Self.options)
        #expect(state.entries == [entry(1)])
        #expect(reopened.recoveryReport.truncatedTail == nil)
    }

    @Test("records written over the zeros, across several fills, all come back after a crash")
    func recordsOverZerosSurviveACrash() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem, options: Self.options)
        var fills = 0
        for index in 1...400 as ClosedRange<UInt64> {
            try log.append(hardState: HardState(term: Term(1), commit: LogIndex(index - 1)), entries: [entry(index)])
            let filledBefore = log.filledEnd
            try log.sync()
            if log.filledEnd != filledBefore { fills += 1 }
            // Never fewer than half a step of zeros ahead, never past the reservation.
            #expect(log.filledEnd >= log.activeSegmentBytes + 2048 || log.filledEnd == log.reservedEnd)
            #expect(log.filledEnd <= log.reservedEnd)
        }
        #expect(log.segmentPaths.count == 1)
        #expect(fills > 3, "the records passed several fills")
        fileSystem.crash(keepingRandomPrefixOf: 7)
        let (reopened, state) = try openLog(fileSystem, options: Self.options)
        #expect(state.entries == entries(1...400))
        #expect(state.hardState.commit == LogIndex(399))
        #expect(reopened.recoveryReport.truncatedTail == nil)
    }

    @Test("an unsynced batch after the zeros is lost whole in a crash, and the log goes on after it")
    func unsyncedBatchAfterZeros() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem, options: Self.options)
        try log.append(entries: entries(1...5))
        try log.sync()
        try log.append(entries: entries(6...9))
        fileSystem.failNextSync(with: .ioError)
        #expect(throws: StorageError.self) { try log.sync() }
        fileSystem.crash()
        var (reopened, state) = try openLog(fileSystem, options: Self.options)
        #expect(state.entries == entries(1...5))
        try reopened.append(entries: entries(6...12, term: 2))
        try reopened.sync()
        reopened.close()
        let (_, again) = try openLog(fileSystem, options: Self.options)
        #expect(again.entries == entries(1...5) + entries(6...12, term: 2))
    }

    @Test("with no fill step the segment holds only its records")
    func noFill() throws {
        let fileSystem = SimulatedFileSystem()
        var options = Self.options
        options.fillAheadBytes = 0
        var (log, _) = try openLog(fileSystem, options: options)
        try log.append(entries: entries(1...3))
        try log.sync()
        let path = try #require(log.segmentPaths.last)
        #expect(try fileSystem.readFile(path, limit: 1 << 20).count == log.activeSegmentBytes)
    }
}
