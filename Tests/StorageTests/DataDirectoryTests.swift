// Goal: a data directory opens only for its own cluster and member, in a format this build knows,
// in one process at a time, with safe permissions; every refusal is a specific error. Method: set
// up each bad directory on a SimulatedFileSystem and check the error returned by open.
import Codec
import Raft
import Testing

@testable import Storage

@Suite("Data directory checks")
struct DataDirectoryTests {
    @Test(
        "a directory of another member or cluster is refused",
        arguments: [
            StorageIdentity(clusterID: 0xC1, memberID: 2), StorageIdentity(clusterID: 0xC2, memberID: 1),
        ])
    func identityMismatch(other: StorageIdentity) throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        log.close()
        #expect(throws: StorageError.identityMismatch(path: "/data/IDENTITY", expected: other, found: testIdentity)) {
            try DurableLog.open(directory: dataDirectory, identity: other, fileSystem: fileSystem)
        }
    }

    @Test("an unknown format version is refused")
    func unknownVersion() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        log.close()
        var writer = ByteWriter()
        writer.writeFixed(IdentityFile.magic)
        writer.writeFixed(UInt32(99))
        writer.writeFixed(testIdentity.clusterID)
        writer.writeFixed(testIdentity.memberID)
        writer.writeFixed(CRC32C.checksum(writer.bytes))
        try fileSystem.overwrite("/data/IDENTITY", with: writer.bytes)
        #expect(throws: StorageError.unsupportedFormat(path: "/data/IDENTITY", version: 99)) { try openLog(fileSystem) }
    }

    @Test("a damaged identity file is reported as corruption of that file", arguments: [0, 9, 20, 31])
    func damagedIdentity(position: Int) throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        log.close()
        var bytes = try fileSystem.readFile("/data/IDENTITY", limit: 100)
        bytes[position] ^= 0x10
        try fileSystem.overwrite("/data/IDENTITY", with: bytes)
        #expect {
            try openLog(fileSystem)
        } throws: { error in
            guard case .corrupt(let path, _, _) = error as? StorageError else { return false }
            return path == "/data/IDENTITY"
        }
    }

    @Test("a second open of a locked directory fails until the first is closed")
    func lock() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        #expect(throws: StorageError.locked(path: dataDirectory)) { try openLog(fileSystem) }
        log.close()
        _ = try openLog(fileSystem)
    }

    @Test("a group- or world-writable directory is refused")
    func permissions() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        log.close()
        fileSystem.setPermissions(dataDirectory, 0o777)
        #expect(throws: StorageError.unsafePermissions(path: dataDirectory, mode: 0o777)) { try openLog(fileSystem) }
    }

    @Test("a read-only directory is refused")
    func readOnly() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        log.close()
        fileSystem.setReadOnly(dataDirectory, true)
        #expect(throws: StorageError.readOnly(path: dataDirectory)) { try openLog(fileSystem) }
    }

    @Test("a data directory path that is a regular file is refused")
    func notADirectory() throws {
        let fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectory("/srv")
        fileSystem.close(try fileSystem.open("/srv/data", create: true))
        #expect(throws: StorageError.notADirectory(path: "/srv/data")) {
            try DurableLog.open(directory: "/srv/data", identity: testIdentity, fileSystem: fileSystem)
        }
    }

    @Test("log files without an identity file are refused")
    func missingIdentity() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        try log.append(entries: entries(1...3))
        try log.sync()
        log.close()
        try fileSystem.remove("/data/IDENTITY")
        try fileSystem.syncDirectory(dataDirectory)
        #expect {
            try openLog(fileSystem)
        } throws: { error in
            guard case .missingFile(let path, _) = error as? StorageError else { return false }
            return path == "/data/IDENTITY"
        }
    }

    @Test("a crash while the directory is being created leaves it re-creatable", arguments: 0..<8)
    func halfMadeDirectory(step: Int) throws {
        let fileSystem = SimulatedFileSystem()
        fileSystem.failEveryOperation(afterOperations: step)
        do {
            _ = try openLog(fileSystem)
        } catch {
            fileSystem.crash(keepingRandomPrefixOf: UInt64(step))
            let (log, state) = try openLog(fileSystem)
            #expect(state.entries.isEmpty)
            #expect(log.recoveryReport.createdFresh || log.recoveryReport.segmentsReplayed.count == 1)
        }
    }

    @Test("leftover temporary files are removed and reported")
    func temporaryFiles() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        log.close()
        let stray = try fileSystem.open("/data/snapshot-0000000000000009-0000000000000001.snap.tmp", create: true)
        try fileSystem.append([1, 2, 3], to: stray)
        fileSystem.close(stray)
        let (reopened, _) = try openLog(fileSystem)
        #expect(reopened.recoveryReport.removedFiles == ["/data/snapshot-0000000000000009-0000000000000001.snap.tmp"])
        #expect(try fileSystem.status("/data/snapshot-0000000000000009-0000000000000001.snap.tmp") == nil)
    }

    @Test("a snapshot file from another cluster is refused")
    func foreignSnapshot() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        try log.append(entries: entries(1...3))
        log.close()
        let stranger = StorageIdentity(clusterID: 0xBAD, memberID: 1)
        let path = dataDirectory.appendingPathComponent(DataDirectory.snapshotName(index: 2, term: 1))
        let file = try fileSystem.open(path, create: true)
        try fileSystem.append(SnapshotFile.encode(snapshot(index: 2, term: 1), identity: stranger), to: file)
        try fileSystem.sync(file)
        try fileSystem.syncDirectory(dataDirectory)
        #expect(throws: StorageError.identityMismatch(path: path, expected: testIdentity, found: stranger)) {
            try openLog(fileSystem)
        }
    }
}
