// storage-bench: how fast DurableLog makes entries durable on this disk, next to the disk's raw
// fsync rate, which bounds any group-commit design (one fsync per batch). Not a test; run it
// through scripts/bench-storage, which picks a directory on a real disk.
//
// Usage: storage-bench <scratch-directory> [seconds-per-phase]
import Posix
import PosixStorage
import Raft
import Storage
import Synchronization

/// Passes every call to the wrapped file system, counting file and directory fsyncs.
final class CountingFileSystem: FileSystem {
    let base: any FileSystem
    let syncs = Atomic<Int>(0)

    init(_ base: any FileSystem) { self.base = base }

    func status(_ path: String) throws(StorageError) -> FileStatus? { try base.status(path) }
    func createDirectory(_ path: String) throws(StorageError) { try base.createDirectory(path) }
    func listDirectory(_ path: String) throws(StorageError) -> [String] { try base.listDirectory(path) }
    func open(_ path: String, create: Bool) throws(StorageError) -> OpenFile { try base.open(path, create: create) }
    func append(_ bytes: [UInt8], to file: OpenFile) throws(StorageError) { try base.append(bytes, to: file) }
    func write(_ bytes: [UInt8], to file: OpenFile, at offset: Int) throws(StorageError) {
        try base.write(bytes, to: file, at: offset)
    }
    func preallocate(_ file: OpenFile, size: Int) throws(StorageError) { try base.preallocate(file, size: size) }
    func sync(_ file: OpenFile) throws(StorageError) {
        try base.sync(file)
        syncs.add(1, ordering: .relaxed)
    }
    func openForDurableWrites(_ path: String) throws(StorageError) -> OpenFile? { try base.openForDurableWrites(path) }
    func writeDurably(_ bytes: [UInt8], to file: OpenFile, at offset: Int) throws(StorageError) {
        try base.writeDurably(bytes, to: file, at: offset)
        syncs.add(1, ordering: .relaxed)
    }
    func truncate(_ file: OpenFile, to size: Int) throws(StorageError) { try base.truncate(file, to: size) }
    func close(_ file: OpenFile) { base.close(file) }
    func readFile(_ path: String, limit: Int) throws(StorageError) -> [UInt8] { try base.readFile(path, limit: limit) }
    func rename(_ source: String, to target: String) throws(StorageError) { try base.rename(source, to: target) }
    func remove(_ path: String) throws(StorageError) { try base.remove(path) }
    func syncDirectory(_ path: String) throws(StorageError) {
        try base.syncDirectory(path)
        syncs.add(1, ordering: .relaxed)
    }
    func lockDirectory(_ path: String) throws(StorageError) -> OpenFile { try base.lockDirectory(path) }
}

let entryBytes = 200
let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: storage-bench <scratch-directory> [seconds-per-phase]")
    CurrentProcess.exit(2)
}
let scratch = arguments[1]
let phase = Duration.milliseconds(Int((Double(arguments.count > 2 ? arguments[2] : "2") ?? 2) * 1000))
let clock = ContinuousClock()

func rate(_ count: Int, _ elapsed: Duration) -> Double {
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return Double(count) / seconds
}

func format(_ value: Double) -> String {
    let rounded = Int(value.rounded())
    let digits = String(rounded)
    return String(repeating: " ", count: max(0, 10 - digits.count)) + digits
}

/// Writes 200 bytes and fsyncs, as fast as possible: the physical limit of synchronous commits.
func rawFsyncRate() throws(StorageError) -> Double {
    let fileSystem = PosixFileSystem()
    let path = scratch + "/raw-fsync.bin"
    let file = try fileSystem.open(path, create: true)
    let payload = [UInt8](repeating: 0xAB, count: entryBytes)
    var count = 0
    let start = clock.now
    while clock.now - start < phase {
        try fileSystem.append(payload, to: file)
        try fileSystem.sync(file)
        count += 1
    }
    let elapsed = clock.now - start
    fileSystem.close(file)
    try fileSystem.remove(path)
    return rate(count, elapsed)
}

/// Appends batches of 200-byte entries to a fresh log, one `sync` per batch.
func logRates(batch: Int) throws(StorageError) -> (appends: Double, fsyncs: Double, syncCalls: Double) {
    let fileSystem = CountingFileSystem(PosixFileSystem())
    let directory = scratch + "/log-batch-\(batch)"
    var (log, _) = try DurableLog.open(
        directory: directory, identity: StorageIdentity(clusterID: 1, memberID: 1), fileSystem: fileSystem)
    let payload = [UInt8](repeating: 0xCD, count: entryBytes)
    var next = LogIndex(1)
    var appended = 0
    var syncCalls = 0
    let syncsBefore = fileSystem.syncs.load(ordering: .relaxed)
    let start = clock.now
    while clock.now - start < phase {
        var entries: [Entry] = []
        entries.reserveCapacity(batch)
        for _ in 0..<batch {
            entries.append(Entry(term: Term(1), index: next, payload: .command(payload)))
            next = next.next
        }
        try log.append(hardState: HardState(term: Term(1), vote: NodeID(1), commit: next.previous), entries: entries)
        try log.sync()
        appended += batch
        syncCalls += 1
    }
    let elapsed = clock.now - start
    let fsyncs = fileSystem.syncs.load(ordering: .relaxed) - syncsBefore
    log.close()
    for name in try fileSystem.listDirectory(directory) { try fileSystem.remove(directory + "/" + name) }
    return (rate(appended, elapsed), rate(fsyncs, elapsed), rate(syncCalls, elapsed))
}

do {
    let raw = try rawFsyncRate()
    print("entry payload: \(entryBytes) B, \(phase) per measurement, directory \(scratch)")
    print("")
    print("measurement                 appends/s   fsyncs/s")
    print("raw write(200 B)+fsync     \(format(raw)) \(format(raw))   <- physical limit")
    for batch in [1, 16, 256] {
        let result = try logRates(batch: batch)
        let name = "DurableLog batch \(batch)"
        let label = name + String(repeating: " ", count: max(0, 26 - name.count))
        print(
            "\(label) \(format(result.appends)) \(format(result.fsyncs))   (\(Int(result.syncCalls.rounded())) sync calls/s)"
        )
    }
    // Measured again because shared and virtual disks drift; the spread shows how far to trust the rows.
    let rawAgain = try rawFsyncRate()
    print("raw write(200 B)+fsync     \(format(rawAgain)) \(format(rawAgain))   <- physical limit, measured again")
} catch {
    print("storage-bench: \(error)")
    CurrentProcess.exit(1)
}
