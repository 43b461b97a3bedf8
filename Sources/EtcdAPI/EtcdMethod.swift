import Protobuf

/// The RPC methods of etcd 3.4's v3 API (rpc.proto's six services), keyed by their HTTP/2 `:path`.
///
/// Roster's gRPC front end parses the `:path` of each new stream with `init(path:)` (unknown paths answer
/// UNIMPLEMENTED), then uses `kind` to know how many messages to expect each way and `requestType` to
/// decode them. Also includes `Auth/AuthStatus` from etcd 3.5, which 3.5 clients call.
public enum EtcdMethod: String, Sendable, Hashable, CaseIterable {
    // MARK: - KV
    /// `RangeRequest` → `RangeResponse` (unary).
    case range = "/etcdserverpb.KV/Range"
    /// `PutRequest` → `PutResponse` (unary).
    case put = "/etcdserverpb.KV/Put"
    /// `DeleteRangeRequest` → `DeleteRangeResponse` (unary).
    case deleteRange = "/etcdserverpb.KV/DeleteRange"
    /// `TxnRequest` → `TxnResponse` (unary).
    case txn = "/etcdserverpb.KV/Txn"
    /// `CompactionRequest` → `CompactionResponse` (unary).
    case compact = "/etcdserverpb.KV/Compact"
    // MARK: - Watch
    /// `WatchRequest` → `WatchResponse` (bidirectionalStreaming).
    case watch = "/etcdserverpb.Watch/Watch"
    // MARK: - Lease
    /// `LeaseGrantRequest` → `LeaseGrantResponse` (unary).
    case leaseGrant = "/etcdserverpb.Lease/LeaseGrant"
    /// `LeaseRevokeRequest` → `LeaseRevokeResponse` (unary).
    case leaseRevoke = "/etcdserverpb.Lease/LeaseRevoke"
    /// `LeaseKeepAliveRequest` → `LeaseKeepAliveResponse` (bidirectionalStreaming).
    case leaseKeepAlive = "/etcdserverpb.Lease/LeaseKeepAlive"
    /// `LeaseTimeToLiveRequest` → `LeaseTimeToLiveResponse` (unary).
    case leaseTimeToLive = "/etcdserverpb.Lease/LeaseTimeToLive"
    /// `LeaseLeasesRequest` → `LeaseLeasesResponse` (unary).
    case leaseLeases = "/etcdserverpb.Lease/LeaseLeases"
    // MARK: - Cluster
    /// `MemberAddRequest` → `MemberAddResponse` (unary).
    case memberAdd = "/etcdserverpb.Cluster/MemberAdd"
    /// `MemberRemoveRequest` → `MemberRemoveResponse` (unary).
    case memberRemove = "/etcdserverpb.Cluster/MemberRemove"
    /// `MemberUpdateRequest` → `MemberUpdateResponse` (unary).
    case memberUpdate = "/etcdserverpb.Cluster/MemberUpdate"
    /// `MemberListRequest` → `MemberListResponse` (unary).
    case memberList = "/etcdserverpb.Cluster/MemberList"
    /// `MemberPromoteRequest` → `MemberPromoteResponse` (unary).
    case memberPromote = "/etcdserverpb.Cluster/MemberPromote"
    // MARK: - Maintenance
    /// `AlarmRequest` → `AlarmResponse` (unary).
    case alarm = "/etcdserverpb.Maintenance/Alarm"
    /// `StatusRequest` → `StatusResponse` (unary).
    case status = "/etcdserverpb.Maintenance/Status"
    /// `DefragmentRequest` → `DefragmentResponse` (unary).
    case defragment = "/etcdserverpb.Maintenance/Defragment"
    /// `HashRequest` → `HashResponse` (unary).
    case hash = "/etcdserverpb.Maintenance/Hash"
    /// `HashKVRequest` → `HashKVResponse` (unary).
    case hashKV = "/etcdserverpb.Maintenance/HashKV"
    /// `SnapshotRequest` → `SnapshotResponse` (serverStreaming).
    case snapshot = "/etcdserverpb.Maintenance/Snapshot"
    /// `MoveLeaderRequest` → `MoveLeaderResponse` (unary).
    case moveLeader = "/etcdserverpb.Maintenance/MoveLeader"
    // MARK: - Auth
    /// `AuthEnableRequest` → `AuthEnableResponse` (unary).
    case authEnable = "/etcdserverpb.Auth/AuthEnable"
    /// `AuthDisableRequest` → `AuthDisableResponse` (unary).
    case authDisable = "/etcdserverpb.Auth/AuthDisable"
    /// `AuthStatusRequest` → `AuthStatusResponse` (unary).
    case authStatus = "/etcdserverpb.Auth/AuthStatus"
    /// `AuthenticateRequest` → `AuthenticateResponse` (unary).
    case authenticate = "/etcdserverpb.Auth/Authenticate"
    /// `AuthUserAddRequest` → `AuthUserAddResponse` (unary).
    case authUserAdd = "/etcdserverpb.Auth/UserAdd"
    /// `AuthUserGetRequest` → `AuthUserGetResponse` (unary).
    case authUserGet = "/etcdserverpb.Auth/UserGet"
    /// `AuthUserListRequest` → `AuthUserListResponse` (unary).
    case authUserList = "/etcdserverpb.Auth/UserList"
    /// `AuthUserDeleteRequest` → `AuthUserDeleteResponse` (unary).
    case authUserDelete = "/etcdserverpb.Auth/UserDelete"
    /// `AuthUserChangePasswordRequest` → `AuthUserChangePasswordResponse` (unary).
    case authUserChangePassword = "/etcdserverpb.Auth/UserChangePassword"
    /// `AuthUserGrantRoleRequest` → `AuthUserGrantRoleResponse` (unary).
    case authUserGrantRole = "/etcdserverpb.Auth/UserGrantRole"
    /// `AuthUserRevokeRoleRequest` → `AuthUserRevokeRoleResponse` (unary).
    case authUserRevokeRole = "/etcdserverpb.Auth/UserRevokeRole"
    /// `AuthRoleAddRequest` → `AuthRoleAddResponse` (unary).
    case authRoleAdd = "/etcdserverpb.Auth/RoleAdd"
    /// `AuthRoleGetRequest` → `AuthRoleGetResponse` (unary).
    case authRoleGet = "/etcdserverpb.Auth/RoleGet"
    /// `AuthRoleListRequest` → `AuthRoleListResponse` (unary).
    case authRoleList = "/etcdserverpb.Auth/RoleList"
    /// `AuthRoleDeleteRequest` → `AuthRoleDeleteResponse` (unary).
    case authRoleDelete = "/etcdserverpb.Auth/RoleDelete"
    /// `AuthRoleGrantPermissionRequest` → `AuthRoleGrantPermissionResponse` (unary).
    case authRoleGrantPermission = "/etcdserverpb.Auth/RoleGrantPermission"
    /// `AuthRoleRevokePermissionRequest` → `AuthRoleRevokePermissionResponse` (unary).
    case authRoleRevokePermission = "/etcdserverpb.Auth/RoleRevokePermission"

    /// How many messages flow each way on one call.
    public enum Kind: Sendable, Hashable {
        /// One request, one response.
        case unary
        /// A stream of requests, one response (none of etcd's methods, kept for completeness).
        case clientStreaming
        /// One request, a stream of responses (Maintenance/Snapshot).
        case serverStreaming
        /// Streams both ways (Watch/Watch, Lease/LeaseKeepAlive).
        case bidirectionalStreaming
    }

    /// The method a `:path` names, or nil for any other path (answer UNIMPLEMENTED).
    public init?(path: String) {
        self.init(rawValue: path)
    }

    /// The method a `:path` given as octets names, or nil for any other path; the same answer as `init(path:)`.
    ///
    /// Why: every call's path is looked up, and `init(rawValue:)` made a string of the octets and compared it
    /// with the methods' raw values one by one, about 700 instructions a call. Here only the methods of the
    /// same length are compared, octet by octet. A path with a non-ASCII octet is passed to `init(path:)`,
    /// whose string comparison treats canonically equivalent characters alike (U+212A KELVIN SIGN is "K").
    public init?(pathOctets: [UInt8]) {
        let table = Self.methodsByPathLength
        if pathOctets.count < table.count {
            for candidate in table[pathOctets.count] where candidate.octets == pathOctets {
                self = candidate.method
                return
            }
        }
        guard pathOctets.contains(where: { $0 >= 0x80 }) else { return nil }
        self.init(path: String(decoding: pathOctets, as: UTF8.self))
    }

    /// The methods by the length of their `:path` in octets, each with its path as octets.
    private static let methodsByPathLength: [[(octets: [UInt8], method: EtcdMethod)]] = {
        let longest = allCases.map(\.rawValue.utf8.count).max() ?? 0
        var table = Array(repeating: [(octets: [UInt8], method: EtcdMethod)](), count: longest + 1)
        for method in allCases {
            table[method.rawValue.utf8.count].append((octets: Array(method.rawValue.utf8), method: method))
        }
        return table
    }()

    /// The HTTP/2 `:path`, `/etcdserverpb.<Service>/<Method>`.
    public var path: String { rawValue }

    /// The service name without package, for example `KV`.
    public var service: String {
        String(rawValue.dropFirst("/etcdserverpb.".count).prefix { $0 != "/" })
    }

    /// The method name, for example `Range`.
    public var name: String {
        String(rawValue.split(separator: "/").last ?? "")
    }

    /// Unary, client-streaming, server-streaming or bidirectional, as rpc.proto declares it.
    public var kind: Kind {
        switch self {
        case .snapshot: .serverStreaming
        case .watch, .leaseKeepAlive: .bidirectionalStreaming
        default: .unary
        }
    }

    /// The request message type.
    public var requestType: any ProtoMessage.Type {
        switch self {
        case .range: RangeRequest.self
        case .put: PutRequest.self
        case .deleteRange: DeleteRangeRequest.self
        case .txn: TxnRequest.self
        case .compact: CompactionRequest.self
        case .watch: WatchRequest.self
        case .leaseGrant: LeaseGrantRequest.self
        case .leaseRevoke: LeaseRevokeRequest.self
        case .leaseKeepAlive: LeaseKeepAliveRequest.self
        case .leaseTimeToLive: LeaseTimeToLiveRequest.self
        case .leaseLeases: LeaseLeasesRequest.self
        case .memberAdd: MemberAddRequest.self
        case .memberRemove: MemberRemoveRequest.self
        case .memberUpdate: MemberUpdateRequest.self
        case .memberList: MemberListRequest.self
        case .memberPromote: MemberPromoteRequest.self
        case .alarm: AlarmRequest.self
        case .status: StatusRequest.self
        case .defragment: DefragmentRequest.self
        case .hash: HashRequest.self
        case .hashKV: HashKVRequest.self
        case .snapshot: SnapshotRequest.self
        case .moveLeader: MoveLeaderRequest.self
        case .authEnable: AuthEnableRequest.self
        case .authDisable: AuthDisableRequest.self
        case .authStatus: AuthStatusRequest.self
        case .authenticate: AuthenticateRequest.self
        case .authUserAdd: AuthUserAddRequest.self
        case .authUserGet: AuthUserGetRequest.self
        case .authUserList: AuthUserListRequest.self
        case .authUserDelete: AuthUserDeleteRequest.self
        case .authUserChangePassword: AuthUserChangePasswordRequest.self
        case .authUserGrantRole: AuthUserGrantRoleRequest.self
        case .authUserRevokeRole: AuthUserRevokeRoleRequest.self
        case .authRoleAdd: AuthRoleAddRequest.self
        case .authRoleGet: AuthRoleGetRequest.self
        case .authRoleList: AuthRoleListRequest.self
        case .authRoleDelete: AuthRoleDeleteRequest.self
        case .authRoleGrantPermission: AuthRoleGrantPermissionRequest.self
        case .authRoleRevokePermission: AuthRoleRevokePermissionRequest.self
        }
    }

    /// The response message type.
    public var responseType: any ProtoMessage.Type {
        switch self {
        case .range: RangeResponse.self
        case .put: PutResponse.self
        case .deleteRange: DeleteRangeResponse.self
        case .txn: TxnResponse.self
        case .compact: CompactionResponse.self
        case .watch: WatchResponse.self
        case .leaseGrant: LeaseGrantResponse.self
        case .leaseRevoke: LeaseRevokeResponse.self
        case .leaseKeepAlive: LeaseKeepAliveResponse.self
        case .leaseTimeToLive: LeaseTimeToLiveResponse.self
        case .leaseLeases: LeaseLeasesResponse.self
        case .memberAdd: MemberAddResponse.self
        case .memberRemove: MemberRemoveResponse.self
        case .memberUpdate: MemberUpdateResponse.self
        case .memberList: MemberListResponse.self
        case .memberPromote: MemberPromoteResponse.self
        case .alarm: AlarmResponse.self
        case .status: StatusResponse.self
        case .defragment: DefragmentResponse.self
        case .hash: HashResponse.self
        case .hashKV: HashKVResponse.self
        case .snapshot: SnapshotResponse.self
        case .moveLeader: MoveLeaderResponse.self
        case .authEnable: AuthEnableResponse.self
        case .authDisable: AuthDisableResponse.self
        case .authStatus: AuthStatusResponse.self
        case .authenticate: AuthenticateResponse.self
        case .authUserAdd: AuthUserAddResponse.self
        case .authUserGet: AuthUserGetResponse.self
        case .authUserList: AuthUserListResponse.self
        case .authUserDelete: AuthUserDeleteResponse.self
        case .authUserChangePassword: AuthUserChangePasswordResponse.self
        case .authUserGrantRole: AuthUserGrantRoleResponse.self
        case .authUserRevokeRole: AuthUserRevokeRoleResponse.self
        case .authRoleAdd: AuthRoleAddResponse.self
        case .authRoleGet: AuthRoleGetResponse.self
        case .authRoleList: AuthRoleListResponse.self
        case .authRoleDelete: AuthRoleDeleteResponse.self
        case .authRoleGrantPermission: AuthRoleGrantPermissionResponse.self
        case .authRoleRevokePermission: AuthRoleRevokePermissionResponse.self
        }
    }
}
