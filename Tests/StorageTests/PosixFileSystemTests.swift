// Goal: the real-file implementation behaves as the durability contract says on this machine: data
// survives a close and reopen, the lock excludes a second open, renames replace atomically, and bad
// directories are refused with clear errors. Method: run DurableLog on PosixFileSystem in a fresh
// directory under /var/tmp (not /tmp, which may be tmpfs). Tests run as root here, where chmod 0500
// does not stop writes, so the read-only case is checked only when not root; the other refusals
// (a path that is a file, a foreign identity, unsafe permissions) do not depend on the user.
import Glibc
import Raft
import Testing

import PosixStorage
@testable import Storage

// Serialized: the lock test forks flock(1), and a fork taken while a parallel test closes its lock
// descriptor keeps that lock held until the child execs, which made a parallel reopen see "locked".
@Suite("PosixFileSystem", .serialized)
struct PosixFileSystemTests {
    /// A new empty directory that is removed when `body` returns.
    static func withTemporaryDirectory(_ body: (String) throws -> Void) throws {
        var template = Array("/var/tmp/roster-storage-test-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        let base = String(cString: try #require(created))
        try body(base)
        // Removed only after a passing body, so a failing test leaves its files to inspect.
        let fileSystem = PosixFileSystem()
        for directory in [base + "/data", base] where try fileSystem.status(directory)?.kind == .directory {
            for name in try fileSystem.listDirectory(directory) {
                try fileSystem.remove(directory + "/" + name)
            }
            #expect(rmdir(directory) == 0)
        }
    }

    @Test("a log written to real files reads back the same after reopening")
    func roundTrip() throws {
        try Self.withTemporaryDirectory { base in
            let directory = base + "/data"
            let fileSystem = PosixFileSystem()
            var (log, fresh) = try DurableLog.open(
                directory: directory, identity: testIdentity, fileSystem: fileSystem, options: smallSegments)
            #expect(fresh.entries.isEmpty)
            try log.append(
                hardState: HardState(term: Term(2), vote: NodeID(3), commit: LogIndex(30)), entries: entries(1...40))
            #expect(try log.sync() == LogIndex(40))
            try log.saveSnapshot(snapshot(index: 30, term: 1))
            try log.append(entries: entries(35...36, term: 2))
            try log.sync()
            log.close()
            let (reopened, state) = try DurableLog.open(
                directory: directory, identity: testIdentity, fileSystem: fileSystem, options: smallSegments)
            #expect(state.hardState == HardState(term: Term(2), vote: NodeID(3), commit: LogIndex(30)))
            #expect(state.snapshot == snapshot(index: 30, term: 1))
            #expect(state.entries == entries(31...34) + entries(35...36, term: 2))
            #expect(reopened.recoveryReport.truncatedTail == nil)
            #expect(try fileSystem.status(directory)?.permissions == 0o700)
        }
    }

    @Test("direct synced writes on a real file: every entry reads back after reopening, also past a segment's end")
    func directWrites() throws {
        try Self.withTemporaryDirectory { base in
            let directory = base + "/data"
            let fileSystem = PosixFileSystem()
            let options = StorageOptions(segmentBytes: 64 << 10, maxRecordBytes: 8192, fillAheadBytes: 16 << 10)
            var (log, _) = try DurableLog.open(directory: directory, identity: testIdentity, fileSystem: fileSystem, options: options)
            // ext4 and xfs take them; a file system that refuses O_DIRECT leaves the log on writes and fsyncs.
            let supported = log.directFile != nil
            var written: [Entry] = []
            for index in UInt64(1)...400 {
                let batch = [entry(index, size: 100 + Int(index % 7) * 150)]
                try log.append(entries: batch)
                try log.sync()
                written += batch
            }
            #expect(log.segmentPaths.count > 1)
            log.close()
            var (reopened, state) = try DurableLog.open(
                directory: directory, identity: testIdentity, fileSystem: fileSystem, options: options)
            #expect(state.entries == written)
            #expect(reopened.recoveryReport.truncatedTail == nil)
            #expect((reopened.directFile != nil) == supported)
            try reopened.append(entries: entries(401...405))
            try reopened.sync()
            reopened.close()
            let (_, again) = try DurableLog.open(directory: directory, identity: testIdentity, fileSystem: fileSystem, options: options)
            #expect(again.entries == written + entries(401...405))
        }
    }

    @Test("the directory lock excludes a second open in this process and in another one")
    func lock() throws {
        try Self.withTemporaryDirectory { base in
            let directory = base + "/data"
            var (log, _) = try DurableLog.open(
                directory: directory, identity: testIdentity, fileSystem: PosixFileSystem())
            #expect(throws: StorageError.locked(path: directory)) {
                try DurableLog.open(directory: directory, identity: testIdentity, fileSystem: PosixFileSystem())
            }
            // flock(1) from util-linux, in another process, must find the lock taken (exit status 1).
            #expect(system("flock --nonblock \(directory)/LOCK true") >> 8 == 1)
            log.close()
            #expect(system("flock --nonblock \(directory)/LOCK true") == 0)
            var (again, _) = try DurableLog.open(
                directory: directory, identity: testIdentity, fileSystem: PosixFileSystem())
            again.close()
        }
    }

    @Test("a torn tail in a real, preallocated segment is cut, and the segment is preallocated again")
    func tornTail() throws {
        try Self.withTemporaryDirectory { base in
            let directory = base + "/data"
            let fileSystem = PosixFileSystem()
            let segmentBytes = StorageOptions().segmentBytes
            var (log, _) = try DurableLog.open(directory: directory, identity: testIdentity, fileSystem: fileSystem)
            try log.append(entries: entries(1...5))
            try log.sync()
            let segment = log.segmentPaths[0]
            let end = log.activeSegmentBytes
            log.close()
            #expect(try fileSystem.status(segment)?.size == segmentBytes)
            // A torn write lands where the next records would have gone: right after the last one, inside the
            // reserved space.
            let file = try fileSystem.open(segment, create: false)
            try fileSystem.write([0x40, 0, 0, 0, 3, 9, 9], to: file, at: end)
            fileSystem.close(file)
            var (reopened, state) = try DurableLog.open(
                directory: directory, identity: testIdentity, fileSystem: fileSystem)
            #expect(state.entries == entries(1...5))
            #expect(reopened.recoveryReport.truncatedTail?.offset == end)
            #expect(reopened.recoveryReport.truncatedTail?.discardedBytes == 7)
            #expect(try fileSystem.status(segment)?.size == segmentBytes)
            try reopened.append(entries: [entry(6)])
            try reopened.sync()
            reopened.close()
            var (again, recovered) = try DurableLog.open(
                directory: directory, identity: testIdentity, fileSystem: fileSystem)
            #expect(recovered.entries == entries(1...6))
            #expect(again.recoveryReport.truncatedTail == nil)
            again.close()
        }
    }

    @Test("a data directory path that is a regular file is refused")
    func notADirectory() throws {
        try Self.withTemporaryDirectory { base in
            let path = base + "/data"
            let fileSystem = PosixFileSystem()
            fileSystem.close(try fileSystem.open(path, create: true))
            #expect(throws: StorageError.notADirectory(path: path)) {
                try DurableLog.open(directory: path, identity: testIdentity, fileSystem: fileSystem)
            }
        }
    }

    @Test("another member's directory and an unsafe mode are refused")
    func identityAndPermissions() throws {
        try Self.withTemporaryDirectory { base in
            let directory = base + "/data"
            var (log, _) = try DurableLog.open(
                directory: directory, identity: testIdentity, fileSystem: PosixFileSystem())
            log.close()
            let other = StorageIdentity(clusterID: 0xC1, memberID: 9)
            #expect(
                throws: StorageError.identityMismatch(
                    path: directory + "/IDENTITY", expected: other, found: testIdentity)
            ) {
                try DurableLog.open(directory: directory, identity: other, fileSystem: PosixFileSystem())
            }
            #expect(chmod(directory, 0o777) == 0)
            #expect(throws: StorageError.unsafePermissions(path: directory, mode: 0o777)) {
                try DurableLog.open(directory: directory, identity: testIdentity, fileSystem: PosixFileSystem())
            }
        }
    }

    @Test("a read-only directory is refused (only observable when not root)")
    func readOnly() throws {
        try Self.withTemporaryDirectory { base in
            let directory = base + "/data"
            #expect(mkdir(directory, 0o500) == 0)
            defer { _ = chmod(directory, 0o700) }
            if geteuid() == 0 {
                // Root ignores the mode, so the open succeeds; the refusal is covered on the simulated disk.
                var (log, _) = try DurableLog.open(
                    directory: directory, identity: testIdentity, fileSystem: PosixFileSystem())
                log.close()
            } else {
                #expect(throws: StorageError.readOnly(path: directory)) {
                    try DurableLog.open(directory: directory, identity: testIdentity, fileSystem: PosixFileSystem())
                }
            }
        }
    }
}
