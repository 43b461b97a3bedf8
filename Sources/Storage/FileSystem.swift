/// The file operations durable storage needs, and nothing more, so that the same `DurableLog` code
/// runs on real files (`PosixFileSystem`) and on a deterministic in-memory disk that loses unsynced
/// data on a simulated crash (`SimulatedFileSystem`).
///
/// Durability contract, which both implementations honour and `DurableLog` relies on:
/// 1. Bytes appended to a file are durable only once `sync(_:)` on that file has returned.
/// 2. A created, renamed or removed name is durable only once `syncDirectory(_:)` on its parent
///    has returned.
/// 3. After any write or sync error the state of unsynced data is unknown; the caller must stop.
///
/// Paths are plain strings joined with "/"; callers pass the data directory and names inside it.
public protocol FileSystem: Sendable {
    /// What is at `path`, or nil when nothing is.
    func status(_ path: String) throws(StorageError) -> FileStatus?
    /// Creates a directory with mode 0700 (its parent must exist).
    func createDirectory(_ path: String) throws(StorageError)
    /// Names (not paths) of the entries in a directory, sorted, without "." and "..".
    func listDirectory(_ path: String) throws(StorageError) -> [String]
    /// Opens a file for reading and writing, creating it (mode 0600) when `create` is true.
    func open(_ path: String, create: Bool) throws(StorageError) -> OpenFile
    /// Appends all of `bytes` at the end of the file, or throws; ENOSPC throws `.diskFull`.
    func append(_ bytes: [UInt8], to file: OpenFile) throws(StorageError)
    /// Writes all of `bytes` at `offset`, which is at most the end of the data written so far (the write-ahead
    /// log writes at the end of its valid records, inside space `preallocate` reserved), or throws as `append`.
    func write(_ bytes: [UInt8], to file: OpenFile, at offset: Int) throws(StorageError)
    /// Reserves space so the file is `size` bytes long, the new bytes reading as zeros; never shortens it. Writing
    /// into reserved space changes no file size, so the fsync after it need not commit a metadata change: on ext4,
    /// where an fsync after an append commits the journal for the new size, that makes each synced write of the log
    /// about a third faster (as etcd's preallocated segments). Durable with the next `sync`.
    func preallocate(_ file: OpenFile, size: Int) throws(StorageError)
    /// Flushes the file's data, and the metadata needed to read it back (its size), to stable storage.
    func sync(_ file: OpenFile) throws(StorageError)
    /// Opens the file at `path` a second time, for `writeDurably`; nil when this file system takes no such writes, and
    /// the caller then writes and syncs. Close the handle with `close`.
    func openForDurableWrites(_ path: String) throws(StorageError) -> OpenFile?
    /// Writes `bytes` at `offset` through a handle from `openForDurableWrites` and returns once they are durable, as
    /// `write` then `sync` would, but in one request to the device: on Linux a direct write (`O_DIRECT | O_DSYNC`),
    /// which skips the page cache and its writeback. `offset` and `bytes.count` are multiples of
    /// `durableWriteBlockBytes`; the bytes must lie inside space `preallocate` reserved.
    func writeDurably(_ bytes: [UInt8], to file: OpenFile, at offset: Int) throws(StorageError)
    /// Cuts the file to `size` bytes.
    func truncate(_ file: OpenFile, to size: Int) throws(StorageError)
    /// Releases the handle; unsynced data stays subject to rule 1.
    func close(_ file: OpenFile)
    /// The whole content of the file at `path`, refusing files over `limit` bytes before reading.
    func readFile(_ path: String, limit: Int) throws(StorageError) -> [UInt8]
    /// Atomically replaces `target` with `source` (rule 2 applies to both names).
    func rename(_ source: String, to target: String) throws(StorageError)
    /// Removes a file (rule 2 applies).
    func remove(_ path: String) throws(StorageError)
    /// Makes the directory's entries durable.
    func syncDirectory(_ path: String) throws(StorageError)
    /// Takes an exclusive lock on the directory for the life of the returned handle (until `close`);
    /// throws `.locked` at once when someone else holds it.
    func lockDirectory(_ path: String) throws(StorageError) -> OpenFile
}

/// The unit of `FileSystem.writeDurably`: direct I/O writes whole blocks of the device, at block offsets, and 4 KiB
/// is a multiple of every logical block size in use (512 and 4,096 bytes).
public let durableWriteBlockBytes = 4096

/// An open file, meaningful only to the `FileSystem` that returned it (not named `FileHandle`, so
/// that it cannot clash with Foundation's type in a module that imports both).
public struct OpenFile: Hashable, Sendable {
    public let rawValue: Int
    public let path: String

    public init(rawValue: Int, path: String) {
        self.rawValue = rawValue
        self.path = path
    }
}

/// What `FileSystem.status(_:)` found at a path.
public struct FileStatus: Hashable, Sendable {
    public enum Kind: Hashable, Sendable { case file, directory, other }
    public var kind: Kind
    /// Permission bits, e.g. 0o700.
    public var permissions: UInt32
    public var size: Int

    public init(kind: Kind, permissions: UInt32, size: Int) {
        self.kind = kind
        self.permissions = permissions
        self.size = size
    }
}

extension String {
    /// `self` + "/" + `name`: the one place paths are joined.
    package func appendingPathComponent(_ name: String) -> String {
        hasSuffix("/") ? self + name : self + "/" + name
    }
}
