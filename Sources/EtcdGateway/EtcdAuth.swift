import EtcdAPI
import GRPC
import Protobuf
import Registry
import RosterNode

/// How the shell serves one call of etcd's `Auth` service: an `AuthRequest`, or a refusal decided from the
/// request alone.
public enum EtcdAuthPlan: Equatable, Sendable {
    case serve(AuthRequest)
    case fail(GRPCStatus)
}

/// Decodes `Auth` requests and encodes their answers.
public enum EtcdAuth {
    /// The plan for an `Auth` method; nil for a method of another service.
    public static func plan(_ method: EtcdMethod, payload: [UInt8]) -> EtcdAuthPlan? {
        do throws(ProtoError) {
            switch method {
            case .authenticate:
                let request = try AuthenticateRequest(decoding: payload)
                return .serve(.authenticate(name: request.name, password: request.password))
            case .authEnable:
                _ = try AuthEnableRequest(decoding: payload)
                return .serve(.enable)
            case .authDisable:
                _ = try AuthDisableRequest(decoding: payload)
                return .serve(.change(.disable))
            case .authStatus:
                _ = try AuthStatusRequest(decoding: payload)
                return .serve(.read(.status))
            case .authUserAdd:
                let request = try AuthUserAddRequest(decoding: payload)
                if request.name.isEmpty { return .fail(EtcdStatus.error(.userEmpty)) }
                if request.options?.noPassword == true { return .serve(.change(.addUser(name: request.name, credential: nil))) }
                return .serve(.setPassword(user: request.name, password: request.password, isNewUser: true))
            case .authUserGet: return .serve(.read(.user(try AuthUserGetRequest(decoding: payload).name)))
            case .authUserList:
                _ = try AuthUserListRequest(decoding: payload)
                return .serve(.read(.users))
            case .authUserDelete: return .serve(.change(.deleteUser(name: try AuthUserDeleteRequest(decoding: payload).name)))
            case .authUserChangePassword:
                let request = try AuthUserChangePasswordRequest(decoding: payload)
                return .serve(.setPassword(user: request.name, password: request.password, isNewUser: false))
            case .authUserGrantRole:
                let request = try AuthUserGrantRoleRequest(decoding: payload)
                return .serve(.change(.grantRole(user: request.user, role: request.role)))
            case .authUserRevokeRole:
                let request = try AuthUserRevokeRoleRequest(decoding: payload)
                return .serve(.change(.revokeRole(user: request.name, role: request.role)))
            case .authRoleAdd:
                let request = try AuthRoleAddRequest(decoding: payload)
                if request.name.isEmpty { return .fail(EtcdStatus.error(.roleEmpty)) }
                return .serve(.change(.addRole(name: request.name)))
            case .authRoleGet: return .serve(.read(.role(try AuthRoleGetRequest(decoding: payload).role)))
            case .authRoleList:
                _ = try AuthRoleListRequest(decoding: payload)
                return .serve(.read(.roles))
            case .authRoleDelete: return .serve(.change(.deleteRole(name: try AuthRoleDeleteRequest(decoding: payload).role)))
            case .authRoleGrantPermission:
                let request = try AuthRoleGrantPermissionRequest(decoding: payload)
                guard let perm = request.perm, let access = AuthPermission.Access(rawValue: UInt8(clamping: perm.permType.rawValue)),
                    perm.permType.rawValue >= 0
                else {
                    return .fail(GRPCStatus(code: .invalidArgument, message: "etcdserver: invalid permission type"))
                }
                let permission = AuthPermission(access, permissionRange(key: perm.key, end: perm.rangeEnd))
                return .serve(.change(.grantPermission(role: request.name, permission: permission)))
            case .authRoleRevokePermission:
                let request = try AuthRoleRevokePermissionRequest(decoding: payload)
                return .serve(.change(.revokePermission(role: request.role, range: permissionRange(key: request.key, end: request.rangeEnd))))
            default:
                return nil
            }
        } catch {
            return .fail(GRPCStatus(code: .invalidArgument, message: "grpc: error unmarshalling request: \(error)"))
        }
    }

    /// A permission's range as etcd names it; an empty key with end `"\0"` is every key.
    static func permissionRange(key: [UInt8], end: [UInt8]) -> KeyRange {
        EtcdKeys.range(key: key, end: end)
    }

    /// etcd's `(key, range_end)` for a permission's range.
    static func etcdRange(_ range: KeyRange) -> (key: [UInt8], end: [UInt8]) {
        switch range {
        case .key(let key): (key, [])
        case .prefix(let prefix): (prefix, EtcdKeys.prefixEnd(of: prefix) ?? [0])
        case .interval(let start, let end): (start, end)
        case .fromKey(let key): (key, [0])
        }
    }

    /// The answer to an applied auth command (every such etcd response is a header alone, field 1, so their
    /// encodings are identical).
    public static func written(header: ResponseHeader) -> [UInt8] {
        AuthUserAddResponse(header: header).encoded()
    }

    /// The answer to Authenticate.
    public static func authenticated(token: String, header: ResponseHeader) -> [UInt8] {
        AuthenticateResponse(header: header, token: token).encoded()
    }

    /// The answer to a local read, or the refusal.
    public static func answer(_ read: AuthRead, auth: AuthState, header: ResponseHeader) -> Result<[UInt8], GRPCStatus> {
        switch read {
        case .status:
            return .success(AuthStatusResponse(header: header, enabled: auth.isEnabled, authRevision: auth.revision).encoded())
        case .user(let name):
            guard let user = auth.user(name) else { return .failure(EtcdStatus.error(.userNotFound)) }
            return .success(AuthUserGetResponse(header: header, roles: user.roles).encoded())
        case .users:
            var answer = AuthUserListResponse()
            answer.header = header
            answer.users = auth.allUsers.map(\.name)
            return .success(answer.encoded())
        case .role(let name):
            guard let role = auth.role(name) else {
                // etcd keeps no record for a root role granted but never added; it still answers for it.
                if name == AuthState.rootName { return .success(AuthRoleGetResponse(header: header).encoded()) }
                return .failure(EtcdStatus.error(.roleNotFound))
            }
            let permissions = role.permissions.map { permission in
                let (key, end) = etcdRange(permission.range)
                var perm = EtcdAPI.Permission()
                perm.permType = EtcdAPI.Permission.PermType(rawValue: Int32(permission.access.rawValue))
                perm.key = key
                perm.rangeEnd = end
                return perm
            }
            return .success(AuthRoleGetResponse(header: header, perm: permissions).encoded())
        case .roles:
            var answer = AuthRoleListResponse()
            answer.header = header
            answer.roles = auth.allRoles.map(\.name)
            return .success(answer.encoded())
        }
    }
}
