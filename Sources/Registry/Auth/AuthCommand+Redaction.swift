/// Printing never shows a secret: credentials and signing keys appear as their sizes only, so a command, a
/// state or a rejection interpolated into a log line or a test failure cannot leak them.
extension PasswordCredential: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "PasswordCredential(\(function), \(iterations) iterations, \(salt.count)-byte salt, \(hash.count)-byte hash: redacted)"
    }

    public var debugDescription: String { description }
}

extension AuthCommand: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        switch self {
        case .enable(let key): "enable(tokenSigningKey: \(key.count) bytes, redacted)"
        case .disable: "disable"
        case .addUser(let name, let credential): "addUser(\(name), \(credential.map { "\($0)" } ?? "no password"))"
        case .deleteUser(let name): "deleteUser(\(name))"
        case .changePassword(let name, let credential): "changePassword(\(name), \(credential))"
        case .grantRole(let user, let role): "grantRole(user: \(user), role: \(role))"
        case .revokeRole(let user, let role): "revokeRole(user: \(user), role: \(role))"
        case .addRole(let name): "addRole(\(name))"
        case .deleteRole(let name): "deleteRole(\(name))"
        case .grantPermission(let role, let permission): "grantPermission(role: \(role), \(permission.access) \(permission.range))"
        case .revokePermission(let role, let range): "revokePermission(role: \(role), \(range))"
        }
    }

    public var debugDescription: String { description }
}

extension AuthState: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "AuthState(enabled: \(isEnabled), revision: \(revision), \(users.count) users, \(roles.count) roles, signing key redacted)"
    }

    public var debugDescription: String { description }
}
