import HTTP
import Registry

/// How auth refusals become HTTP errors: 401 when the caller is not (or no longer) authenticated, 403 when it
/// is but may not do this, 404/409/400 for user and role management like any other resource.
extension APIError {
    /// The error for an auth refusal.
    public init(auth rejection: AuthRejection) {
        let (status, code, message) = Self.describe(rejection)
        self.init(status: status, code: code, message: message)
    }

    static func describe(_ rejection: AuthRejection) -> (HTTPStatus, String, String) {
        switch rejection {
        case .userEmpty:
            return (
                .unauthorized, "unauthenticated",
                "auth is enabled: authenticate (POST /v1/auth/authenticate) and send Authorization: Bearer <token>")
        case .roleEmpty: return (.badRequest, "role_empty", "the role name is empty")
        case .userAlreadyExists(let name): return (.conflict, "user_exists", "user \(JSONText.quote(name)) already exists")
        case .userNotFound(let name): return (.notFound, "user_not_found", "user \(JSONText.quote(name)) does not exist")
        case .roleAlreadyExists(let name): return (.conflict, "role_exists", "role \(JSONText.quote(name)) already exists")
        case .roleNotFound(let name): return (.notFound, "role_not_found", "role \(JSONText.quote(name)) does not exist")
        case .roleNotGranted(let user, let role):
            return (.conflict, "role_not_granted", "user \(JSONText.quote(user)) does not hold role \(JSONText.quote(role))")
        case .permissionNotGranted(let role):
            return (.conflict, "permission_not_granted", "role \(JSONText.quote(role)) holds no permission on that range")
        case .rootUserDoesNotExist:
            return (.conflict, "root_user_missing", "auth cannot be enabled before a user named root exists")
        case .rootUserLacksRootRole:
            return (.conflict, "root_role_missing", "auth cannot be enabled before the root user holds the root role")
        case .invalidAuthManagement:
            return (.conflict, "invalid_auth_management", "the change would leave auth enabled without a root user holding root")
        case .authNotEnabled: return (.conflict, "auth_not_enabled", "authentication is not enabled")
        case .authenticationFailed:
            return (.unauthorized, "authentication_failed", "authentication failed: unknown user or wrong password")
        case .permissionDenied: return (.forbidden, "permission_denied", "permission denied")
        case .invalidToken:
            return (.unauthorized, "invalid_token", "the token is invalid or expired; authenticate again")
        case .oldRevision(let token, let current):
            return (
                .unauthorized, "auth_old_revision",
                "the token was issued at auth revision \(token), before a change (now \(current)); authenticate again")
        case .overLimit(let field, let limit): return (.badRequest, "over_limit", "\(field) over the limit of \(limit)")
        }
    }
}
