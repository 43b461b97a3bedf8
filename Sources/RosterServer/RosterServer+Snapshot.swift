import Raft
import Registry
import RosterAPI
import RosterNode
import Storage

/// `GET /v1/snapshot`: a backup of this node's applied state, for `rosterctl snapshot save`.
extension RosterServer {
    /// Backups streaming at once, at most: each holds a whole encoded copy of the state until its reader
    /// has taken it, so their memory is bounded by this many states.
    static let concurrentBackupsLimit = 2

    /// Encodes the applied state as a backup file at once (one revision: nothing applies while it runs, on
    /// the loop thread) and streams it to `session` as the connection drains.
    func serveSnapshot(session: ClientSession) {
        let streaming = sessions.values.filter { $0.answer?.isBackup == true }.count
        guard streaming < Self.concurrentBackupsLimit else {
            let error = APIError(
                status: .tooManyRequests, code: "too_many_backups",
                message: "\(streaming) backups are being sent by this node already (at most \(Self.concurrentBackupsLimit)); "
                    + "retry when one finished, or ask another member", retryAfterSeconds: 1)
            session.finish(APIAdapter.error(error, context: context))
            return
        }
        let backup: Backup
        do {
            backup = try BackupCapture.capture(
                driver: driver, status: lastStatus, clusterID: configuration.clusterID, memberName: configuration.name,
                members: membersWithClientAddresses)
        } catch {
            let failure = APIError(
                status: .internalServerError, code: "backup_failed", message: "could not capture the applied state: \(error)")
            session.finish(APIAdapter.error(failure, context: context))
            return
        }
        let bytes = BackupFile.encode(backup)
        logger.info(
            "serving a backup", ["revision": "\(backup.revision)", "applied_index": "\(backup.appliedIndex)",
                                 "bytes": "\(bytes.count)", "session": session.id])
        let stream = APIResponse.snapshotStream(bytes, revision: Revision(backup.revision), context: context)
        session.finish(.streamed(stream))
        session.answer?.isBackup = true
    }
}

/// Builds a `Backup` from the driver's applied state.
enum BackupCapture {
    static func capture(
        driver: NodeDriver<ServerEnvironment>, status: NodeStatus, clusterID: UInt64, memberName: String, members: [Member]
    ) throws(RegistryRejection) -> Backup {
        let registry = driver.registry
        let hash = try registry.stateHash()
        let raft = driver.raft
        let applied = raft.appliedIndex
        let term = appliedTerm(raft, applied)
        let configuration = raft.configuration
        let recorded = members.filter { configuration.contains($0.id) }.map { member in
            BackupMember(
                id: member.id.rawValue, name: member.name, peerAddress: member.peerAddress,
                clientAddress: member.clientAddress ?? "", isLearner: configuration.isLearner(member.id))
        }
        return Backup(
            clusterID: clusterID, memberName: memberName, appliedIndex: applied.rawValue, appliedTerm: term.rawValue,
            revision: registry.revision.rawValue, compactedRevision: registry.compactedRevision.rawValue,
            stateHash: hash.hash, members: recorded, registryData: registry.snapshotBytes())
    }

    /// The term of the applied entry: the snapshot's when it is the snapshot's last entry, else the log's.
    private static func appliedTerm(_ raft: RaftNode, _ applied: LogIndex) -> Term {
        if applied == raft.snapshotMetadata.index { return raft.snapshotMetadata.term }
        return raft.entries.last { $0.index == applied }?.term ?? raft.term
    }
}
