import Registry

/// A client's request to the auth store, as both front ends (native HTTP and etcd's `Auth` service) decode it.
///
/// Passwords never reach the state machine: `authenticate` and `setPassword` name a password that the shell
/// checks or derives on its password worker, off the event loop, before it answers or proposes.
public enum AuthRequest: Equatable, Sendable {
    /// Check `password` against `name`'s credential and answer with a token.
    case authenticate(name: String, password: String)
    /// Generate a token signing key, then propose `.enable` with it.
    case enable
    /// Derive a credential for `password`, then propose `.addUser` (a new user) or `.changePassword`.
    case setPassword(user: String, password: String, isNewUser: Bool)
    /// Propose this command as it is.
    case change(AuthCommand)
    /// Answer from this node's applied auth state.
    case read(AuthRead)

    /// Whether the request needs the root role while auth is on: all but Authenticate and the status.
    public var needsRoot: Bool {
        switch self {
        case .authenticate, .read(.status): false
        default: true
        }
    }
}

/// The auth reads, answered from the applied state (etcd serves them through Raft; a member's applied state
/// is at most a heartbeat behind, which for user and role listings is harmless).
public enum AuthRead: Equatable, Sendable {
    case status
    case user(String)
    case users
    case role(String)
    case roles
}
