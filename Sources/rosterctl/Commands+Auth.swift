import Foundation
import RosterClient

/// `auth`, `user` and `role` commands: etcdctl's auth, user and role commands over `/v1/auth/…`.
enum AuthCommands {
    static let all: [Command] = [
        status, enable, disable, userAdd, userGet, userList, userDelete, userPassword, userGrantRole, userRevokeRole,
        roleAdd, roleGet, roleList, roleDelete, roleGrantPermission, roleRevokePermission,
    ]

    /// Prints `text` unless `-o json` printed the server's answer instead.
    static func done(_ context: Context, _ response: HTTPResponse, _ text: String) -> Int32 {
        if !context.printedJSON(response) { print(text) }
        return 0
    }

    static func segment(_ text: String) -> String { RosterClient.encode(text) }

    // MARK: - auth

    static let status = Command(
        path: ["auth", "status"], synopsis: "", summary: "Show whether auth is enabled and the auth revision.",
        details: "Columns: ENABLED AUTH_REVISION.", operands: 0...0
    ) { context in
        let response = try await context.call("GET", "/v1/auth/status")
        if context.printedJSON(response) { return 0 }
        let object = try response.object()
        Output.table(["ENABLED", "AUTH_REVISION"], [[Output.cell(object["enabled"]), Output.cell(object["auth_revision"])]])
        return 0
    }

    static let enable = Command(
        path: ["auth", "enable"], synopsis: "", summary: "Turn auth on (needs a user root holding role root).",
        details: "From then on every request needs a token or a client certificate user, except /healthz, /readyz, /metrics.",
        operands: 0...0
    ) { context in
        done(context, try await context.call("POST", "/v1/auth/enable"), "Authentication Enabled")
    }

    static let disable = Command(
        path: ["auth", "disable"], synopsis: "", summary: "Turn auth off (root only); users and roles stay.",
        details: "", operands: 0...0
    ) { context in
        done(context, try await context.call("POST", "/v1/auth/disable"), "Authentication Disabled")
    }

    // MARK: - user

    static let userAdd = Command(
        path: ["user", "add"], synopsis: "<name>[:<password>]",
        summary: "Add a user (password from the operand, else $ROSTER_NEW_PASSWORD).",
        details: "--no-password adds a user reached only through a client certificate whose CN is its name.",
        options: ["no-password"], operands: 1...1
    ) { context in
        let operand = try context.operand(0, "name")
        let (name, given) = splitUser(operand)
        var body: JSONObject = ["name": name]
        if context.arguments.flags.contains("no-password") {
            body["no_password"] = true
        } else {
            guard let password = given ?? ProcessInfo.processInfo.environment["ROSTER_NEW_PASSWORD"] else {
                throw UsageError("give the password as <name>:<password> or in $ROSTER_NEW_PASSWORD, or use --no-password")
            }
            body["password"] = password
        }
        return done(context, try await context.call("POST", "/v1/auth/users", body: body, idempotent: false), "User \(name) created")
    }

    static let userGet = Command(
        path: ["user", "get"], synopsis: "<name>", summary: "Show a user's roles.", details: "Columns: NAME PASSWORD ROLES.",
        operands: 1...1
    ) { context in
        let response = try await context.call("GET", "/v1/auth/users/\(segment(try context.operand(0, "name")))")
        if context.printedJSON(response) { return 0 }
        let user = try response.object()["user"] as? JSONObject ?? [:]
        Output.table(["NAME", "PASSWORD", "ROLES"], [userRow(user)])
        return 0
    }

    static let userList = Command(
        path: ["user", "list"], synopsis: "", summary: "List users.", details: "Columns: NAME PASSWORD ROLES.",
        operands: 0...0
    ) { context in
        let response = try await context.call("GET", "/v1/auth/users")
        if context.printedJSON(response) { return 0 }
        let users = try response.object()["users"] as? [JSONObject] ?? []
        Output.table(["NAME", "PASSWORD", "ROLES"], users.map(userRow))
        return 0
    }

    static func userRow(_ user: JSONObject) -> [String] {
        let roles = (user["roles"] as? [String] ?? []).joined(separator: ",")
        return [Output.cell(user["name"]), (user["has_password"] as? Bool ?? false) ? "yes" : "no", roles]
    }

    static let userDelete = Command(
        path: ["user", "delete"], synopsis: "<name>", summary: "Delete a user.", details: "", operands: 1...1
    ) { context in
        let name = try context.operand(0, "name")
        return done(context, try await context.call("DELETE", "/v1/auth/users/\(segment(name))"), "User \(name) deleted")
    }

    static let userPassword = Command(
        path: ["user", "passwd"], synopsis: "<name>[:<password>]",
        summary: "Change a user's password (from the operand, else $ROSTER_NEW_PASSWORD).", details: "", operands: 1...1
    ) { context in
        let (name, given) = splitUser(try context.operand(0, "name"))
        guard let password = given ?? ProcessInfo.processInfo.environment["ROSTER_NEW_PASSWORD"] else {
            throw UsageError("give the password as <name>:<password> or in $ROSTER_NEW_PASSWORD")
        }
        let response = try await context.call(
            "POST", "/v1/auth/users/\(segment(name))/password", body: ["password": password], idempotent: true)
        return done(context, response, "Password updated")
    }

    static let userGrantRole = Command(
        path: ["user", "grant-role"], synopsis: "<user> <role>", summary: "Grant a role to a user.", details: "",
        operands: 2...2
    ) { context in
        let user = try context.operand(0, "user")
        let role = try context.operand(1, "role")
        let response = try await context.call("PUT", "/v1/auth/users/\(segment(user))/roles/\(segment(role))")
        return done(context, response, "Role \(role) is granted to user \(user)")
    }

    static let userRevokeRole = Command(
        path: ["user", "revoke-role"], synopsis: "<user> <role>", summary: "Revoke a role from a user.", details: "",
        operands: 2...2
    ) { context in
        let user = try context.operand(0, "user")
        let role = try context.operand(1, "role")
        let response = try await context.call("DELETE", "/v1/auth/users/\(segment(user))/roles/\(segment(role))")
        return done(context, response, "Role \(role) is revoked from user \(user)")
    }

    // MARK: - role

    static let roleAdd = Command(
        path: ["role", "add"], synopsis: "<name>", summary: "Add a role.", details: "", operands: 1...1
    ) { context in
        let name = try context.operand(0, "name")
        return done(context, try await context.call("POST", "/v1/auth/roles", body: ["name": name], idempotent: false), "Role \(name) created")
    }

    static let roleGet = Command(
        path: ["role", "get"], synopsis: "<name>", summary: "Show a role's permissions.",
        details: "Columns: ACCESS RANGE (a key, [start, end), a prefix as `prefix*`, or `key..` for from-key).",
        operands: 1...1
    ) { context in
        let response = try await context.call("GET", "/v1/auth/roles/\(segment(try context.operand(0, "name")))")
        if context.printedJSON(response) { return 0 }
        let role = try response.object()["role"] as? JSONObject ?? [:]
        let permissions = role["permissions"] as? [JSONObject] ?? []
        Output.table(["ACCESS", "RANGE"], permissions.map { [Output.cell($0["access"]), rangeText($0)] })
        return 0
    }

    static func rangeText(_ permission: JSONObject) -> String {
        let key = permission["key"] as? String ?? ""
        if permission["prefix"] as? Bool == true { return key + "*" }
        if permission["from_key"] as? Bool == true { return key + ".." }
        if let end = permission["range_end"] as? String { return "[\(key), \(end))" }
        return key
    }

    static let roleList = Command(
        path: ["role", "list"], synopsis: "", summary: "List roles.", details: "Columns: NAME PERMISSIONS.", operands: 0...0
    ) { context in
        let response = try await context.call("GET", "/v1/auth/roles")
        if context.printedJSON(response) { return 0 }
        let roles = try response.object()["roles"] as? [JSONObject] ?? []
        Output.table(["NAME", "PERMISSIONS"], roles.map { [Output.cell($0["name"]), "\(($0["permissions"] as? [Any])?.count ?? 0)"] })
        return 0
    }

    static let roleDelete = Command(
        path: ["role", "delete"], synopsis: "<name>", summary: "Delete a role (and take it from its users).", details: "",
        operands: 1...1
    ) { context in
        let name = try context.operand(0, "name")
        return done(context, try await context.call("DELETE", "/v1/auth/roles/\(segment(name))"), "Role \(name) deleted")
    }

    static let permissionDetails = """
        <access> is read, write or readwrite. <key> alone is one key; with <end>, the keys [key, end); with --prefix,
        every key starting with <key> (a service is the prefix <namespace>/<service>/); with --from-key, every key
        from <key> on.
        """

    static let roleGrantPermission = Command(
        path: ["role", "grant-permission"], synopsis: "<role> <access> <key> [<end>]",
        summary: "Grant read, write or readwrite on a key, range or prefix.", details: permissionDetails,
        options: ["from-key", "prefix"], operands: 3...4
    ) { context in
        let role = try context.operand(0, "role")
        let access = try context.operand(1, "access")
        guard ["read", "write", "readwrite"].contains(access) else { throw UsageError("<access> is read, write or readwrite, got \(access)") }
        var body = try rangeBody(context, keyAt: 2)
        body["access"] = access
        let response = try await context.call("POST", "/v1/auth/roles/\(segment(role))/permissions", body: body)
        return done(context, response, "Role \(role) updated")
    }

    static let roleRevokePermission = Command(
        path: ["role", "revoke-permission"], synopsis: "<role> <key> [<end>]",
        summary: "Revoke the permission on exactly this key, range or prefix.", details: permissionDetails,
        options: ["from-key", "prefix"], operands: 2...3
    ) { context in
        let role = try context.operand(0, "role")
        let response = try await context.call("DELETE", "/v1/auth/roles/\(segment(role))/permissions", body: try rangeBody(context, keyAt: 1))
        return done(context, response, "Permission revoked from role \(role)")
    }

    /// `{"key", "range_end" | "prefix" | "from_key"}` from the operands and flags.
    static func rangeBody(_ context: Context, keyAt position: Int) throws -> JSONObject {
        var body: JSONObject = ["key": try context.operand(position, "key")]
        let end = context.operands.count > position + 1 ? context.operands[position + 1] : nil
        let prefix = context.arguments.flags.contains("prefix")
        let fromKey = context.arguments.flags.contains("from-key")
        if [end != nil, prefix, fromKey].filter({ $0 }).count > 1 { throw UsageError("<end>, --prefix and --from-key are exclusive") }
        if let end { body["range_end"] = end }
        if prefix { body["prefix"] = true }
        if fromKey { body["from_key"] = true }
        return body
    }

    /// `name:password` split at the first colon (etcdctl's form); no colon, no password.
    static func splitUser(_ text: String) -> (name: String, password: String?) {
        guard let colon = text.firstIndex(of: ":") else { return (text, nil) }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }
}
