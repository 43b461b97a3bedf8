/// An error status etcd 3.4 returns, exactly as `etcdserver/api/v3rpc/rpctypes/error.go` defines it.
///
/// clientv3 turns a gRPC status back into its typed error by looking up the *message text* (rpctypes'
/// `errStringToError`), and etcdctl prints it; so a status Roster sends must match etcd's code and message
/// byte for byte, or the client sees an unknown error and, for example, does not retry on "no leader".
/// `EtcdAPI` does not depend on `GRPC`, so the code is carried as its gRPC number (`Code`); the server
/// maps it with `GRPCStatusCode(rawValue: error.code.rawValue)`.
public struct EtcdError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The gRPC status codes etcd's errors use, with gRPC's numbers.
    public struct Code: RawRepresentable, Hashable, Sendable {
        /// The gRPC status code number.
        public var rawValue: UInt8
        /// Wraps a gRPC status code number.
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// CANCELLED (1).
        public static let cancelled = Code(rawValue: 1)
        /// INVALID_ARGUMENT (3).
        public static let invalidArgument = Code(rawValue: 3)
        /// NOT_FOUND (5).
        public static let notFound = Code(rawValue: 5)
        /// PERMISSION_DENIED (7).
        public static let permissionDenied = Code(rawValue: 7)
        /// RESOURCE_EXHAUSTED (8).
        public static let resourceExhausted = Code(rawValue: 8)
        /// FAILED_PRECONDITION (9).
        public static let failedPrecondition = Code(rawValue: 9)
        /// OUT_OF_RANGE (11).
        public static let outOfRange = Code(rawValue: 11)
        /// UNAVAILABLE (14).
        public static let unavailable = Code(rawValue: 14)
        /// DATA_LOSS (15).
        public static let dataLoss = Code(rawValue: 15)
        /// UNAUTHENTICATED (16).
        public static let unauthenticated = Code(rawValue: 16)
    }

    /// The gRPC status code.
    public let code: Code
    /// The `grpc-message` text, verbatim from etcd.
    public let message: String

    /// Creates a status; use the constants below rather than new texts, which clients would not recognize.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The etcd message text.
    public var description: String { message }

    /// The constant whose message is `message`, as clientv3's `errStringToError` looks it up; nil otherwise.
    /// - Complexity: O(n) in the 52 constants.
    public init?(message: String) {
        guard let match = Self.all.first(where: { $0.message == message }) else { return nil }
        self = match
    }
}

extension EtcdError {
    /// `ErrGRPCEmptyKey`.
    public static let emptyKey = EtcdError(code: .invalidArgument, message: "etcdserver: key is not provided")
    /// `ErrGRPCKeyNotFound`.
    public static let keyNotFound = EtcdError(code: .invalidArgument, message: "etcdserver: key not found")
    /// `ErrGRPCValueProvided`.
    public static let valueProvided = EtcdError(code: .invalidArgument, message: "etcdserver: value is provided")
    /// `ErrGRPCLeaseProvided`.
    public static let leaseProvided = EtcdError(code: .invalidArgument, message: "etcdserver: lease is provided")
    /// `ErrGRPCTooManyOps`.
    public static let tooManyOps = EtcdError(
        code: .invalidArgument, message: "etcdserver: too many operations in txn request")
    /// `ErrGRPCDuplicateKey`.
    public static let duplicateKey = EtcdError(
        code: .invalidArgument, message: "etcdserver: duplicate key given in txn request")
    /// `ErrGRPCCompacted`.
    public static let compacted = EtcdError(
        code: .outOfRange, message: "etcdserver: mvcc: required revision has been compacted")
    /// `ErrGRPCFutureRev`.
    public static let futureRevision = EtcdError(
        code: .outOfRange, message: "etcdserver: mvcc: required revision is a future revision")
    /// `ErrGRPCNoSpace`.
    public static let noSpace = EtcdError(
        code: .resourceExhausted, message: "etcdserver: mvcc: database space exceeded")
    /// `ErrGRPCLeaseNotFound`.
    public static let leaseNotFound = EtcdError(code: .notFound, message: "etcdserver: requested lease not found")
    /// `ErrGRPCLeaseExist`.
    public static let leaseExist = EtcdError(code: .failedPrecondition, message: "etcdserver: lease already exists")
    /// `ErrGRPCLeaseTTLTooLarge`.
    public static let leaseTTLTooLarge = EtcdError(code: .outOfRange, message: "etcdserver: too large lease TTL")
    /// `ErrGRPCWatchCanceled`.
    public static let watchCanceled = EtcdError(code: .cancelled, message: "etcdserver: watch canceled")
    /// `ErrGRPCMemberExist`.
    public static let memberExist = EtcdError(code: .failedPrecondition, message: "etcdserver: member ID already exist")
    /// `ErrGRPCPeerURLExist`.
    public static let peerURLExist = EtcdError(
        code: .failedPrecondition, message: "etcdserver: Peer URLs already exists")
    /// `ErrGRPCMemberNotEnoughStarted`.
    public static let memberNotEnoughStarted = EtcdError(
        code: .failedPrecondition, message: "etcdserver: re-configuration failed due to not enough started members")
    /// `ErrGRPCMemberBadURLs`.
    public static let memberBadURLs = EtcdError(
        code: .invalidArgument, message: "etcdserver: given member URLs are invalid")
    /// `ErrGRPCMemberNotFound`.
    public static let memberNotFound = EtcdError(code: .notFound, message: "etcdserver: member not found")
    /// `ErrGRPCMemberNotLearner`.
    public static let memberNotLearner = EtcdError(
        code: .failedPrecondition, message: "etcdserver: can only promote a learner member")
    /// `ErrGRPCLearnerNotReady`.
    public static let learnerNotReady = EtcdError(
        code: .failedPrecondition, message: "etcdserver: can only promote a learner member which is in sync with leader")
    /// `ErrGRPCTooManyLearners`.
    public static let tooManyLearners = EtcdError(
        code: .failedPrecondition, message: "etcdserver: too many learner members in cluster")
    /// `ErrGRPCRequestTooLarge`.
    public static let requestTooLarge = EtcdError(code: .invalidArgument, message: "etcdserver: request is too large")
    /// `ErrGRPCRequestTooManyRequests`.
    public static let tooManyRequests = EtcdError(code: .resourceExhausted, message: "etcdserver: too many requests")
    /// `ErrGRPCRootUserNotExist`.
    public static let rootUserNotExist = EtcdError(
        code: .failedPrecondition, message: "etcdserver: root user does not exist")
    /// `ErrGRPCRootRoleNotExist`.
    public static let rootRoleNotExist = EtcdError(
        code: .failedPrecondition, message: "etcdserver: root user does not have root role")
    /// `ErrGRPCUserAlreadyExist`.
    public static let userAlreadyExist = EtcdError(
        code: .failedPrecondition, message: "etcdserver: user name already exists")
    /// `ErrGRPCUserEmpty`.
    public static let userEmpty = EtcdError(code: .invalidArgument, message: "etcdserver: user name is empty")
    /// `ErrGRPCUserNotFound`.
    public static let userNotFound = EtcdError(code: .failedPrecondition, message: "etcdserver: user name not found")
    /// `ErrGRPCRoleAlreadyExist`.
    public static let roleAlreadyExist = EtcdError(
        code: .failedPrecondition, message: "etcdserver: role name already exists")
    /// `ErrGRPCRoleNotFound`.
    public static let roleNotFound = EtcdError(code: .failedPrecondition, message: "etcdserver: role name not found")
    /// `ErrGRPCRoleEmpty`.
    public static let roleEmpty = EtcdError(code: .invalidArgument, message: "etcdserver: role name is empty")
    /// `ErrGRPCAuthFailed`.
    public static let authFailed = EtcdError(
        code: .invalidArgument, message: "etcdserver: authentication failed, invalid user ID or password")
    /// `ErrGRPCPermissionDenied`.
    public static let permissionDenied = EtcdError(code: .permissionDenied, message: "etcdserver: permission denied")
    /// `ErrGRPCRoleNotGranted`.
    public static let roleNotGranted = EtcdError(
        code: .failedPrecondition, message: "etcdserver: role is not granted to the user")
    /// `ErrGRPCPermissionNotGranted`.
    public static let permissionNotGranted = EtcdError(
        code: .failedPrecondition, message: "etcdserver: permission is not granted to the role")
    /// `ErrGRPCAuthNotEnabled`.
    public static let authNotEnabled = EtcdError(
        code: .failedPrecondition, message: "etcdserver: authentication is not enabled")
    /// `ErrGRPCInvalidAuthToken`.
    public static let invalidAuthToken = EtcdError(code: .unauthenticated, message: "etcdserver: invalid auth token")
    /// `ErrGRPCInvalidAuthMgmt`.
    public static let invalidAuthMgmt = EtcdError(
        code: .invalidArgument, message: "etcdserver: invalid auth management")
    /// `ErrGRPCAuthOldRevision`.
    public static let authOldRevision = EtcdError(
        code: .invalidArgument, message: "etcdserver: revision of auth store is old")
    /// `ErrGRPCNoLeader`.
    public static let noLeader = EtcdError(code: .unavailable, message: "etcdserver: no leader")
    /// `ErrGRPCNotLeader`.
    public static let notLeader = EtcdError(code: .failedPrecondition, message: "etcdserver: not leader")
    /// `ErrGRPCLeaderChanged`.
    public static let leaderChanged = EtcdError(code: .unavailable, message: "etcdserver: leader changed")
    /// `ErrGRPCNotCapable`.
    public static let notCapable = EtcdError(code: .unavailable, message: "etcdserver: not capable")
    /// `ErrGRPCStopped`.
    public static let stopped = EtcdError(code: .unavailable, message: "etcdserver: server stopped")
    /// `ErrGRPCTimeout`.
    public static let timeout = EtcdError(code: .unavailable, message: "etcdserver: request timed out")
    /// `ErrGRPCTimeoutDueToLeaderFail`.
    public static let timeoutDueToLeaderFail = EtcdError(
        code: .unavailable, message: "etcdserver: request timed out, possibly due to previous leader failure")
    /// `ErrGRPCTimeoutDueToConnectionLost`.
    public static let timeoutDueToConnectionLost = EtcdError(
        code: .unavailable, message: "etcdserver: request timed out, possibly due to connection lost")
    /// `ErrGRPCTimeoutWaitAppliedIndex`.
    public static let timeoutWaitAppliedIndex = EtcdError(
        code: .unavailable, message: "etcdserver: request timed out, waiting for the applied index took too long")
    /// `ErrGRPCUnhealthy`.
    public static let unhealthy = EtcdError(code: .unavailable, message: "etcdserver: unhealthy cluster")
    /// `ErrGRPCCorrupt`.
    public static let corrupt = EtcdError(code: .dataLoss, message: "etcdserver: corrupt cluster")
    /// `ErrGPRCNotSupportedForLearner`.
    public static let notSupportedForLearner = EtcdError(
        code: .unavailable, message: "etcdserver: rpc not supported for learner")
    /// `ErrGRPCBadLeaderTransferee`.
    public static let badLeaderTransferee = EtcdError(
        code: .failedPrecondition, message: "etcdserver: bad leader transferee")

    /// Every status above, in error.go's order.
    public static let all: [EtcdError] = [
        .emptyKey,
        .keyNotFound,
        .valueProvided,
        .leaseProvided,
        .tooManyOps,
        .duplicateKey,
        .compacted,
        .futureRevision,
        .noSpace,
        .leaseNotFound,
        .leaseExist,
        .leaseTTLTooLarge,
        .watchCanceled,
        .memberExist,
        .peerURLExist,
        .memberNotEnoughStarted,
        .memberBadURLs,
        .memberNotFound,
        .memberNotLearner,
        .learnerNotReady,
        .tooManyLearners,
        .requestTooLarge,
        .tooManyRequests,
        .rootUserNotExist,
        .rootRoleNotExist,
        .userAlreadyExist,
        .userEmpty,
        .userNotFound,
        .roleAlreadyExist,
        .roleNotFound,
        .roleEmpty,
        .authFailed,
        .permissionDenied,
        .roleNotGranted,
        .permissionNotGranted,
        .authNotEnabled,
        .invalidAuthToken,
        .invalidAuthMgmt,
        .authOldRevision,
        .noLeader,
        .notLeader,
        .leaderChanged,
        .notCapable,
        .stopped,
        .timeout,
        .timeoutDueToLeaderFail,
        .timeoutDueToConnectionLost,
        .timeoutWaitAppliedIndex,
        .unhealthy,
        .corrupt,
        .notSupportedForLearner,
        .badLeaderTransferee,
    ]
}
