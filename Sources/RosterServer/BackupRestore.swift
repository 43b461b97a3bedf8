import Codec
import Raft
import Registry
import RosterNode
import PosixStorage
import Storage

/// `roster restore FILE …`: builds a new member's data directory from a backup, as `etcdutl snapshot
/// restore` does. Every member of the new cluster is restored from the same file with the same
/// `--initial-cluster`; each then starts with exactly the flags it was restored with.
///
/// What the directory holds: the backup's registry state as the Raft snapshot at the backup's applied index
/// and term, with the configuration of `--initial-cluster` (all voters), a hard state committing it, and a
/// CLUSTER file assigning a new cluster ID. The ID is derived from the backup and the new members, so every
/// member restored from one file agrees on it without talking, and it differs from the old cluster's: a
/// member of the old cluster that reaches a new one is refused at the handshake instead of mixing logs.
public enum BackupRestore {
    /// What a restore built, for the operator.
    public struct Report: Sendable, CustomStringConvertible {
        public var directory: String
        public var clusterID: UInt64
        public var previousClusterID: UInt64
        public var revision: Int64
        public var appliedIndex: UInt64
        public var stateHash: UInt64
        public var members: [String]

        public var description: String {
            "restored \(directory) as member of new cluster \(String(clusterID, radix: 16)) "
                + "(backup of cluster \(String(previousClusterID, radix: 16)) at revision \(revision), applied index "
                + "\(appliedIndex), state hash \(String(stateHash, radix: 16)); members \(members.joined(separator: ","))). "
                + "Start it with the same flags, without `restore FILE`."
        }
    }

    /// Restores `backupBytes` (read from `backupPath`) into `configuration.dataDirectory`.
    /// - Throws: `RestoreError`, each case saying what to do.
    public static func restore(
        backupBytes: [UInt8], backupPath: String, configuration: ServerConfiguration
    ) throws(RestoreError) -> Report {
        guard !configuration.join else { throw .joinNotAllowed }
        let backup: Backup
        do {
            backup = try BackupFile.decode(backupBytes, path: backupPath)
        } catch {
            throw .backup(error)
        }
        try verify(backup, path: backupPath, limits: registryLimits(configuration))
        let fileSystem = PosixFileSystem()
        let target = configuration.dataDirectory
        try refuseExisting(target, fileSystem: fileSystem)
        let staging = target + ".restoring"
        let members = configuration.members.filter { configuration.resolvedInitialCluster.map(\.name).contains($0.name) }
        let clusterID = newClusterID(backup: backup, members: members)
        do {
            try removeStaleStaging(staging, fileSystem: fileSystem)
            var (log, _) = try DurableLog.open(
                directory: staging, identity: StorageIdentity(clusterID: clusterID, memberID: configuration.ownID.rawValue),
                fileSystem: fileSystem)
            let index = LogIndex(backup.appliedIndex)
            let term = Term(backup.appliedTerm)
            let metadata = SnapshotMetadata(index: index, term: term, configuration: Configuration(voters: members.map(\.id)))
            try log.saveSnapshot(Snapshot(metadata: metadata, data: backup.registryData))
            try log.append(hardState: HardState(term: term, vote: nil, commit: index), entries: [])
            _ = try log.sync()
            log.close()
            try ClusterAssignment.write(
                clusterID: clusterID,
                reason: "restored from \(backupPath) (cluster \(String(backup.clusterID, radix: 16)), revision \(backup.revision))",
                directory: staging, fileSystem: fileSystem)
            try fileSystem.rename(staging, to: target)
            try fileSystem.syncDirectory(parent(of: target))
        } catch {
            throw .storage(error)
        }
        return Report(
            directory: target, clusterID: clusterID, previousClusterID: backup.clusterID, revision: backup.revision,
            appliedIndex: backup.appliedIndex, stateHash: backup.stateHash, members: members.map(\.name))
    }

    /// The new cluster's ID: a function of the backup and of the new members only (so every member restored
    /// from the same file with the same `--initial-cluster` computes the same), never the old cluster's.
    static func newClusterID(backup: Backup, members: [Member]) -> UInt64 {
        var writer = ByteWriter()
        writer.writeRaw(Array("roster-restore".utf8))
        writer.writeFixed(backup.clusterID)
        writer.writeFixed(backup.appliedIndex)
        writer.writeFixed(backup.stateHash)
        writer.writeFixed(Member.clusterID(of: members))
        let checksum = UInt64(CRC32C.checksum(writer.bytes))
        let id = (checksum << 32) | UInt64(CRC32C.checksum(writer.bytes.reversed()))
        return id == backup.clusterID || id == 0 ? id ^ 0x5253_5452_0000_0001 : id
    }

    static func registryLimits(_ configuration: ServerConfiguration) -> RegistryLimits {
        var limits = RegistryLimits.standard
        limits.requestBytes = configuration.maxRequestBytes
        limits.historyRevisions = Int64(configuration.historyRevisions)
        limits.historyEvents = configuration.historyEvents
        limits.historyBytes = configuration.historyBytes
        return limits
    }

    /// The registry data decodes under the server's limits and hashes to what the backup records.
    static func verify(_ backup: Backup, path: String, limits: RegistryLimits) throws(RestoreError) {
        let state: RegistryState
        do {
            state = try RegistryState.restore(from: backup.registryData, limits: limits)
        } catch {
            throw .registryUndecodable(path: path, reason: "\(error)")
        }
        // The registry's index is that of the last registry command; Raft's applied index, which the backup records,
        // also counts the entries that leave the registry alone (membership changes, a new leader's empty entry).
        guard state.lastAppliedIndex <= backup.appliedIndex, state.revision.rawValue == backup.revision else {
            throw .registryUndecodable(
                path: path,
                reason: "the state is at index \(state.lastAppliedIndex), revision \(state.revision), but the backup records "
                    + "applied index \(backup.appliedIndex), revision \(backup.revision)")
        }
        let hash: StateHash
        do {
            hash = try state.stateHash()
        } catch {
            throw .registryUndecodable(path: path, reason: "\(error)")
        }
        guard hash.hash == backup.stateHash else {
            throw .hashMismatch(path: path, recorded: backup.stateHash, computed: hash.hash)
        }
    }

    private static func refuseExisting(_ directory: String, fileSystem: PosixFileSystem) throws(RestoreError) {
        var isEmpty = false
        do throws(StorageError) {
            guard let status = try fileSystem.status(directory) else { return }
            if status.kind == .directory { isEmpty = try fileSystem.listDirectory(directory).isEmpty }
        } catch {
            throw .storage(error)
        }
        guard isEmpty else { throw .directoryNotEmpty(path: directory) }
    }

    /// A staging directory left by a restore that stopped half-way is never used: it is removed.
    private static func removeStaleStaging(_ staging: String, fileSystem: PosixFileSystem) throws(StorageError) {
        guard try fileSystem.status(staging) != nil else { return }
        for name in try fileSystem.listDirectory(staging) { try fileSystem.remove(staging + "/" + name) }
        try fileSystem.removeDirectory(staging)
    }

    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// Why `roster restore` refused; nothing was written to the target directory.
public enum RestoreError: Error, CustomStringConvertible {
    case joinNotAllowed
    case backup(BackupFileError)
    case registryUndecodable(path: String, reason: String)
    case hashMismatch(path: String, recorded: UInt64, computed: UInt64)
    case directoryNotEmpty(path: String)
    case storage(StorageError)

    public var description: String {
        switch self {
        case .joinNotAllowed:
            "restore builds a member of a new cluster: drop --join and give the new cluster's --initial-cluster"
        case .backup(let error):
            "\(error)"
        case .registryUndecodable(let path, let reason):
            "\(path): the registry state in the backup cannot be used: \(reason); take a new backup"
        case .hashMismatch(let path, let recorded, let computed):
            "\(path): the registry state hashes to \(String(computed, radix: 16)) but the backup records "
                + "\(String(recorded, radix: 16)); take a new backup"
        case .directoryNotEmpty(let path):
            "\(path) already exists and is not empty; restore into a new (or empty) --data-dir"
        case .storage(let error):
            "\(error)"
        }
    }
}
