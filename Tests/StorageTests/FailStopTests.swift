// Goal: after any failed write or fsync the log stops for good (fail-stop): it never retries an
// fsync, never reports anything durable again, and a full disk is named as such; recovery from
// the disk afterwards keeps every acknowledged entry. Method: inject EIO and ENOSPC into the
// SimulatedFileSystem at chosen points and check the errors, the fsync count and the recovered log.
import Raft
import Testing

@testable import Storage

@Suite("Fail-stop on I/O errors")
struct FailStopTests {
    @Test("a failed fsync poisons the log and is never retried")
    func failedFsync() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        try log.append(entries: entries(1...3))
        try log.sync()
        try log.append(entries: entries(4...6))
        fileSystem.failNextSync(with: .ioError)
        #expect(throws: StorageError.self) { try log.sync() }
        let syncs = fileSystem.fileSyncCount
        #expect {
            try log.sync()
        } throws: { error in
            guard case .poisoned(let cause) = error as? StorageError, case .io = cause else { return false }
            return true
        }
        #expect(throws: StorageError.self) { try log.append(entries: entries(7...7)) }
        #expect(throws: StorageError.self) { try log.saveSnapshot(snapshot(index: 3, term: 1)) }
        #expect(fileSystem.fileSyncCount == syncs)
        #expect(log.durableLastIndex == LogIndex(3))
        fileSystem.crash()
        let (_, state) = try openLog(fileSystem)
        #expect(state.entries == entries(1...3))
    }

    @Test("a failed write poisons the log")
    func failedWrite() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        try log.append(entries: entries(1...3))
        fileSystem.failNextWrite(with: .ioError, keepingBytes: 20)
        #expect(throws: StorageError.self) { try log.sync() }
        #expect(log.durableLastIndex == .zero)
        #expect(throws: StorageError.self) { try log.sync() }
    }

    @Test("a full disk stops writes with a disk-full error and acknowledges nothing half-written", arguments: 0..<10)
    func diskFull(seed: UInt64) throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        try log.append(entries: entries(1...10))
        try log.sync()
        var random = TestRandom(seed: seed)
        // Room for a few more records, then the disk is full.
        let used = try fileSystem.listDirectory(dataDirectory).reduce(0) { total, name in
            try total + (fileSystem.status(dataDirectory.appendingPathComponent(name))?.size ?? 0)
        }
        fileSystem.setCapacity(bytes: used + Int(random.next() % 400))
        var durable = LogIndex(10)
        var caught: StorageError?
        for index in 11...80 as ClosedRange<UInt64> {
            do {
                try log.append(entries: [entry(index)])
                durable = try log.sync()
            } catch {
                caught = error
                break
            }
        }
        guard case .diskFull(let path, _)? = caught else {
            Issue.record("expected diskFull, got \(String(describing: caught))")
            return
        }
        #expect(path.hasPrefix(dataDirectory))
        #expect(log.durableLastIndex == durable)
        #expect(throws: StorageError.self) { try log.append(entries: [entry(durable.rawValue + 1)]) }
        fileSystem.crash(keepingRandomPrefixOf: seed)
        fileSystem.setCapacity(bytes: nil)
        let (_, state) = try openLog(fileSystem)
        #expect(state.entries.count >= Int(durable.rawValue))
        #expect(state.entries == entries(1...UInt64(state.entries.count)))
    }

    @Test("a full disk at startup is a clear error")
    func diskFullAtStartup() {
        let fileSystem = SimulatedFileSystem()
        fileSystem.setCapacity(bytes: 10)
        #expect {
            try openLog(fileSystem)
        } throws: { error in
            guard case .diskFull = error as? StorageError else { return false }
            return true
        }
    }
}
