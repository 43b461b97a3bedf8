// Goal: a snapshot written off the log's thread (`SnapshotWriter`) and adopted later is as safe as one saved at
// once: a crash at any step of the write, between the write and the adoption, or during the adoption leaves the
// old or the new snapshot with a log that fits it; the log keeps appending while the file is written; a file
// that a newer snapshot superseded is deleted, and one the log adopted is never. Method: the simulated file
// system's injected power losses at every operation count, crashes, reopening.
import Raft
import Testing

@testable import Storage

@Suite("Snapshots written off the log's thread")
struct SnapshotWriterTests {
    @Test("a crash at every step of write-then-adopt leaves the old or the new snapshot, never a mix", arguments: [false, true])
    func atomicAtEveryStep(tornWrites: Bool) throws {
        let steps = try SnapshotTests.oldOrNewAtEveryStep(tornWrites: tornWrites) { log in
            try log.snapshotWriter.write(snapshot(index: 20, term: 1, data: [20]))
            try log.adoptSnapshot(snapshot(index: 20, term: 1).metadata)
        }
        #expect(steps > 8, "writing and adopting need more than a handful of file operations")
    }

    @Test("entries appended while the file is written survive its adoption and a restart")
    func appendsDuringTheWrite() throws {
        var (fileSystem, log) = try SnapshotTests.logWithSnapshot()
        try log.snapshotWriter.write(snapshot(index: 20, term: 1, data: [20]))
        try log.append(hardState: HardState(term: Term(1), commit: LogIndex(30)), entries: entries(31...40))
        try log.adoptSnapshot(snapshot(index: 20, term: 1).metadata)
        try log.append(hardState: nil, entries: entries(41...45))
        try log.sync()
        log.close()
        let (_, state) = try openLog(fileSystem)
        #expect(state.snapshot == snapshot(index: 20, term: 1, data: [20]))
        #expect(state.entries == entries(21...45))
    }

    @Test("a written file that a newer snapshot superseded is deleted; an adopted one is kept")
    func discard() throws {
        var (fileSystem, log) = try SnapshotTests.logWithSnapshot()
        try log.snapshotWriter.write(snapshot(index: 12, term: 1, data: [12]))
        try log.saveSnapshot(snapshot(index: 20, term: 1, data: [20]))  // e.g. one installed from the leader
        #expect(throws: StorageError.self) { try log.adoptSnapshot(snapshot(index: 12, term: 1).metadata) }
        try log.discardSnapshot(snapshot(index: 12, term: 1).metadata)
        try log.discardSnapshot(snapshot(index: 20, term: 1).metadata)
        let names = try fileSystem.listDirectory(dataDirectory).filter { $0.hasPrefix("snapshot-") }
        #expect(
            names == [DataDirectory.snapshotName(index: 8, term: 1), DataDirectory.snapshotName(index: 20, term: 1)])
        log.close()
        let (_, state) = try openLog(fileSystem)
        #expect(state.snapshot == snapshot(index: 20, term: 1, data: [20]))
    }

    @Test("the writer and the log's own save of the same snapshot use different temporary files")
    func sameSnapshotTwice() throws {
        var (fileSystem, log) = try SnapshotTests.logWithSnapshot()
        try log.snapshotWriter.write(snapshot(index: 20, term: 1, data: [20]))
        try log.saveSnapshot(snapshot(index: 20, term: 1, data: [20]))
        try log.discardSnapshot(snapshot(index: 20, term: 1).metadata)
        #expect(try fileSystem.listDirectory(dataDirectory).filter { $0.hasSuffix(".tmp") }.isEmpty)
        log.close()
        let (_, state) = try openLog(fileSystem)
        #expect(state.snapshot == snapshot(index: 20, term: 1, data: [20]))
    }

    @Test("a snapshot over the size limit is refused before anything is written, and the log stays usable")
    func oversized() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem, options: StorageOptions(segmentBytes: 512, maxRecordBytes: 4096, maxSnapshotBytes: 256))
        try log.append(hardState: HardState(term: Term(1), commit: LogIndex(5)), entries: entries(1...5))
        try log.sync()
        #expect(throws: StorageError.self) {
            try log.snapshotWriter.write(snapshot(index: 5, term: 1, data: [UInt8](repeating: 7, count: 1_000)))
        }
        #expect(try fileSystem.listDirectory(dataDirectory).filter { $0.hasPrefix("snapshot-") && $0.contains("0005") }.isEmpty)
        try log.append(hardState: nil, entries: entries(6...7))
        try log.sync()
    }
}
