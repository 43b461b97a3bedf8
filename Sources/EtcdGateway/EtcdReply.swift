import EtcdAPI
import GRPC
import Protobuf
import Raft
import Registry
import RosterNode

/// How to encode the node's answer to a submitted etcd call.
public enum EtcdReply: Equatable, Sendable {
    /// A range; `revision` is the one it asked for (0: current).
    case range(EtcdRangeShape, revision: Int64)
    case put
    case deleteRange
    case txn(EtcdTxnShape)
    case compact
    case leaseGrant
    case leaseRevoke
    case leaseTimeToLive(Int64)
    case leaseLeases
    case hash
    case hashKV
    case moveLeader(target: UInt64)
    /// A MemberAdd; the member as etcd describes it in the answer (ID, peer URLs, learner).
    case memberAdd(EtcdAPI.Member)
    case memberRemove
    case memberUpdate
    case memberPromote
    /// An Alarm GET: the alarms of this type (all for NONE).
    case alarms(AlarmType)
    /// An Alarm DEACTIVATE that cleared a member's alarm record.
    case alarmDeactivate
    /// A change to the auth store (every `Auth` write answers with a header alone).
    case auth

    /// Whether the answer lists the members (pass `members` to `encode`).
    public var listsMembers: Bool {
        switch self {
        case .memberAdd, .memberRemove, .memberUpdate, .memberPromote: true
        default: false
        }
    }

    /// The encoded response message, or the status to answer with.
    /// - Parameter compactedRevision: The registry's compacted revision now: a range at it is refused, as etcd
    ///   refuses revisions below its compaction revision (one more than Roster's).
    /// - Parameter members: Every member after a membership change, for the answers that list them.
    public func encode(
        _ response: NodeResponse, context: EtcdHeaderContext, currentRevision: Revision, compactedRevision: Revision = .zero,
        members: [EtcdAPI.Member] = []
    ) -> Result<[UInt8], GRPCStatus> {
        if case .range(_, let revision) = self, revision > 0, revision <= compactedRevision.rawValue,
            case .read = response
        {
            return .failure(EtcdStatus.error(.compacted))
        }
        switch response {
        case .failed(let failure): return .failure(EtcdStatus.of(failure))
        case .rejected(let rejection, let revision):
            // etcd answers TimeToLive of an unknown lease with TTL -1, not an error.
            if case .leaseTimeToLive(let id) = self, rejection.isUnknownLease {
                var answer = LeaseTimeToLiveResponse()
                answer.header = context.header(revision: revision)
                answer.id = id
                answer.ttl = -1
                return .success(answer.encoded())
            }
            return .failure(EtcdStatus.of(rejection))
        case .written(let applied): return written(applied, context: context)
        case .read(let result, let read): return self.read(result, header: context.header(revision: read.revision))
        case .admin where listsMembers:
            // etcd's Cluster answers carry no revision in their header.
            return .success(EtcdMembers.reply(self, header: context.header(revision: .zero), members: members))
        case .admin: return .success(MoveLeaderResponse(header: context.header(revision: currentRevision)).encoded())
        case .keptAlive: return .failure(GRPCStatus(code: .internal, message: "etcdserver: unexpected keepalive answer"))
        case .readBarrierPassed: return .failure(GRPCStatus(code: .internal, message: "etcdserver: unexpected read barrier answer"))
        }
    }

    private func written(_ applied: AppliedCommand, context: EtcdHeaderContext) -> Result<[UInt8], GRPCStatus> {
        let header = context.header(revision: applied.revision)
        switch (self, applied.response) {
        case (.put, .put(let previous)):
            var answer = PutResponse()
            answer.header = header
            answer.prevKV = previous.map { EtcdKeys.keyValue($0) }
            return .success(answer.encoded())
        case (.deleteRange, .deleteRange(let deleted, let previous)):
            var answer = DeleteRangeResponse()
            answer.header = header
            answer.deleted = Int64(deleted)
            answer.prevKVs = previous.map { EtcdKeys.keyValue($0) }
            return .success(answer.encoded())
        case (.txn(let shape), .transaction(let succeeded, let responses)):
            var answer = TxnResponse()
            answer.header = header
            answer.succeeded = succeeded
            let shapes = succeeded ? shape.success : shape.failure
            answer.responses = zip(shapes, responses).map { Self.operation($0, $1, revision: applied.revision) }
            return .success(answer.encoded())
        case (.compact, .compacted):
            return .success(CompactionResponse(header: header).encoded())
        case (.leaseGrant, .leaseGranted(let id, let ttl)):
            var answer = LeaseGrantResponse()
            answer.header = header
            answer.id = Int64(bitPattern: id.rawValue)
            answer.ttl = (ttl + 999) / 1_000
            return .success(answer.encoded())
        case (.leaseRevoke, .leaseRevoked):
            return .success(LeaseRevokeResponse(header: header).encoded())
        case (.auth, .authChanged):
            return .success(EtcdAuth.written(header: header))
        case (.alarmDeactivate, .deleteRange(_, let previous)):
            return .success(AlarmResponse(header: header, alarms: EtcdAlarms.members(previous, type: .none)).encoded())
        default:
            return .failure(GRPCStatus(code: .internal, message: "etcdserver: unexpected answer \(applied.response)"))
        }
    }

    /// One operation's answer inside a transaction; as in etcd, its header carries only the revision.
    static func operation(_ shape: EtcdOperationShape, _ response: OperationResponse, revision: Revision) -> ResponseOp {
        var header = ResponseHeader()
        header.revision = revision.rawValue
        var answer = ResponseOp()
        switch (shape, response) {
        case (.range(let range), .range(let result)):
            header.revision = result.revision.rawValue
            answer.response = .responseRange(range.response(result, header: header))
        case (_, .put(let previous)):
            var put = PutResponse()
            put.header = header
            put.prevKV = previous.map { EtcdKeys.keyValue($0) }
            answer.response = .responsePut(put)
        case (_, .deleteRange(let deleted, let previous)):
            var delete = DeleteRangeResponse()
            delete.header = header
            delete.deleted = Int64(deleted)
            delete.prevKVs = previous.map { EtcdKeys.keyValue($0) }
            answer.response = .responseDeleteRange(delete)
        case (_, .range(let result)):
            answer.response = .responseRange(EtcdRangeShape(EtcdAPI.RangeRequest()).response(result, header: header))
        case (_, .transaction(let succeeded, let responses)):
            // etcd leaves a nested transaction's header empty: only the outermost one is filled in.
            var nested = TxnResponse()
            nested.header = ResponseHeader()
            nested.succeeded = succeeded
            if case .txn(let shape) = shape {
                let shapes = succeeded ? shape.success : shape.failure
                nested.responses = zip(shapes, responses).map { operation($0, $1, revision: revision) }
            }
            answer.response = .responseTxn(nested)
        }
        return answer
    }

    private func read(_ result: QueryResult, header: ResponseHeader) -> Result<[UInt8], GRPCStatus> {
        switch (self, result) {
        case (.range(let shape, _), .range(let range)):
            return .success(shape.response(range, header: header).encoded())
        case (.leaseTimeToLive, .lease(let status)):
            var answer = LeaseTimeToLiveResponse()
            answer.header = header
            answer.id = Int64(bitPattern: status.id.rawValue)
            answer.ttl = max(status.remainingTTLMilliseconds, 0) / 1_000
            answer.grantedTTL = (status.grantedTTLMilliseconds + 999) / 1_000
            answer.keys = status.keys
            return .success(answer.encoded())
        case (.alarms(let type), .range(let range)):
            return .success(AlarmResponse(header: header, alarms: EtcdAlarms.members(range.keyValues, type: type)).encoded())
        case (.leaseLeases, .leases(let statuses)):
            var answer = LeaseLeasesResponse()
            answer.header = header
            answer.leases = statuses.map { status in
                var lease = EtcdAPI.LeaseStatus()
                lease.id = Int64(bitPattern: status.id.rawValue)
                return lease
            }
            return .success(answer.encoded())
        case (.hash, .hash(let hash)):
            var answer = HashResponse()
            answer.header = header
            answer.hash = UInt32(truncatingIfNeeded: hash.hash ^ (hash.hash >> 32))
            return .success(answer.encoded())
        case (.hashKV, .hash(let hash)):
            var answer = HashKVResponse()
            answer.header = header
            answer.hash = UInt32(truncatingIfNeeded: hash.hash ^ (hash.hash >> 32))
            answer.compactRevision = EtcdKeys.etcdCompactRevision(hash.compactedRevision)
            return .success(answer.encoded())
        default:
            return .failure(GRPCStatus(code: .internal, message: "etcdserver: unexpected answer \(result)"))
        }
    }
}

extension CompactionResponse {
    init(header: ResponseHeader) {
        self.init()
        self.header = header
    }
}

extension LeaseRevokeResponse {
    init(header: ResponseHeader) {
        self.init()
        self.header = header
    }
}

extension MoveLeaderResponse {
    init(header: ResponseHeader) {
        self.init()
        self.header = header
    }
}

extension RegistryRejection {
    /// The lease does not exist (or is ID 0, which never does).
    var isUnknownLease: Bool {
        switch self {
        case .leaseNotFound, .invalidLeaseID: true
        default: false
        }
    }
}
