import EtcdAPI
import GRPC
import Protobuf
import Registry
import RosterNode

/// How the shell serves one unary etcd call.
public enum EtcdUnaryPlan: Equatable, Sendable {
    /// Submit `request` to the node and encode its answer with `reply`.
    case submit(NodeRequest, EtcdReply)
    /// Answer from the node's status and member directory (`EtcdLocalAnswer`).
    case local(EtcdLocalCall)
    /// Answer now with this status (a refusal decided from the request alone).
    case fail(GRPCStatus)
}

/// Unary calls answered from the node's status rather than the registry.
public enum EtcdLocalCall: Equatable, Sendable {
    case memberList
    case status
    case alarmList
    case defragment
    /// A MoveLeader to the member that already leads.
    case leadershipAlreadyThere
}

/// Decodes unary etcd requests and plans how to serve them.
public enum EtcdUnary {
    /// The plan for `method` with the request message `payload`.
    /// - Parameter minimumTTLMilliseconds: TTLs below it are raised to it, as etcd raises tiny TTLs.
    /// - Parameters:
    ///   - members: The member directory, to name the target of a MoveLeader.
    ///   - leader: The current leader's ID, if known.
    public static func plan(
        _ method: EtcdMethod, payload: [UInt8], minimumTTLMilliseconds: Int64, members: [RosterNode.Member],
        leader: UInt64? = nil
    ) -> EtcdUnaryPlan {
        do throws(ProtoError) {
            switch method {
            case .range: return range(try EtcdAPI.RangeRequest(decoding: payload))
            case .put: return put(try EtcdAPI.PutRequest(decoding: payload))
            case .deleteRange: return deleteRange(try EtcdAPI.DeleteRangeRequest(decoding: payload))
            case .txn: return txn(try TxnRequest(decoding: payload))
            case .compact:
                let request = try CompactionRequest(decoding: payload)
                // etcd's compaction at R keeps R readable and watchable; Roster's compacted revision is the last
                // one gone, so etcd's R is Roster's R - 1 (and Roster's compacted revision + 1 is etcd's). A negative
                // R is below any compaction point, which etcd answers with ErrCompacted; taken on, R - 1 trapped the
                // member at Int64.min (`etcdctl compact -- -9223372036854775808`, found by `scripts/fuzz`).
                guard request.revision >= 0 else { return .fail(EtcdStatus.error(.compacted)) }
                return .submit(.write(.compact(Revision(request.revision - 1))), .compact)
            case .leaseGrant:
                let request = try LeaseGrantRequest(decoding: payload)
                // A TTL whose milliseconds overflow is over any maximum: clamp it so the registry refuses it as
                // too large (etcd's ErrLeaseTTLTooLarge) rather than letting it wrap negative and be raised.
                let milliseconds = request.ttl.multipliedReportingOverflow(by: 1_000)
                let requested = milliseconds.overflow ? (request.ttl < 0 ? Int64.min : Int64.max) : milliseconds.partialValue
                let ttl = max(requested, minimumTTLMilliseconds)
                return .submit(.write(.grantLease(id: EtcdKeys.lease(request.id), ttlMilliseconds: ttl, grantedAtMilliseconds: 0)), .leaseGrant)
            case .leaseRevoke:
                let request = try LeaseRevokeRequest(decoding: payload)
                guard let id = EtcdKeys.lease(request.id) else { return .fail(EtcdStatus.error(.leaseNotFound)) }
                return .submit(.write(.revokeLease(id)), .leaseRevoke)
            case .leaseTimeToLive:
                let request = try LeaseTimeToLiveRequest(decoding: payload)
                // ID 0 is never granted; the registry refuses it and the reply answers TTL -1, as etcd does for
                // any lease it does not know.
                let id = LeaseID(UInt64(bitPattern: request.id))
                return .submit(.read(.lease(id, includeKeys: request.keys), ReadOptions()), .leaseTimeToLive(request.id))
            case .leaseLeases:
                _ = try LeaseLeasesRequest(decoding: payload)
                return .submit(.read(.leases, ReadOptions()), .leaseLeases)
            case .memberList:
                _ = try MemberListRequest(decoding: payload)
                return .local(.memberList)
            case .memberAdd: return EtcdMembers.add(try MemberAddRequest(decoding: payload))
            case .memberRemove: return EtcdMembers.remove(try MemberRemoveRequest(decoding: payload), members: members)
            case .memberUpdate: return EtcdMembers.update(try MemberUpdateRequest(decoding: payload), members: members)
            case .memberPromote: return EtcdMembers.promote(try MemberPromoteRequest(decoding: payload), members: members)
            case .status:
                _ = try StatusRequest(decoding: payload)
                return .local(.status)
            case .alarm: return EtcdAlarms.plan(try AlarmRequest(decoding: payload), members: members)
            case .defragment:
                _ = try DefragmentRequest(decoding: payload)
                return .local(.defragment)
            case .hash:
                _ = try HashRequest(decoding: payload)
                return .submit(.read(.hash(nil), ReadOptions(consistency: .serializable)), .hash)
            case .hashKV:
                let request = try HashKVRequest(decoding: payload)
                let revision = request.revision == 0 ? nil : Revision(request.revision)
                return .submit(.read(.hash(revision), ReadOptions(consistency: .serializable)), .hashKV)
            case .moveLeader:
                let request = try MoveLeaderRequest(decoding: payload)
                guard let target = members.first(where: { $0.id.rawValue == request.targetID }) else {
                    return .fail(EtcdStatus.error(.badLeaderTransferee))
                }
                // etcd answers a move to the current leader with success and does nothing.
                if leader == request.targetID { return .local(.leadershipAlreadyThere) }
                return .submit(.admin(.transferLeadership(to: target.name)), .moveLeader(target: request.targetID))
            default:
                return .fail(GRPCStatus(code: .unimplemented, message: "Roster does not implement \(method.rawValue)"))
            }
        } catch {
            return .fail(GRPCStatus(code: .invalidArgument, message: "grpc: error unmarshalling request: \(error)"))
        }
    }

    static func range(_ request: EtcdAPI.RangeRequest) -> EtcdUnaryPlan {
        guard !request.key.isEmpty else { return .fail(EtcdStatus.error(.emptyKey)) }
        let shape = EtcdRangeShape(request)
        let registryRequest = shape.registryRequest(EtcdKeys.range(key: request.key, end: request.rangeEnd))
        let options = ReadOptions(consistency: request.serializable ? .serializable : .linearizable)
        let query: RegistryQuery =
            request.revision > 0 ? .rangeAt(registryRequest, Revision(request.revision)) : .range(registryRequest)
        return .submit(.read(query, options), .range(shape, revision: request.revision))
    }

    static func putRequest(_ request: EtcdAPI.PutRequest) -> Registry.PutRequest {
        Registry.PutRequest(
            key: request.key, value: request.value, lease: EtcdKeys.lease(request.lease), returnPrevious: request.prevKV,
            ignoreValue: request.ignoreValue, ignoreLease: request.ignoreLease)
    }

    static func put(_ request: EtcdAPI.PutRequest) -> EtcdUnaryPlan {
        guard !request.key.isEmpty else { return .fail(EtcdStatus.error(.emptyKey)) }
        return .submit(.write(.put(putRequest(request))), .put)
    }

    static func deleteRequest(_ request: EtcdAPI.DeleteRangeRequest) -> Registry.DeleteRangeRequest {
        Registry.DeleteRangeRequest(EtcdKeys.range(key: request.key, end: request.rangeEnd), returnPrevious: request.prevKV)
    }

    static func deleteRange(_ request: EtcdAPI.DeleteRangeRequest) -> EtcdUnaryPlan {
        guard !request.key.isEmpty else { return .fail(EtcdStatus.error(.emptyKey)) }
        return .submit(.write(.deleteRange(deleteRequest(request))), .deleteRange)
    }
}
