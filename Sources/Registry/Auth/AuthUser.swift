/// A password as the state machine keeps it: never the password, only what a key-derivation function made of
/// it. The shell derives it (off the event loop) before proposing; applying only stores it, so every replica
/// stores the same bytes.
public struct PasswordCredential: Hashable, Sendable {
    /// The key-derivation functions Roster knows.
    public enum Function: UInt8, Hashable, Sendable {
        /// PBKDF2 with HMAC-SHA-256 (RFC 8018).
        case pbkdf2SHA256 = 1
    }

    public var function: Function
    public var iterations: UInt32
    public var salt: [UInt8]
    /// The derived key.
    public var hash: [UInt8]

    public init(function: Function = .pbkdf2SHA256, iterations: UInt32, salt: [UInt8], hash: [UInt8]) {
        self.function = function
        self.iterations = iterations
        self.salt = salt
        self.hash = hash
    }
}

/// A user: a name, a password credential or none, and granted roles.
///
/// A user without a credential (etcd's `no_password` option) cannot authenticate with a password; it is
/// reached only through a client certificate whose CN is its name.
public struct AuthUser: Hashable, Sendable {
    public var name: String
    public var credential: PasswordCredential?
    /// Role names, sorted and unique.
    public var roles: [String]

    public init(name: String, credential: PasswordCredential?, roles: [String] = []) {
        self.name = name
        self.credential = credential
        self.roles = Array(Set(roles)).sorted()
    }
}

/// A role: a name and the permissions it grants, sorted and unique.
public struct AuthRole: Hashable, Sendable {
    public var name: String
    public var permissions: [AuthPermission]

    public init(name: String, permissions: [AuthPermission] = []) {
        self.name = name
        self.permissions = permissions
    }
}
