/// Why storage refused to open or to write. Every case names the file (and where it helps the byte
/// offset) and its description says what an operator should do, because these errors end the
/// process: a node never continues on storage it cannot trust.
public enum StorageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A system call failed; `errno` is the raw error number.
    case io(operation: String, path: String, errno: Int32)
    /// The disk is full (ENOSPC) while writing `path` at `offset`.
    case diskFull(path: String, offset: Int)
    /// `path` is meant to be the data directory but is not a directory.
    case notADirectory(path: String)
    /// The data directory can be written by group or others (mode shown in octal).
    case unsafePermissions(path: String, mode: UInt32)
    /// The data directory or the file system it lives on is read-only.
    case readOnly(path: String)
    /// Another process, or another open in this process, holds the directory lock.
    case locked(path: String)
    /// The directory belongs to another cluster or member.
    case identityMismatch(path: String, expected: StorageIdentity, found: StorageIdentity)
    /// The directory was written by a format version this build does not read.
    case unsupportedFormat(path: String, version: UInt32)
    /// Bytes that are not a torn tail failed validation: corruption that recovery will not guess around.
    case corrupt(path: String, offset: Int, reason: String)
    /// A record passed its checksum but carries an index that cannot follow the ones before it.
    case impossibleIndex(path: String, offset: Int, reason: String)
    /// A file the log needs is absent: a segment in the numbered sequence, or the identity file.
    case missingFile(path: String, reason: String)
    /// A record to append is longer than `limit` bytes.
    case recordTooLarge(length: Int, limit: Int)
    /// The caller asked for something the log cannot represent (entries out of order, a
    /// truncation below the snapshot). Nothing was written; the storage is still usable.
    case rejected(reason: String)
    /// `close()` was called; open the directory again to continue.
    case closed(path: String)
    /// An earlier write or fsync failed, so nothing can be trusted to reach the disk any more.
    /// Fail-stop: the node must exit and recover from what is on disk (never retry an fsync).
    indirect case poisoned(cause: StorageError)

    public var description: String {
        switch self {
        case .io(let operation, let path, let errno):
            return "\(operation) failed on \(path) (errno \(errno)); check the disk and the path, then restart the node"
        case .diskFull(let path, let offset):
            return "disk full while writing \(path) at offset \(offset); the node stopped accepting writes. "
                + "Free space, then restart: nothing after the last durable index was acknowledged"
        case .notADirectory(let path):
            return "data directory \(path) exists but is not a directory; move it away or choose another data directory"
        case .unsafePermissions(let path, let mode):
            return
                "data directory \(path) has mode \(String(mode, radix: 8)), writable by others; run chmod 700 \(path)"
        case .readOnly(let path):
            return "data directory \(path) is read-only; remount it read-write or fix its permissions (chmod 700)"
        case .locked(let path):
            return "data directory \(path) is locked by another process (or already open in this one); "
                + "stop the other node using it, never share a data directory"
        case .identityMismatch(let path, let expected, let found):
            return "\(path) belongs to \(found), but this node is \(expected); "
                + "point the node at this member's own data directory"
        case .unsupportedFormat(let path, let version) where version > IdentityFile.formatVersion:
            return "\(path) has on-disk format version \(version), written by a newer Roster; this build reads versions "
                + "\(IdentityFile.oldestReadableVersion) to \(IdentityFile.formatVersion). Run a Roster at least as new as the "
                + "one that wrote it (downgrading a data directory is not supported)"
        case .unsupportedFormat(let path, let version):
            return "\(path) has on-disk format version \(version), which this build does not know (it reads versions "
                + "\(IdentityFile.oldestReadableVersion) to \(IdentityFile.formatVersion)); it is not a Roster data directory "
                + "this build can use"
        case .corrupt(let path, let offset, let reason):
            return "\(path) is corrupt at offset \(offset): \(reason). Refusing to start; restore this member "
                + "from a healthy peer (remove it from the cluster and add it back with an empty directory)"
        case .impossibleIndex(let path, let offset, let reason):
            return "\(path) has an impossible index at offset \(offset): \(reason). Refusing to start; restore "
                + "this member from a healthy peer"
        case .missingFile(let path, let reason):
            return "\(path) is missing: \(reason). Refusing to start; restore the file or rebuild this member "
                + "from a healthy peer"
        case .recordTooLarge(let length, let limit):
            return "record of \(length) bytes exceeds the \(limit)-byte limit; raise StorageOptions.maxRecordBytes "
                + "or send smaller commands"
        case .rejected(let reason):
            return "append rejected: \(reason)"
        case .closed(let path):
            return "the log in \(path) was closed; open the directory again to continue"
        case .poisoned(let cause):
            return "storage stopped after an earlier failure (\(cause)); restart the node to recover from disk"
        }
    }
}

/// Which cluster and member a data directory belongs to, written at creation and checked at every
/// open so that a node never boots from another member's log.
public struct StorageIdentity: Hashable, Sendable, CustomStringConvertible {
    public var clusterID: UInt64
    public var memberID: UInt64

    public init(clusterID: UInt64, memberID: UInt64) {
        self.clusterID = clusterID
        self.memberID = memberID
    }

    public var description: String { "cluster \(clusterID) member \(memberID)" }
}
