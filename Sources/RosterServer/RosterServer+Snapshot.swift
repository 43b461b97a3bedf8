import Posix
import Raft
import Registry
import RosterAPI
import RosterNode
import Storage
import Synchronization

/// `GET /v1/snapshot`: a backup of this node's applied state, for `rosterctl snapshot save`.
///
/// The state is captured on the loop thread in O(1) (the registry is a copy-on-write value: the capture
/// shares its storage, and the loop's next write copies what it changes), then encoded, hashed and
/// checksummed on a worker thread, and streamed from the loop as the connection drains. So a large state
/// stalls neither the loop nor other clients: the loop pays only the copy-on-write of what it writes next.
extension RosterServer {
    /// Backups being encoded or streamed at once, at most: each holds a whole encoded copy of the state until its
    /// reader has taken it, so their memory is bounded by this many states.
    static let concurrentBackupsLimit = 2
    /// Backups handed to the worker and not yet streaming.
    static let encodingBackups = Atomic<Int>(0)
    /// The one thread that encodes backups, one after another; nil if it could not be started (then the loop
    /// encodes, as it does its periodic snapshots).
    static let backupWorker: EventLoopThread? = try? EventLoopThread()

    func serveSnapshot(session: ClientSession) {
        // The session answers nothing else (no pipelined request) until the backup is written.
        session.begin(RequestID(nextRequestID))
        nextRequestID += 1
        let context = context
        let logger = logger
        let refusal = encodeBackup(for: session) { session, result in
            Self.answer(session, with: result, context: context, logger: logger)
        }
        if let refusal { session.finish(APIAdapter.error(refusal, context: context)) }
    }

    /// Backups streaming now: HTTP answers and etcd `Maintenance.Snapshot` calls.
    private var streamingBackups: Int {
        sessions.values.reduce(0) { count, session in
            count + (session.answer?.isBackup == true ? 1 : 0) + (session.grpc?.streamingSnapshots ?? 0)
        }
    }

    /// Captures the applied state now and encodes it on the backup worker; `deliver` then runs on the loop with
    /// the file's bytes, unless `owner` is gone by then. Returns the refusal instead when
    /// `concurrentBackupsLimit` backups are being made already.
    func encodeBackup<Owner: AnyObject>(
        for owner: Owner, deliver: @escaping (Owner, Result<(bytes: [UInt8], backup: Backup), RegistryRejection>) -> Void
    ) -> APIError? {
        let inFlight = streamingBackups + Self.encodingBackups.load(ordering: .relaxed)
        guard inFlight < Self.concurrentBackupsLimit else {
            return APIError(
                status: .tooManyRequests, code: "too_many_backups",
                message: "\(inFlight) backups are being made by this node already (at most \(Self.concurrentBackupsLimit)); "
                    + "retry when one finished, or ask another member", retryAfterSeconds: 1)
        }
        let capture = BackupCapture(
            driver: driver, clusterID: clusterID, memberName: configuration.name,
            members: membersWithClientAddresses)
        let waiting = LoopBound(owner)
        let delivery = LoopBoundClosure(deliver)
        let handle = loop.handle
        let finished: @Sendable (Result<(bytes: [UInt8], backup: Backup), RegistryRejection>) -> Void = { result in
            _ = handle.execute {
                Self.encodingBackups.subtract(1, ordering: .relaxed)
                guard let owner = waiting.value else { return }
                delivery.closure(owner, result)
            }
        }
        Self.encodingBackups.add(1, ordering: .relaxed)
        if let worker = Self.backupWorker, worker.execute({ finished(capture.encode()) }) { return nil }
        finished(capture.encode())
        return nil
    }

    /// Streams the encoded backup (or answers why there is none); on the loop thread.
    private static func answer(
        _ session: ClientSession, with result: Result<(bytes: [UInt8], backup: Backup), RegistryRejection>,
        context: ResponseContext, logger: Logger
    ) {
        switch result {
        case .success(let encoded):
            logger.info(
                "serving a backup", ["revision": "\(encoded.backup.revision)", "applied_index": "\(encoded.backup.appliedIndex)",
                                     "bytes": "\(encoded.bytes.count)", "session": session.id])
            let stream = APIResponse.snapshotStream(encoded.bytes, revision: Revision(encoded.backup.revision), context: context)
            session.finish(.streamed(stream))
            session.answer?.isBackup = true
        case .failure(let rejection):
            let failure = APIError(
                status: .internalServerError, code: "backup_failed", message: "could not capture the applied state: \(rejection)")
            session.finish(APIAdapter.error(failure, context: context))
        }
    }
}

/// The applied state at one revision, captured on the loop thread in O(1), encoded anywhere.
struct BackupCapture: Sendable {
    let registry: RegistryState
    let clusterID: UInt64
    let memberName: String
    let appliedIndex: LogIndex
    let appliedTerm: Term
    let members: [BackupMember]

    init(driver: NodeDriver<ServerEnvironment>, clusterID: UInt64, memberName: String, members: [Member]) {
        let raft = driver.raft
        let configuration = raft.configuration
        self.registry = driver.registry
        self.clusterID = clusterID
        self.memberName = memberName
        self.appliedIndex = raft.appliedIndex
        self.appliedTerm = Self.appliedTerm(raft, raft.appliedIndex)
        self.members = members.filter { configuration.contains($0.id) }.map { member in
            BackupMember(
                id: member.id.rawValue, name: member.name, peerAddress: member.peerAddress,
                clientAddress: member.clientAddress ?? "", isLearner: configuration.isLearner(member.id))
        }
    }

    /// The backup file's bytes: the registry's snapshot encoding, its state hash and the header.
    /// - Complexity: O(state).
    func encode() -> Result<(bytes: [UInt8], backup: Backup), RegistryRejection> {
        Result { () throws(RegistryRejection) in
            let backup = Backup(
                clusterID: clusterID, memberName: memberName, appliedIndex: appliedIndex.rawValue,
                appliedTerm: appliedTerm.rawValue, revision: registry.revision.rawValue,
                compactedRevision: registry.compactedRevision.rawValue, stateHash: try registry.stateHash().hash,
                members: members, registryData: registry.snapshotBytes())
            return (BackupFile.encode(backup), backup)
        }
    }

    /// The term of the applied entry: the snapshot's when it is the snapshot's last entry, else the log's.
    private static func appliedTerm(_ raft: RaftNode, _ applied: LogIndex) -> Term {
        if applied == raft.snapshotMetadata.index { return raft.snapshotMetadata.term }
        return raft.entries.last { $0.index == applied }?.term ?? raft.term
    }
}

/// A loop-thread object carried through another thread and back without being touched there.
/// A loop-thread closure carried through a worker thread and called back on the loop (the same rule as `LoopBound`).
final class LoopBoundClosure<Owner: AnyObject>: @unchecked Sendable {
    // Safety: created on the loop thread and called only by the closure `EventLoopHandle.execute` runs there.
    let closure: (Owner, Result<(bytes: [UInt8], backup: Backup), RegistryRejection>) -> Void

    init(_ closure: @escaping (Owner, Result<(bytes: [UInt8], backup: Backup), RegistryRejection>) -> Void) {
        self.closure = closure
    }
}

final class LoopBound<Value: AnyObject>: @unchecked Sendable {
    // Safety: `value` is written at creation and read only by the closure `EventLoopHandle.execute` runs on the
    // loop thread that created it; the worker thread only passes the box along.
    weak var value: Value?

    init(_ value: Value) { self.value = value }
}
