import Codec

/// Binary encoding of auth commands (inside `RegistryCommand`) and of the auth section of snapshots.
///
/// Names are length-prefixed UTF-8, secrets length-prefixed bytes, all bounded by `AuthState`'s limits
/// before anything is allocated.
extension AuthCommand {
    private enum Tag: UInt8 {
        case enable = 1, disable, addUser, deleteUser, changePassword, grantRole, revokeRole, addRole, deleteRole
        case grantPermission, revokePermission
    }

    func encode(into writer: inout ByteWriter) {
        switch self {
        case .enable(let key):
            writer.write(Tag.enable.rawValue)
            writer.writeLengthPrefixed(key)
        case .disable:
            writer.write(Tag.disable.rawValue)
        case .addUser(let name, let credential):
            writer.write(Tag.addUser.rawValue)
            writer.writeString(name)
            writer.write(credential != nil)
            credential?.encode(into: &writer)
        case .deleteUser(let name):
            writer.write(Tag.deleteUser.rawValue)
            writer.writeString(name)
        case .changePassword(let name, let credential):
            writer.write(Tag.changePassword.rawValue)
            writer.writeString(name)
            credential.encode(into: &writer)
        case .grantRole(let user, let role):
            writer.write(Tag.grantRole.rawValue)
            writer.writeString(user)
            writer.writeString(role)
        case .revokeRole(let user, let role):
            writer.write(Tag.revokeRole.rawValue)
            writer.writeString(user)
            writer.writeString(role)
        case .addRole(let name):
            writer.write(Tag.addRole.rawValue)
            writer.writeString(name)
        case .deleteRole(let name):
            writer.write(Tag.deleteRole.rawValue)
            writer.writeString(name)
        case .grantPermission(let role, let permission):
            writer.write(Tag.grantPermission.rawValue)
            writer.writeString(role)
            permission.encode(into: &writer)
        case .revokePermission(let role, let range):
            writer.write(Tag.revokePermission.rawValue)
            writer.writeString(role)
            range.encode(into: &writer)
        }
    }

    init(from reader: inout ByteReader, limits: RegistryLimits) throws(CodecError) {
        let raw = try reader.readByte("auth command tag")
        guard let tag = Tag(rawValue: raw) else { throw .unknownTag(field: "auth command tag", tag: UInt64(raw)) }
        switch tag {
        case .enable: self = .enable(tokenSigningKey: try reader.readSecret("token signing key"))
        case .disable: self = .disable
        case .addUser:
            let name = try reader.readAuthName("user")
            let credential = try reader.readBool("has credential") ? try PasswordCredential(from: &reader) : nil
            self = .addUser(name: name, credential: credential)
        case .deleteUser: self = .deleteUser(name: try reader.readAuthName("user"))
        case .changePassword:
            let name = try reader.readAuthName("user")
            self = .changePassword(name: name, credential: try PasswordCredential(from: &reader))
        case .grantRole:
            let user = try reader.readAuthName("user")
            self = .grantRole(user: user, role: try reader.readAuthName("role"))
        case .revokeRole:
            let user = try reader.readAuthName("user")
            self = .revokeRole(user: user, role: try reader.readAuthName("role"))
        case .addRole: self = .addRole(name: try reader.readAuthName("role"))
        case .deleteRole: self = .deleteRole(name: try reader.readAuthName("role"))
        case .grantPermission:
            let role = try reader.readAuthName("role")
            self = .grantPermission(role: role, permission: try AuthPermission(from: &reader, limits: limits))
        case .revokePermission:
            let role = try reader.readAuthName("role")
            self = .revokePermission(role: role, range: try KeyRange(from: &reader, limits: limits))
        }
    }
}

extension PasswordCredential {
    func encode(into writer: inout ByteWriter) {
        writer.write(function.rawValue)
        writer.writeVarint(UInt64(iterations))
        writer.writeLengthPrefixed(salt)
        writer.writeLengthPrefixed(hash)
    }

    init(from reader: inout ByteReader) throws(CodecError) {
        let raw = try reader.readByte("key derivation function")
        guard let function = Function(rawValue: raw) else {
            throw .unknownTag(field: "key derivation function", tag: UInt64(raw))
        }
        let iterations = try reader.readVarint("iterations")
        guard let exact = UInt32(exactly: iterations) else {
            throw .invalidValue(field: "iterations", reason: "\(iterations) over 2^32")
        }
        let salt = try reader.readSecret("salt")
        self.init(function: function, iterations: exact, salt: salt, hash: try reader.readSecret("password hash"))
    }
}

extension AuthPermission {
    func encode(into writer: inout ByteWriter) {
        writer.write(access.rawValue)
        range.encode(into: &writer)
    }

    init(from reader: inout ByteReader, limits: RegistryLimits) throws(CodecError) {
        let raw = try reader.readByte("permission access")
        guard let access = Access(rawValue: raw) else { throw .unknownTag(field: "permission access", tag: UInt64(raw)) }
        self.init(access, try KeyRange(from: &reader, limits: limits))
    }
}

extension ByteReader {
    mutating func readAuthName(_ field: String) throws(CodecError) -> String {
        try readString(field, limit: AuthState.nameBytes)
    }

    mutating func readSecret(_ field: String) throws(CodecError) -> [UInt8] {
        try readLengthPrefixed(field, limit: AuthState.secretBytes)
    }
}

// MARK: - Snapshot section

extension AuthState {
    /// Layout: enabled flag, revision, signing key, users by name (name, credential flag and credential, role
    /// count and names), roles by name (name, permission count and permissions).
    func encode(into writer: inout ByteWriter) {
        writer.write(isEnabled)
        writer.writeVarint(revision)
        writer.writeLengthPrefixed(tokenSigningKey)
        writer.writeVarint(UInt64(users.count))
        for user in allUsers {
            writer.writeString(user.name)
            writer.write(user.credential != nil)
            user.credential?.encode(into: &writer)
            writer.writeVarint(UInt64(user.roles.count))
            for role in user.roles { writer.writeString(role) }
        }
        writer.writeVarint(UInt64(roles.count))
        for role in allRoles {
            writer.writeString(role.name)
            writer.writeVarint(UInt64(role.permissions.count))
            for permission in role.permissions { permission.encode(into: &writer) }
        }
    }

    /// Reads the section back, checking the same rules `apply` keeps (names unique and in order, roles of
    /// users present, root present when enabled).
    init(from reader: inout ByteReader, limits: RegistryLimits) throws(CodecError) {
        self.init()
        isEnabled = try reader.readBool("auth enabled")
        revision = try reader.readVarint("auth revision")
        tokenSigningKey = try reader.readSecret("token signing key")
        let userCount = try reader.readCount("users", limit: Self.maxUsers)
        var grants: [(String, String)] = []
        for _ in 0..<userCount {
            let name = try reader.readAuthName("user")
            guard users[name] == nil, !name.isEmpty else { throw .invalidValue(field: "user", reason: "empty or repeated") }
            let credential = try reader.readBool("has credential") ? try PasswordCredential(from: &reader) : nil
            let roleCount = try reader.readCount("user roles", limit: Self.maxRoles + 1)
            var roleNames: [String] = []
            for _ in 0..<roleCount { roleNames.append(try reader.readAuthName("user role")) }
            grants += roleNames.map { (name, $0) }
            users[name] = AuthUser(name: name, credential: credential, roles: roleNames)
        }
        let roleCount = try reader.readCount("roles", limit: Self.maxRoles)
        for _ in 0..<roleCount {
            let name = try reader.readAuthName("role")
            guard roles[name] == nil, !name.isEmpty else { throw .invalidValue(field: "role", reason: "empty or repeated") }
            let permissionCount = try reader.readCount("permissions", limit: Self.maxPermissionsPerRole)
            var permissions: [AuthPermission] = []
            for _ in 0..<permissionCount { permissions.append(try AuthPermission(from: &reader, limits: limits)) }
            roles[name] = AuthRole(name: name, permissions: permissions)
        }
        for (user, role) in grants where role != Self.rootName && roles[role] == nil {
            throw .invalidValue(field: "user role", reason: "\(user) holds missing role \(role)")
        }
        if isEnabled && !isRoot(Self.rootName) {
            throw .invalidValue(field: "auth enabled", reason: "without a root user holding the root role")
        }
    }
}
