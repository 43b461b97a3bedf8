// Goal: the log's direct synced writes (`FileSystem.writeDurably`, `StorageOptions.directWrites`) keep the durability
// contract: a sync's records are durable when it returns with no separate fsync, a torn direct write (which writes the
// last block's earlier records again) loses nothing synced before it, the zeros that pad the last block and those
// written ahead read as reserved space at recovery, and records past the block-aligned reservation fall back to a
// write and an fsync. Method: drive a log on a SimulatedFileSystem, crash it (dropping what is unsynced, or keeping a
// random prefix of it) and reopen through the real recovery.
import Raft
import Testing

@testable import Storage

@Suite("DurableLog direct writes")
struct DirectWriteTests {
    static let options = StorageOptions(segmentBytes: 64 << 10, maxRecordBytes: 8192, fillAheadBytes: 8192)

    @Test("every synced record survives a crash, across block boundaries, fills and reopenings", arguments: [24, 300, 5000])
    func syncedRecordsSurvive(size: Int) throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem, options: Self.options)
        #expect(log.directFile != nil)
        var synced: [Entry] = []
        var index: UInt64 = 1
        for round in 0..<6 {
            for batch in 0..<5 {
                let count = UInt64(1 + (round + batch) % 3)
                let batchEntries = entries(index...(index + count - 1), size: size)
                try log.append(entries: batchEntries)
                let syncsBefore = fileSystem.fileSyncCount
                try log.sync()
                #expect(fileSystem.fileSyncCount > syncsBefore)
                synced += batchEntries
                index += count
            }
            // Appended, never synced: gone after the crash.
            try log.append(entries: [entry(index, size: size)])
            fileSystem.crash()
            let (reopened, state) = try openLog(fileSystem, options: Self.options)
            #expect(state.entries == synced, "round \(round)")
            #expect(reopened.recoveryReport.truncatedTail == nil)
            log = reopened
        }
        #expect(log.segmentPaths.count > 1 || size < 5000)
    }

    @Test("a torn direct write loses nothing synced before it", arguments: [0, 1, 17, 4095, 4096, 4200])
    func tornWriteKeepsEarlierRecords(keeping: Int) throws {
        for seed in UInt64(1)...8 {
            let fileSystem = SimulatedFileSystem()
            var (log, _) = try openLog(fileSystem, options: Self.options)
            // Entries 1...7 end inside a block, so the next direct write starts with their bytes again.
            try log.append(hardState: HardState(term: Term(1), commit: LogIndex(3)), entries: entries(1...7, size: 300))
            try log.sync()
            try log.append(entries: entries(8...9, size: 300))
            fileSystem.failNextWrite(with: .ioError, keepingBytes: keeping)
            #expect(throws: StorageError.self) { try log.sync() }
            #expect(throws: StorageError.self) { try log.sync() }  // poisoned
            fileSystem.crash(keepingRandomPrefixOf: seed)
            let (_, state) = try openLog(fileSystem, options: Self.options)
            #expect(state.entries.count >= 7, "seed \(seed): \(state.entries.count) entries")
            #expect(Array(state.entries.prefix(7)) == entries(1...7, size: 300), "seed \(seed)")
            #expect(state.entries == Array(entries(1...9, size: 300).prefix(state.entries.count)), "seed \(seed)")
        }
    }

    @Test("the last block is padded with zeros, read as reserved space; the next write continues the block")
    func paddingIsReservedSpace() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem, options: Self.options)
        try log.append(entries: entries(1...3))
        try log.sync()
        let path = try #require(log.segmentPaths.last)
        let end = log.activeSegmentBytes
        let bytes = try fileSystem.readFile(path, limit: 1 << 20)
        #expect(bytes.count > end)
        #expect(bytes.count % durableWriteBlockBytes == 0)
        #expect(bytes[end...].allSatisfy { $0 == 0 })
        log.close()
        var (reopened, state) = try openLog(fileSystem, options: Self.options)
        #expect(state.entries == entries(1...3))
        #expect(reopened.recoveryReport.truncatedTail == nil)
        #expect(reopened.activeSegmentBytes == end)
        try reopened.append(entries: entries(4...6))
        try reopened.sync()
        fileSystem.crash()
        let (_, again) = try openLog(fileSystem, options: Self.options)
        #expect(again.entries == entries(1...6))
    }

    @Test("records past the block-aligned reservation are written and synced the page cache's way")
    func pastTheReservation() throws {
        let fileSystem = SimulatedFileSystem()
        // 6,000 bytes reserved: direct writes end at 4,096, the rest of the segment takes a write and an fsync.
        let options = StorageOptions(segmentBytes: 6_000, maxRecordBytes: 4096, fillAheadBytes: 0)
        var (log, _) = try openLog(fileSystem, options: options)
        var synced: [Entry] = []
        for index in UInt64(1)...60 {
            try log.append(entries: [entry(index, size: 200)])
            try log.sync()
            synced.append(entry(index, size: 200))
        }
        #expect(log.segmentPaths.count > 1)
        fileSystem.crash()
        let (_, state) = try openLog(fileSystem, options: options)
        #expect(state.entries == synced)
    }

    @Test("directWrites off: no durable write is used, records are written and synced")
    func switchedOff() throws {
        let fileSystem = SimulatedFileSystem()
        var options = Self.options
        options.directWrites = false
        var (log, _) = try openLog(fileSystem, options: options)
        #expect(log.directFile == nil)
        try log.append(entries: entries(1...3))
        try log.sync()
        let path = try #require(log.segmentPaths.last)
        // The page cache's way leaves the fill's zeros after the records, not a padded block.
        #expect(try fileSystem.readFile(path, limit: 1 << 20).count == log.activeSegmentBytes + 8192)
    }
}
