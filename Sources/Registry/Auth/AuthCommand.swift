/// A change to users, roles or the auth switch; each applied one bumps the auth revision, which invalidates
/// every token issued before it (so a revoked permission takes effect at once).
public enum AuthCommand: Hashable, Sendable {
    /// Turns auth on (etcd `AuthEnable`): refused unless a `root` user holds the `root` role. Carries the
    /// token signing key, generated at random by the proposing shell, so that every member verifies the
    /// tokens any member issues.
    case enable(tokenSigningKey: [UInt8])
    /// Turns auth off; users and roles stay.
    case disable
    /// Adds a user; a nil credential makes a user that only a client certificate reaches.
    case addUser(name: String, credential: PasswordCredential?)
    case deleteUser(name: String)
    case changePassword(name: String, credential: PasswordCredential)
    case grantRole(user: String, role: String)
    case revokeRole(user: String, role: String)
    case addRole(name: String)
    case deleteRole(name: String)
    /// Grants a permission; a grant on a range the role already holds replaces its access (etcd).
    case grantPermission(role: String, permission: AuthPermission)
    /// Takes away the permission on exactly `range`.
    case revokePermission(role: String, range: KeyRange)
}

/// Why an auth command or an authentication was refused (etcd's auth errors).
public enum AuthRejection: Error, Hashable, Sendable {
    /// `ErrUserEmpty`: a request without a user while auth is on, or an empty name.
    case userEmpty
    /// `ErrRoleEmpty`.
    case roleEmpty
    case userAlreadyExists(String)
    case userNotFound(String)
    case roleAlreadyExists(String)
    case roleNotFound(String)
    /// `ErrRoleNotGranted`.
    case roleNotGranted(user: String, role: String)
    /// `ErrPermissionNotGranted`.
    case permissionNotGranted(role: String)
    /// `ErrRootUserNotExist`.
    case rootUserDoesNotExist
    /// `ErrRootRoleNotExist`: the root user lacks the root role.
    case rootUserLacksRootRole
    /// `ErrInvalidAuthMgmt`: the change would lock everyone out (deleting root or its root role while on).
    case invalidAuthManagement
    /// `ErrAuthNotEnabled`.
    case authNotEnabled
    /// `ErrAuthFailed`: unknown user or wrong password (one answer for both, so names cannot be probed).
    case authenticationFailed
    /// `ErrPermissionDenied`.
    case permissionDenied
    /// `ErrInvalidAuthToken`: forged, expired or unreadable token.
    case invalidToken
    /// `ErrAuthOldRevision`: the token predates an auth change.
    case oldRevision(token: UInt64, current: UInt64)
    /// A name, salt or key longer than the auth limits, or too many users, roles or permissions.
    case overLimit(field: String, limit: Int)
}
