import Raft
import RosterNode
import Storage

/// `--force-new-cluster`: after a quorum is lost for good (the other members' machines or disks are gone),
/// turns one surviving member's data directory into a one-member cluster that keeps everything it had, as
/// etcd's flag of the same name does. The operator then adds new members (learner, then promote).
///
/// What it rewrites, before the node starts: the newest snapshot's configuration becomes this member alone
/// (same index, term and registry data), and every membership change in the log after it becomes a no-op
/// (same index and term), so no replayed change can bring back a voter that is gone. Every other entry is
/// kept, committed or not: as the only voter the node commits its whole log at its first election, so a
/// write it had acknowledged, or had only appended, is not lost. The cluster ID stays the same, so new members
/// join with the founders' `--initial-cluster` and `--join`.
///
/// Refuses a directory that is not a member's: a fresh one (nothing to keep) or one whose configuration does
/// not include this member (it was removed, or never received the cluster's snapshot).
public enum ForceNewCluster {
    /// What the rewrite found and changed, for the loud log lines.
    public struct Report: Sendable {
        public var previousVoters: [NodeID]
        public var previousLearners: [NodeID]
        public var snapshotIndex: LogIndex
        public var lastIndex: LogIndex
        public var commitIndex: LogIndex
        public var neutralizedMembershipChanges: Int
    }

    public static func rewrite(configuration: ServerConfiguration) throws(ForceNewClusterError) -> Report {
        let fileSystem = PosixFileSystem()
        let directory = configuration.dataDirectory
        let ownID = configuration.ownID
        do {
            guard try fileSystem.status(directory + "/IDENTITY") != nil else {
                throw ForceNewClusterError.notAMemberDirectory(path: directory, reason: "it holds no member's data (no IDENTITY file)")
            }
        } catch let error as ForceNewClusterError {
            throw error
        } catch {
            throw .storage(error as? StorageError ?? .rejected(reason: "\(error)"))
        }
        do {
            var (log, persisted) = try DurableLog.open(
                directory: directory, identity: StorageIdentity(clusterID: configuration.clusterID, memberID: ownID.rawValue),
                fileSystem: fileSystem)
            defer { log.close() }
            let base = persisted.snapshot.metadata
            var latest = base.configuration
            for entry in persisted.entries {
                if case .membership(let change) = entry.payload, case .success(let next) = latest.applying(change) { latest = next }
            }
            guard latest.contains(ownID) else {
                throw ForceNewClusterError.notAMemberDirectory(
                    path: directory,
                    reason: "its configuration (\(latest)) does not include \(configuration.name) (\(ownID)): it was removed "
                        + "or never caught up; force the new cluster on a member that was in it")
            }
            let alone = SnapshotMetadata(index: base.index, term: base.term, configuration: Configuration(voters: [ownID]))
            try log.saveSnapshot(Snapshot(metadata: alone, data: persisted.snapshot.data))
            var neutralized = 0
            if let first = persisted.entries.firstIndex(where: { if case .membership = $0.payload { true } else { false } }) {
                let rewritten = persisted.entries[first...].map { entry -> Entry in
                    guard case .membership = entry.payload else { return entry }
                    neutralized += 1
                    return Entry(term: entry.term, index: entry.index, payload: .noop)
                }
                try log.append(hardState: nil, entries: Array(rewritten))
            }
            _ = try log.sync()
            return Report(
                previousVoters: latest.voters, previousLearners: latest.learners, snapshotIndex: base.index,
                lastIndex: persisted.entries.last?.index ?? base.index, commitIndex: persisted.hardState.commit,
                neutralizedMembershipChanges: neutralized)
        } catch let error as ForceNewClusterError {
            throw error
        } catch {
            throw .storage(error as? StorageError ?? .rejected(reason: "\(error)"))
        }
    }
}

/// Why `--force-new-cluster` refused; the directory is unchanged.
public enum ForceNewClusterError: Error, CustomStringConvertible {
    case notAMemberDirectory(path: String, reason: String)
    case storage(StorageError)

    public var description: String {
        switch self {
        case .notAMemberDirectory(let path, let reason):
            "--force-new-cluster refuses \(path): \(reason)"
        case .storage(let error):
            "--force-new-cluster could not rewrite the data directory: \(error)"
        }
    }
}
