import Raft
import Synchronization

/// An in-memory, deterministic `FileSystem` that models what a power loss keeps, for tests and for
/// the whole-cluster simulator.
///
/// For every file it remembers which bytes an fsync made durable, and for every directory which
/// entries a directory fsync made durable. `crash()` then throws away everything else: unsynced
/// file data, and creates, renames and removes not followed by a directory fsync. With a seed,
/// `crash(keepingRandomPrefixOf:)` keeps a random prefix of each unsynced tail (sometimes with the
/// end of it zero-filled, as a file system that extended the size before the data landed) and a
/// random prefix of each directory's unsynced operations, which models torn writes and reordering
/// between files. Faults can be injected: fail the next write or fsync, cap the disk's capacity, or
/// fail every operation after the next N to stop a writer at an exact step.
///
/// A class because a crash must be observed by the next "process" that opens the same disk, and
/// `Sendable` because all state sits behind one `Mutex`; determinism needs only that callers do
/// not race, which the single-threaded simulator guarantees. Directories themselves are durable as
/// soon as they are created (only their entries are modelled).
public final class SimulatedFileSystem: FileSystem {
    /// What a fault injected into the next write or fsync looks like to the caller.
    public enum Fault: Hashable, Sendable {
        /// EIO.
        case ioError
        /// ENOSPC.
        case diskFull
    }

    private let state = Mutex(State())

    public init() {}

    // MARK: - Fault injection and inspection

    /// Makes the next `append` or `write` fail with `fault`, after writing a prefix of at most `keepingBytes`.
    public func failNextWrite(with fault: Fault, keepingBytes: Int = 0) {
        state.withLock { $0.writeFault = (fault, keepingBytes) }
    }

    /// Makes the next file `sync` fail with `fault`; the data stays unsynced.
    public func failNextSync(with fault: Fault) {
        state.withLock { $0.syncFault = fault }
    }

    /// Caps the total bytes of all files; an append beyond it writes what fits, then throws `.diskFull`.
    public func setCapacity(bytes: Int?) {
        state.withLock { $0.capacity = bytes }
    }

    /// After `count` more mutating operations succeed, every operation throws EIO until `crash`:
    /// how a test stops a writer at an exact step to crash it there.
    public func failEveryOperation(afterOperations count: Int) {
        state.withLock { $0.operationsUntilFailure = count }
    }

    /// Cancels every injected fault that has not fired yet.
    public func clearFaults() {
        state.withLock { state in
            state.writeFault = nil
            state.syncFault = nil
            state.operationsUntilFailure = nil
        }
    }

    /// Marks a directory read-only, or writable again: creating files in it throws `.readOnly`.
    public func setReadOnly(_ path: String, _ readOnly: Bool) {
        state.withLock { $0.directories[path]?.isReadOnly = readOnly }
    }

    /// Sets a directory's permission bits as `status` reports them.
    public func setPermissions(_ path: String, _ permissions: UInt32) {
        state.withLock { $0.directories[path]?.permissions = permissions }
    }

    /// File fsyncs that succeeded since creation.
    public var fileSyncCount: Int { state.withLock { $0.fileSyncs } }

    /// Replaces a file's whole content, durably: for tests that damage bytes on disk.
    public func overwrite(_ path: String, with bytes: [UInt8]) throws(StorageError) {
        try state.withLock { (state: inout State) throws(StorageError) in
            let inode = try state.inode(at: path)
            state.inodes[inode]?.content = bytes
            state.inodes[inode]?.markDurable()
        }
    }

    /// Simulates a power loss: everything not made durable is lost, open handles and locks vanish,
    /// and pending faults are cleared. Without a seed, every unsynced byte and entry is dropped.
    public func crash(keepingRandomPrefixOf seed: UInt64? = nil) {
        state.withLock { $0.crash(seed: seed) }
    }

    // MARK: - FileSystem

    public func status(_ path: String) throws(StorageError) -> FileStatus? {
        state.withLock { state in
            if let directory = state.directories[path] {
                return FileStatus(kind: .directory, permissions: directory.permissions, size: 0)
            }
            let (parent, name) = splitPath(path)
            guard let inode = state.directories[parent]?.entries[name], let file = state.inodes[inode] else {
                return nil
            }
            return FileStatus(kind: .file, permissions: 0o600, size: max(file.content.count, file.reserved))
        }
    }

    public func createDirectory(_ path: String) throws(StorageError) {
        try state.withLock { (state: inout State) throws(StorageError) in
            try state.countOperation("mkdir", path)
            guard state.directories[path] == nil, try state.lookUp(path) == nil else {
                throw .io(operation: "mkdir", path: path, errno: Errno.exists)
            }
            state.directories[path] = Directory()
        }
    }

    public func listDirectory(_ path: String) throws(StorageError) -> [String] {
        try state.withLock { (state: inout State) throws(StorageError) in
            guard let directory = state.directories[path] else {
                throw .io(operation: "opendir", path: path, errno: Errno.noEntry)
            }
            return directory.entries.keys.sorted()
        }
    }

    public func open(_ path: String, create: Bool) throws(StorageError) -> OpenFile {
        try state.withLock { (state: inout State) throws(StorageError) in
            if let inode = try state.lookUp(path) { return state.makeHandle(inode: inode, path: path) }
            guard create else { throw .io(operation: "open", path: path, errno: Errno.noEntry) }
            try state.countOperation("open", path)
            let (parent, name) = splitPath(path)
            guard state.directories[parent]?.isReadOnly == false else { throw .readOnly(path: parent) }
            let inode = state.newInode()
            state.directories[parent]?.apply { $0[name] = inode }
            return state.makeHandle(inode: inode, path: path)
        }
    }

    public func append(_ bytes: [UInt8], to file: OpenFile) throws(StorageError) {
        try state.withLock { (state: inout State) throws(StorageError) in
            try state.countOperation("write", file.path)
            let inode = try state.inode(of: file)
            try state.write(bytes, to: inode, at: nil, path: file.path)
        }
    }

    /// A write inside the written data is modelled as a cut at `offset` followed by an append: a crash keeps the
    /// durable bytes or a prefix of the new ones, as for an append.
    public func write(_ bytes: [UInt8], to file: OpenFile, at offset: Int) throws(StorageError) {
        try state.withLock { (state: inout State) throws(StorageError) in
            try state.countOperation("write", file.path)
            let inode = try state.inode(of: file)
            try state.write(bytes, to: inode, at: offset, path: file.path)
        }
    }

    /// Reserved space is bookkeeping only: `status` reports the reserved size, but `readFile` returns the written
    /// bytes without the zeros after them (readers treat both ends alike, and a 64 MiB segment of zeros per test
    /// would only cost time). The reservation is durable with the next `sync`, lost in a crash before it, and not
    /// charged against `setCapacity`.
    public func preallocate(_ file: OpenFile, size: Int) throws(StorageError) {
        try state.withLock { (state: inout State) throws(StorageError) in
            try state.countOperation("fallocate", file.path)
            let inode = try state.inode(of: file)
            state.inodes[inode]!.reserved = max(state.inodes[inode]!.reserved, size)
        }
    }

    public func sync(_ file: OpenFile) throws(StorageError) {
        try state.withLock { (state: inout State) throws(StorageError) in
            try state.countOperation("fsync", file.path)
            let inode = try state.inode(of: file)
            if let fault = state.syncFault {
                state.syncFault = nil
                throw fault.error(operation: "fsync", path: file.path, offset: 0)
            }
            state.inodes[inode]!.markDurable()
            state.fileSyncs += 1
        }
    }

    /// A second handle on the same file: every simulated file takes durable writes.
    public func openForDurableWrites(_ path: String) throws(StorageError) -> OpenFile? {
        try state.withLock { (state: inout State) throws(StorageError) in
            state.makeHandle(inode: try state.inode(at: path), path: path)
        }
    }

    /// A `write` and a `sync` in one step, from the first byte that differs from the file's: an injected write fault
    /// leaves the bytes unsynced as `write` does (a crash then keeps the durable bytes or a prefix of the new ones), an
    /// injected sync fault fails it after the write.
    public func writeDurably(_ bytes: [UInt8], to file: OpenFile, at offset: Int) throws(StorageError) {
        precondition(offset % durableWriteBlockBytes == 0 && bytes.count % durableWriteBlockBytes == 0,
                     "writeDurably needs whole blocks at a block offset")
        try state.withLock { (state: inout State) throws(StorageError) in
            try state.countOperation("write (direct, synced)", file.path)
            let inode = try state.inode(of: file)
            // Bytes equal to what the file holds are left alone: a real device writes them again, but a torn write
            // keeps either the old or the new content of each sector, and those are the same.
            let content = state.inodes[inode]!.content
            var same = 0
            while same < bytes.count, offset + same < content.count, content[offset + same] == bytes[same] { same += 1 }
            if same < bytes.count { try state.write(Array(bytes[same...]), to: inode, at: offset + same, path: file.path) }
            if let fault = state.syncFault {
                state.syncFault = nil
                throw fault.error(operation: "write (direct, synced)", path: file.path, offset: offset)
            }
            state.inodes[inode]!.markDurable()
            state.fileSyncs += 1
        }
    }

    public func truncate(_ file: OpenFile, to size: Int) throws(StorageError) {
        try state.withLock { (state: inout State) throws(StorageError) in
            try state.countOperation("ftruncate", file.path)
            let inode = try state.inode(of: file)
            state.inodes[inode]!.truncate(to: size)
            state.inodes[inode]!.reserved = min(state.inodes[inode]!.reserved, size)
        }
    }

    public func close(_ file: OpenFile) {
        state.withLock { state in
            state.handles[file.rawValue] = nil
            state.locks = state.locks.filter { $0.value != file.rawValue }
        }
    }

    public func readFile(_ path: String, limit: Int) throws(StorageError) -> [UInt8] {
        try state.withLock { (state: inout State) throws(StorageError) in
            let content = state.inodes[try state.inode(at: path)]!.content
            guard content.count <= limit else {
                throw .corrupt(
                    path: path, offset: 0, reason: "file is \(content.count) bytes, over the \(limit)-byte limit")
            }
            return content
        }
    }

    public func rename(_ source: String, to target: String) throws(StorageError) {
        try state.withLock { (state: inout State) throws(StorageError) in
            try state.countOperation("rename", source)
            let inode = try state.inode(at: source)
            let (sourceParent, sourceName) = splitPath(source)
            let (targetParent, targetName) = splitPath(target)
            guard sourceParent == targetParent else {
                throw .io(operation: "rename across directories to \(target)", path: source, errno: Errno.crossDevice)
            }
            state.directories[sourceParent]?.apply { entries in
                entries[sourceName] = nil
                entries[targetName] = inode
            }
        }
    }

    public func remove(_ path: String) throws(StorageError) {
        try state.withLock { (state: inout State) throws(StorageError) in
            try state.countOperation("unlink", path)
            _ = try state.inode(at: path)
            let (parent, name) = splitPath(path)
            state.directories[parent]?.apply { $0[name] = nil }
        }
    }

    public func syncDirectory(_ path: String) throws(StorageError) {
        try state.withLock { (state: inout State) throws(StorageError) in
            try state.countOperation("fsync", path)
            guard state.directories[path] != nil else {
                // Directories are durable once created (see the type's comment), so syncing one
                // that only holds directories, such as the data directory's parent, has no effect.
                guard path == "/" || path == "." || state.directories.keys.contains(where: { $0.hasPrefix(path + "/") })
                else {
                    throw .io(operation: "open", path: path, errno: Errno.noEntry)
                }
                return
            }
            state.directories[path]!.markDurable()
            state.collectUnreferencedInodes()
        }
    }

    public func lockDirectory(_ path: String) throws(StorageError) -> OpenFile {
        try state.withLock { (state: inout State) throws(StorageError) in
            guard let directory = state.directories[path] else {
                throw .io(operation: "open", path: path, errno: Errno.noEntry)
            }
            guard !directory.isReadOnly else { throw .readOnly(path: path) }
            guard state.locks[path] == nil else { throw .locked(path: path) }
            let handle = state.makeHandle(inode: -1, path: path.appendingPathComponent("LOCK"))
            state.locks[path] = handle.rawValue
            return handle
        }
    }
}

// MARK: - Model

private enum Errno {
    static let noEntry: Int32 = 2
    static let io: Int32 = 5
    static let badDescriptor: Int32 = 9
    static let exists: Int32 = 17
    static let crossDevice: Int32 = 18
    static let noSpace: Int32 = 28
}

extension SimulatedFileSystem.Fault {
    fileprivate func error(operation: String, path: String, offset: Int) -> StorageError {
        switch self {
        case .ioError: .io(operation: operation, path: path, errno: Errno.io)
        case .diskFull: .diskFull(path: path, offset: offset)
        }
    }
}

private func splitPath(_ path: String) -> (parent: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let parent = String(path[..<slash])
    return (parent.isEmpty ? "/" : parent, String(path[path.index(after: slash)...]))
}

/// One file's bytes and which of them survive a crash.
private struct Inode {
    var content: [UInt8] = []
    /// Invariant: while `durableBase` is nil, `content[0..<durableLength]` is what an fsync made durable.
    var durableLength = 0
    /// The durable content, kept aside once a truncation cut into it before the next fsync.
    var durableBase: [UInt8]?
    /// The shortest the file has been since its last fsync.
    var shortestSinceSync = 0
    /// The size `preallocate` reserved, and what of it an fsync made durable.
    var reserved = 0
    var durableReserved = 0

    mutating func markDurable() {
        durableLength = content.count
        durableBase = nil
        shortestSinceSync = content.count
        durableReserved = reserved
    }

    /// Cuts or zero-extends the written bytes; the reservation is the caller's (an in-place write keeps it).
    mutating func truncate(to size: Int) {
        if size < durableLength && durableBase == nil { durableBase = Array(content[0..<durableLength]) }
        if size < content.count {
            content.removeLast(content.count - size)
        } else {
            content.append(contentsOf: [UInt8](repeating: 0, count: size - content.count))
        }
        shortestSinceSync = min(shortestSinceSync, size)
    }

    mutating func crash(random: inout SplitMix64?) {
        if var generator = random {
            if let base = durableBase, generator.next() % 2 == 0 {
                content = base
            } else {
                let floor = durableBase == nil ? durableLength : shortestSinceSync
                var kept = floor + Int(generator.next() % UInt64(content.count - floor + 1))
                kept = min(kept, content.count)
                content.removeLast(content.count - kept)
                // Sometimes the size reached the disk before the data: the kept tail ends in zeros.
                if generator.next() % 4 == 0 && kept > floor {
                    let zeroed = 1 + Int(generator.next() % UInt64(kept - floor))
                    for position in (kept - zeroed)..<kept { content[position] = 0 }
                }
            }
            random = generator
        } else {
            content = durableBase ?? Array(content[0..<durableLength])
        }
        reserved = durableReserved
        markDurable()
    }
}

/// One directory's entries, current and durable, plus the states in between for torn crashes.
private struct Directory {
    var entries: [String: Int] = [:]
    var durableEntries: [String: Int] = [:]
    /// The entries after each operation since the last directory fsync, oldest first.
    var history: [[String: Int]] = []
    var permissions: UInt32 = 0o700
    var isReadOnly = false

    mutating func apply(_ change: (inout [String: Int]) -> Void) {
        change(&entries)
        history.append(entries)
    }

    mutating func markDurable() {
        durableEntries = entries
        history = []
    }

    mutating func crash(random: inout SplitMix64?) {
        if var generator = random {
            let kept = Int(generator.next() % UInt64(history.count + 1))
            entries = kept == 0 ? durableEntries : history[kept - 1]
            random = generator
        } else {
            entries = durableEntries
        }
        markDurable()
    }
}

private struct State {
    var inodes: [Int: Inode] = [:]
    var directories: [String: Directory] = [:]
    var nextInode = 1
    var handles: [Int: (inode: Int, path: String)] = [:]
    var nextHandle = 1
    /// Locked directory path → the handle holding the lock.
    var locks: [String: Int] = [:]
    var writeFault: (SimulatedFileSystem.Fault, Int)?
    var syncFault: SimulatedFileSystem.Fault?
    var capacity: Int?
    var operationsUntilFailure: Int?
    var fileSyncs = 0

    mutating func newInode() -> Int {
        defer { nextInode += 1 }
        inodes[nextInode] = Inode()
        return nextInode
    }

    mutating func makeHandle(inode: Int, path: String) -> OpenFile {
        defer { nextHandle += 1 }
        handles[nextHandle] = (inode, path)
        return OpenFile(rawValue: nextHandle, path: path)
    }

    func lookUp(_ path: String) throws(StorageError) -> Int? {
        let (parent, name) = splitPath(path)
        return directories[parent]?.entries[name]
    }

    func inode(at path: String) throws(StorageError) -> Int {
        guard let inode = try lookUp(path) else { throw .io(operation: "open", path: path, errno: Errno.noEntry) }
        return inode
    }

    func inode(of file: OpenFile) throws(StorageError) -> Int {
        guard let open = handles[file.rawValue], open.inode >= 0 else {
            throw .io(operation: "use of a stale handle", path: file.path, errno: Errno.badDescriptor)
        }
        return open.inode
    }

    /// Appends `bytes` (at the end of the data, or at `offset`, see `SimulatedFileSystem.write`), honouring an
    /// injected write fault and the capacity.
    mutating func write(_ bytes: [UInt8], to inode: Int, at offset: Int?, path: String) throws(StorageError) {
        let end = inodes[inode]!.content.count
        let start = offset ?? max(end, inodes[inode]!.reserved)
        if start < end {
            inodes[inode]!.truncate(to: start)
        } else if start > end {
            inodes[inode]!.content.append(contentsOf: [UInt8](repeating: 0, count: start - end))
        }
        var accepted = bytes.count
        var failure: StorageError?
        if let (fault, keeping) = writeFault {
            writeFault = nil
            accepted = min(keeping, bytes.count)
            failure = fault.error(operation: "write", path: path, offset: start)
        }
        if let capacity {
            let free = max(0, capacity - usedBytes())
            if free < accepted {
                accepted = free
                failure = .diskFull(path: path, offset: start + free)
            }
        }
        inodes[inode]!.content.append(contentsOf: bytes[0..<accepted])
        if let failure { throw failure }
    }

    func usedBytes() -> Int {
        inodes.values.reduce(0) { $0 + $1.content.count }
    }

    mutating func countOperation(_ operation: String, _ path: String) throws(StorageError) {
        guard let remaining = operationsUntilFailure else { return }
        guard remaining > 0 else {
            throw .io(operation: operation + " (simulated power loss)", path: path, errno: Errno.io)
        }
        operationsUntilFailure = remaining - 1
    }

    /// Drops files no name can reach any more, now or after a crash, so that long simulations
    /// do not keep every deleted segment in memory.
    mutating func collectUnreferencedInodes() {
        var reachable = Set(handles.values.map(\.inode))
        for directory in directories.values {
            reachable.formUnion(directory.entries.values)
            reachable.formUnion(directory.durableEntries.values)
            for entries in directory.history { reachable.formUnion(entries.values) }
        }
        inodes = inodes.filter { reachable.contains($0.key) }
    }

    mutating func crash(seed: UInt64?) {
        var random = seed.map { SplitMix64(seed: $0) }
        for path in directories.keys.sorted() { directories[path]!.crash(random: &random) }
        for inode in inodes.keys.sorted() { inodes[inode]!.crash(random: &random) }
        handles = [:]
        locks = [:]
        writeFault = nil
        syncFault = nil
        operationsUntilFailure = nil
        collectUnreferencedInodes()
    }
}
