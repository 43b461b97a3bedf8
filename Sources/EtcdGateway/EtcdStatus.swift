import EtcdAPI
import GRPC
import Raft
import Registry
import RosterNode

/// etcd's own error statuses for Roster's refusals and failures. clientv3 turns errors into typed errors by
/// matching the exact description (`rpctypes.ErrGRPC*`), and retries only `Unavailable`, so both the code and
/// the text must be etcd 3.4's.
public enum EtcdStatus {
    /// The status for an `EtcdError` constant.
    public static func error(_ error: EtcdError) -> GRPCStatus {
        GRPCStatus(code: GRPCStatusCode(rawValue: error.code.rawValue) ?? .unknown, message: error.message)
    }

    /// The status for a refusal of the registry.
    public static func of(_ rejection: RegistryRejection) -> GRPCStatus {
        switch rejection {
        case .emptyKey: error(.emptyKey)
        case .keyNotFound: error(.keyNotFound)
        case .valueWithIgnoreValue: error(.valueProvided)
        case .leaseWithIgnoreLease: error(.leaseProvided)
        case .keyTooLong, .valueTooLong, .requestTooLarge: error(.requestTooLarge)
        case .tooManyOperations: error(.tooManyOps)
        case .duplicateKeyInTransaction: error(.duplicateKey)
        case .leaseNotFound, .invalidLeaseID: error(.leaseNotFound)
        case .leaseAlreadyExists: error(.leaseExist)
        case .ttlOutOfRange(let ttl, _, let maximum) where ttl > maximum: error(.leaseTTLTooLarge)
        case .futureRevision: error(.futureRevision)
        case .compactedRevision: error(.compacted)
        case .auth(let rejection): of(rejection)
        case .tooManyLeases, .serviceFull: GRPCStatus(code: .resourceExhausted, message: "etcdserver: \(rejection)")
        default: GRPCStatus(code: .invalidArgument, message: "etcdserver: \(rejection)")
        }
    }

    /// etcd's error for each auth refusal (rpctypes/error.go), so clientv3 and etcdctl recognise them.
    public static func of(_ rejection: AuthRejection) -> GRPCStatus {
        switch rejection {
        case .userEmpty: error(.userEmpty)
        case .roleEmpty: error(.roleEmpty)
        case .userAlreadyExists: error(.userAlreadyExist)
        case .userNotFound: error(.userNotFound)
        case .roleAlreadyExists: error(.roleAlreadyExist)
        case .roleNotFound: error(.roleNotFound)
        case .roleNotGranted: error(.roleNotGranted)
        case .permissionNotGranted: error(.permissionNotGranted)
        case .rootUserDoesNotExist: error(.rootUserNotExist)
        case .rootUserLacksRootRole: error(.rootRoleNotExist)
        case .invalidAuthManagement: error(.invalidAuthMgmt)
        case .authNotEnabled: error(.authNotEnabled)
        case .authenticationFailed: error(.authFailed)
        case .permissionDenied: error(.permissionDenied)
        case .invalidToken: error(.invalidAuthToken)
        case .oldRevision: error(.authOldRevision)
        case .overLimit(let field, let limit):
            GRPCStatus(code: .invalidArgument, message: "etcdserver: \(field) over the limit of \(limit)")
        }
    }

    /// The status for a request the node could not complete. Every "cannot serve now" is `Unavailable`, the
    /// only code clientv3 retries (on another member).
    public static func of(_ failure: NodeFailure) -> GRPCStatus {
        switch failure {
        case .noLeader: error(.noLeader)
        case .leaderBusy, .notApplied, .overloaded: error(.tooManyRequests).withCode(.unavailable)
        case .indeterminate, .timedOut: error(.timeout)
        case .readNotConfirmed: error(.leaderChanged)
        case .shuttingDown: error(.stopped)
        case .membershipRefused(let refusal): of(refusal)
        // etcd's ErrGRPCNoSpace: clientv3 does not retry it.
        case .noSpace: GRPCStatus(code: .resourceExhausted, message: "etcdserver: mvcc: database space exceeded")
        }
    }

    /// etcd's error for each membership refusal (etcdserver/api/v3rpc/rpctypes/error.go). Transient ones are
    /// `Unavailable`, so clientv3 retries them.
    public static func of(_ refusal: AdminRefusal) -> GRPCStatus {
        switch refusal {
        case .memberNotFound: error(.memberNotFound)
        case .memberExists: error(.memberExist)
        case .peerAddressInUse: error(.peerURLExist)
        case .tooManyLearners: error(.tooManyLearners)
        case .learnerNotReady: error(.learnerNotReady)
        case .notLearner: error(.memberNotLearner)
        case .notEnoughVoters: error(.memberNotEnoughStarted)
        case .changeInProgress, .leaderNotReady: error(.tooManyRequests).withCode(.unavailable)
        case .other(let reason): GRPCStatus(code: .failedPrecondition, message: "etcdserver: \(reason)")
        }
    }
}

extension GRPCStatus {
    func withCode(_ code: GRPCStatusCode) -> GRPCStatus { GRPCStatus(code: code, message: message) }
}

/// What an etcd response header says: which cluster and member answered, at which revision and term.
public struct EtcdHeaderContext: Equatable, Sendable {
    public var clusterID: UInt64
    public var memberID: UInt64
    public var raftTerm: UInt64

    public init(clusterID: UInt64, memberID: UInt64, raftTerm: UInt64) {
        self.clusterID = clusterID
        self.memberID = memberID
        self.raftTerm = raftTerm
    }

    /// The header for an answer reflecting `revision`.
    public func header(revision: Revision) -> ResponseHeader {
        var header = ResponseHeader()
        header.clusterID = clusterID
        header.memberID = memberID
        header.revision = revision.rawValue
        header.raftTerm = raftTerm
        return header
    }
}
