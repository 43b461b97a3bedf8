/// Applying auth commands: the rules etcd's auth store enforces, as rejections that change nothing.
extension AuthState {
    /// Applies one command; on success bumps the revision and returns it.
    public mutating func apply(_ command: AuthCommand) -> Result<UInt64, AuthRejection> {
        if let rejection = rejection(of: command) { return .failure(rejection) }
        switch command {
        case .enable(let key):
            isEnabled = true
            // A new key each enable: tokens from an earlier enabled period never come back to life.
            tokenSigningKey = key
        case .disable:
            isEnabled = false
        case .addUser(let name, let credential):
            users[name] = AuthUser(name: name, credential: credential)
        case .deleteUser(let name):
            users[name] = nil
        case .changePassword(let name, let credential):
            users[name]!.credential = credential
        case .grantRole(let user, let role):
            if !users[user]!.roles.contains(role) {
                users[user]!.roles.append(role)
                users[user]!.roles.sort()
            }
        case .revokeRole(let user, let role):
            users[user]!.roles.removeAll { $0 == role }
        case .addRole(let name):
            roles[name] = AuthRole(name: name)
        case .deleteRole(let name):
            roles[name] = nil
            for user in users.keys where users[user]!.roles.contains(name) {
                users[user]!.roles.removeAll { $0 == name }
            }
        case .grantPermission(let role, let permission):
            var permissions = roles[role]!.permissions
            if let position = permissions.firstIndex(where: { $0.range == permission.range }) {
                permissions[position] = permission
            } else {
                permissions.append(permission)
                permissions.sort(by: AuthPermission.precedes)
            }
            roles[role]!.permissions = permissions
        case .revokePermission(let role, let range):
            roles[role]!.permissions.removeAll { $0.range == range }
        }
        revision += 1
        return .success(revision)
    }

    /// Why `command` cannot apply to this state, if it cannot.
    func rejection(of command: AuthCommand) -> AuthRejection? {
        switch command {
        case .enable(let key):
            if key.isEmpty || key.count > Self.secretBytes { return .overLimit(field: "token signing key", limit: Self.secretBytes) }
            guard users[Self.rootName] != nil else { return .rootUserDoesNotExist }
            guard isRoot(Self.rootName) else { return .rootUserLacksRootRole }
        case .disable:
            return nil
        case .addUser(let name, let credential):
            if let problem = Self.nameProblem(name, empty: .userEmpty) { return problem }
            if users[name] != nil { return .userAlreadyExists(name) }
            if users.count >= Self.maxUsers { return .overLimit(field: "users", limit: Self.maxUsers) }
            if let credential, let problem = Self.credentialProblem(credential) { return problem }
        case .deleteUser(let name):
            if isEnabled && name == Self.rootName { return .invalidAuthManagement }
            if users[name] == nil { return .userNotFound(name) }
        case .changePassword(let name, let credential):
            if users[name] == nil { return .userNotFound(name) }
            if let problem = Self.credentialProblem(credential) { return problem }
        case .grantRole(let user, let role):
            if users[user] == nil { return .userNotFound(user) }
            // etcd lets anyone be granted `root` although no role record of that name need exist.
            if role != Self.rootName && roles[role] == nil { return .roleNotFound(role) }
        case .revokeRole(let user, let role):
            guard let record = users[user] else { return .userNotFound(user) }
            if !record.roles.contains(role) { return .roleNotGranted(user: user, role: role) }
            if isEnabled && user == Self.rootName && role == Self.rootName { return .invalidAuthManagement }
        case .addRole(let name):
            if let problem = Self.nameProblem(name, empty: .roleEmpty) { return problem }
            if roles[name] != nil { return .roleAlreadyExists(name) }
            if roles.count >= Self.maxRoles { return .overLimit(field: "roles", limit: Self.maxRoles) }
        case .deleteRole(let name):
            // etcd checks the lock-out first: a root role granted but never added is refused the same way.
            if isEnabled && name == Self.rootName { return .invalidAuthManagement }
            if roles[name] == nil { return .roleNotFound(name) }
        case .grantPermission(let role, let permission):
            guard let record = roles[role] else { return .roleNotFound(role) }
            if record.permissions.count >= Self.maxPermissionsPerRole
                && !record.permissions.contains(where: { $0.range == permission.range })
            {
                return .overLimit(field: "permissions", limit: Self.maxPermissionsPerRole)
            }
        case .revokePermission(let role, let range):
            guard let record = roles[role] else { return .roleNotFound(role) }
            if !record.permissions.contains(where: { $0.range == range }) { return .permissionNotGranted(role: role) }
        }
        return nil
    }

    private static func nameProblem(_ name: String, empty: AuthRejection) -> AuthRejection? {
        if name.isEmpty { return empty }
        if name.utf8.count > nameBytes { return .overLimit(field: "name", limit: nameBytes) }
        return nil
    }

    private static func credentialProblem(_ credential: PasswordCredential) -> AuthRejection? {
        if credential.salt.count > secretBytes { return .overLimit(field: "salt", limit: secretBytes) }
        if credential.hash.isEmpty || credential.hash.count > secretBytes {
            return .overLimit(field: "password hash", limit: secretBytes)
        }
        if credential.iterations == 0 { return .overLimit(field: "iterations", limit: 0) }
        return nil
    }
}
