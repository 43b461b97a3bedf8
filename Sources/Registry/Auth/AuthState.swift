/// The replicated access-control state: users, roles, the auth switch, the token signing key and the auth
/// revision (etcd's auth store).
///
/// Pure and deterministic like the rest of `RegistryState`: passwords arrive already derived, the signing key
/// arrives in the `enable` command, and no clock is read. Dictionary order never reaches an output: lists are
/// sorted by name.
///
/// Invariant: every role a user lists exists; when enabled, `root` exists and holds the `root` role; `revision`
/// grows by one per applied command.
public struct AuthState: Hashable, Sendable {
    /// The name of the user and of the role that may do everything (etcd).
    public static let rootName = "root"
    /// Longest user or role name, in UTF-8 bytes.
    public static let nameBytes = 256
    /// Bounds on what a client can make every replica hold.
    public static let maxUsers = 10_000
    public static let maxRoles = 10_000
    public static let maxPermissionsPerRole = 1_000
    /// Longest salt, derived key and signing key, in bytes.
    public static let secretBytes = 128

    public internal(set) var isEnabled = false
    /// Bumped by every applied auth command; tokens carry the revision they were issued at.
    public internal(set) var revision: UInt64 = 0
    /// The key tokens are signed with (HMAC-SHA-256); empty until auth was first enabled.
    public internal(set) var tokenSigningKey: [UInt8] = []
    var users: [String: AuthUser] = [:]
    var roles: [String: AuthRole] = [:]

    public init() {}

    /// Whether nothing was ever changed (a snapshot then needs no auth section).
    public var isPristine: Bool { revision == 0 }

    /// The user named `name`.
    public func user(_ name: String) -> AuthUser? { users[name] }

    /// The role named `name`.
    public func role(_ name: String) -> AuthRole? { roles[name] }

    /// Every user, by name.
    /// - Complexity: O(n log n).
    public var allUsers: [AuthUser] { users.values.sorted { $0.name < $1.name } }

    /// Every role, by name.
    /// - Complexity: O(n log n).
    public var allRoles: [AuthRole] { roles.values.sorted { $0.name < $1.name } }

    /// Whether `user` holds the root role (and so may do everything, including auth and cluster admin).
    public func isRoot(_ user: String) -> Bool {
        users[user]?.roles.contains(Self.rootName) ?? false
    }
}

// MARK: - Authorization

/// What a request needs from its user when auth is on.
public enum AuthRequirement: Hashable, Sendable {
    /// Any authenticated user (lease grant and keepalive, auth status).
    case authenticated
    /// Every listed access on every listed range.
    case keys([KeyAccess])
    /// The root role (auth and membership management, maintenance, compaction, snapshots).
    case root
}

/// One access a request makes on one range.
public struct KeyAccess: Hashable, Sendable {
    public var access: AuthPermission.Access
    public var range: KeyRange

    public init(_ access: AuthPermission.Access, _ range: KeyRange) {
        precondition(access != .readWrite, "a request needs read or write, not both in one access")
        self.access = access
        self.range = range
    }
}

extension AuthState {
    /// Whether `user` may make a request with `requirement`: nil if so, else why not.
    ///
    /// Only called with auth on; the caller has already checked that the user's token is valid. A user that
    /// no longer exists is refused (its token was issued before an auth change anyway).
    /// - Complexity: O(p log p) in the user's permissions, per access.
    public func authorize(user: String, _ requirement: AuthRequirement) -> AuthRejection? {
        guard let record = users[user] else { return .permissionDenied }
        if record.roles.contains(Self.rootName) { return nil }
        switch requirement {
        case .authenticated: return nil
        case .root: return .permissionDenied
        case .keys(let accesses):
            var readable: [KeyInterval]?
            var writable: [KeyInterval]?
            for access in accesses {
                let needed = KeyInterval(access.range)
                switch access.access {
                case .read:
                    if readable == nil { readable = intervals(of: record, allowing: .read) }
                    if !needed.isCovered(by: readable!) { return .permissionDenied }
                case .write, .readWrite:
                    if writable == nil { writable = intervals(of: record, allowing: .write) }
                    if !needed.isCovered(by: writable!) { return .permissionDenied }
                }
            }
            return nil
        }
    }

    private func intervals(of user: AuthUser, allowing access: AuthPermission.Access) -> [KeyInterval] {
        var intervals: [KeyInterval] = []
        for name in user.roles {
            for permission in roles[name]?.permissions ?? [] where permission.access.allows(access) {
                intervals.append(KeyInterval(permission.range))
            }
        }
        return intervals
    }
}
