// Goal: recovery cuts a torn tail and nothing else: whatever prefix of the last record survived a
// crash, exactly the complete records before it come back, and the cut is reported. Method: write a
// known log, then for every byte offset inside the last record rewrite the segment cut there (and,
// separately, with zero-filled tails) and reopen.
import Raft
import Testing

@testable import Storage

@Suite("Torn tails")
struct TornTailTests {
    /// Default sizes without zeros written ahead of the records (`FillAheadTests` covers those) and without direct
    /// writes, which pad the last block with zeros (`DirectWriteTests`), so the segment's bytes are exactly its records
    /// and every offset inside the last one can be tried.
    static let options = StorageOptions(fillAheadBytes: 0, directWrites: false)

    /// A directory holding entries 1...5, all in one segment; returns the segment's path and bytes.
    static func fiveEntries() throws -> (SimulatedFileSystem, String, [UInt8]) {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem, options: Self.options)
        try log.append(hardState: HardState(term: Term(1), commit: LogIndex(2)), entries: entries(1...4))
        try log.append(entries: [entry(5)])
        try log.sync()
        let path = log.segmentPaths[0]
        log.close()
        return (fileSystem, path, try fileSystem.readFile(path, limit: 1 << 20))
    }

    @Test("for every byte offset inside the last record, exactly the complete prefix survives")
    func everyOffsetOfLastRecord() throws {
        let (_, path, bytes) = try Self.fiveEntries()
        let lastRecord = try #require(try records(in: bytes).last)
        for cut in lastRecord.offset..<bytes.count {
            let (fileSystem, _, _) = try Self.fiveEntries()
            try fileSystem.overwrite(path, with: Array(bytes[0..<cut]))
            let (log, state) = try openLog(fileSystem, options: Self.options)
            #expect(state.entries == entries(1...4), "cut at \(cut)")
            #expect(state.hardState == HardState(term: Term(1), commit: LogIndex(2)))
            // Zeros at the end of what was cut count as unwritten space, not as discarded bytes.
            let written = SegmentScan.endOfData(Array(bytes[0..<cut]))
            if written == lastRecord.offset {
                #expect(log.recoveryReport.truncatedTail == nil)
            } else {
                let tail = try #require(log.recoveryReport.truncatedTail)
                #expect(
                    tail.path == path && tail.offset == lastRecord.offset
                        && tail.discardedBytes == written - lastRecord.offset)
            }
            #expect(try fileSystem.readFile(path, limit: 1 << 20).count <= lastRecord.offset)
            #expect(log.activeSegmentBytes == lastRecord.offset)
        }
    }

    @Test("zeros after the last record are unwritten space: kept, not reported, and written over next", arguments: [1, 12, 13, 100, 4096])
    func zeroFilledTail(zeros: Int) throws {
        let (fileSystem, path, bytes) = try Self.fiveEntries()
        try fileSystem.overwrite(path, with: bytes + [UInt8](repeating: 0, count: zeros))
        var (log, state) = try openLog(fileSystem, options: Self.options)
        #expect(state.entries == entries(1...5))
        #expect(log.recoveryReport.truncatedTail == nil)
        #expect(log.activeSegmentBytes == bytes.count)
        try log.append(entries: [entry(6)])
        try log.sync()
        log.close()
        let (_, recovered) = try openLog(fileSystem, options: Self.options)
        #expect(recovered.entries == entries(1...6))
    }

    @Test("a last record whose bytes never landed (zeros in its place) is cut")
    func zeroedLastRecord() throws {
        let (fileSystem, path, bytes) = try Self.fiveEntries()
        let lastRecord = try #require(try records(in: bytes).last)
        var damaged = bytes
        for position in (lastRecord.offset + 20)..<bytes.count { damaged[position] = 0 }
        try fileSystem.overwrite(path, with: damaged)
        let (log, state) = try openLog(fileSystem, options: Self.options)
        #expect(state.entries == entries(1...4))
        #expect(log.recoveryReport.truncatedTail?.offset == lastRecord.offset)
    }

    @Test("after cutting a torn tail the log appends and recovers normally")
    func appendAfterRepair() throws {
        let (fileSystem, path, bytes) = try Self.fiveEntries()
        try fileSystem.overwrite(path, with: Array(bytes.dropLast(3)))
        var (log, _) = try openLog(fileSystem, options: Self.options)
        try log.append(entries: [entry(5, term: 2), entry(6, term: 2)])
        try log.sync()
        log.close()
        let (reopened, state) = try openLog(fileSystem, options: Self.options)
        #expect(state.entries == entries(1...4) + [entry(5, term: 2), entry(6, term: 2)])
        #expect(reopened.recoveryReport.truncatedTail == nil)
    }
}
