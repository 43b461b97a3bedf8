import Registry
import RosterNode

/// `/v1/auth/…`: authentication, the auth switch, users and roles (etcd's `Auth` service over JSON).
///
/// `POST /v1/auth/authenticate {"name","password"}` answers `{"token"}`; the token goes in
/// `Authorization: Bearer <token>` on every later request. Users: `GET|POST /v1/auth/users`,
/// `GET|DELETE /v1/auth/users/{name}`, `POST /v1/auth/users/{name}/password {"password"}`,
/// `PUT|DELETE /v1/auth/users/{name}/roles/{role}`. Roles: `GET|POST /v1/auth/roles`,
/// `GET|DELETE /v1/auth/roles/{name}`, `POST|DELETE /v1/auth/roles/{name}/permissions` with
/// `{"access": "read|write|readwrite", "key", "range_end" | "prefix": true | "from_key": true}` (DELETE takes the
/// same range fields, no access). A service's permission is the prefix `<namespace>/<service>/`.
extension Router {
    func routeAuth() throws(APIError) -> RoutedRequest {
        let segments = rawSegments
        let query = try QueryReader(request.query)
        try query.finish()
        switch (segments.count, segments[2]) {
        case (3, "authenticate"):
            try allow(["POST"])
            var fields = try JSONFields(try jsonBody(), path: "", allowed: ["name", "password"])
            let name = try fields.require("name", hint: "the user name").string("name")
            let password = try fields.require("password", hint: "the user's password").string("password")
            try fields.finish()
            return .auth(.authenticate(name: name, password: password))
        case (3, "status"):
            try allow(["GET"])
            try expectNoBody()
            return .auth(.read(.status))
        case (3, "enable"):
            try allow(["POST"])
            return .auth(.enable)
        case (3, "disable"):
            try allow(["POST"])
            return .auth(.change(.disable))
        case (_, "users"): return try routeUsers()
        case (_, "roles"): return try routeRoles()
        default: throw .noRoute(method, request.path)
        }
    }

    private func routeUsers() throws(APIError) -> RoutedRequest {
        let segments = rawSegments
        switch segments.count {
        case 3:
            try allow(["GET", "POST"])
            if method == "GET" {
                try expectNoBody()
                return .auth(.read(.users))
            }
            var fields = try JSONFields(try jsonBody(), path: "", allowed: ["name", "password", "no_password"])
            let name = try fields.require("name", hint: "the new user's name").string("name")
            let password = try fields.take("password")?.string("password")
            let noPassword = try fields.take("no_password")?.bool("no_password") ?? false
            try fields.finish()
            try checkAuthName(name, field: "name")
            if noPassword {
                if password != nil { throw .invalidField("password", "must be absent with no_password") }
                return .auth(.change(.addUser(name: name, credential: nil)))
            }
            guard let password else {
                throw .invalidField("password", "is required (or set no_password for a client-certificate user)")
            }
            return .auth(.setPassword(user: name, password: password, isNewUser: true))
        case 4:
            try allow(["GET", "DELETE"])
            try expectNoBody()
            let name = try segment(3, parameter: "user name")
            return .auth(method == "GET" ? .read(.user(name)) : .change(.deleteUser(name: name)))
        case 5 where segments[4] == "password":
            try allow(["POST"])
            let name = try segment(3, parameter: "user name")
            var fields = try JSONFields(try jsonBody(), path: "", allowed: ["password"])
            let password = try fields.require("password", hint: "the new password").string("password")
            try fields.finish()
            return .auth(.setPassword(user: name, password: password, isNewUser: false))
        case 6 where segments[4] == "roles":
            try allow(["PUT", "DELETE"])
            try expectNoBody()
            let name = try segment(3, parameter: "user name")
            let role = try segment(5, parameter: "role name")
            return .auth(.change(method == "PUT" ? .grantRole(user: name, role: role) : .revokeRole(user: name, role: role)))
        default:
            throw .noRoute(method, request.path)
        }
    }

    private func routeRoles() throws(APIError) -> RoutedRequest {
        let segments = rawSegments
        switch segments.count {
        case 3:
            try allow(["GET", "POST"])
            if method == "GET" {
                try expectNoBody()
                return .auth(.read(.roles))
            }
            var fields = try JSONFields(try jsonBody(), path: "", allowed: ["name"])
            let name = try fields.require("name", hint: "the new role's name").string("name")
            try fields.finish()
            try checkAuthName(name, field: "name")
            return .auth(.change(.addRole(name: name)))
        case 4:
            try allow(["GET", "DELETE"])
            try expectNoBody()
            let name = try segment(3, parameter: "role name")
            return .auth(method == "GET" ? .read(.role(name)) : .change(.deleteRole(name: name)))
        case 5 where segments[4] == "permissions":
            try allow(["POST", "DELETE"])
            let role = try segment(3, parameter: "role name")
            let allowed = method == "POST" ? ["access", "key", "range_end", "prefix", "from_key"] : ["key", "range_end", "prefix", "from_key"]
            var fields = try JSONFields(try jsonBody(), path: "", allowed: allowed)
            var access = AuthPermission.Access.read
            if method == "POST" {
                switch try fields.require("access", hint: "read, write or readwrite").string("access") {
                case "read": access = .read
                case "write": access = .write
                case "readwrite": access = .readWrite
                case let other: throw .invalidField("access", "is \(other); use read, write or readwrite")
                }
            }
            let key = Array(try fields.require("key", hint: "the key, range start or prefix").string("key").utf8)
            let rangeEnd = try fields.take("range_end")?.string("range_end").utf8.map { $0 }
            let prefix = try fields.take("prefix")?.bool("prefix") ?? false
            let fromKey = try fields.take("from_key")?.bool("from_key") ?? false
            try fields.finish()
            let range: KeyRange
            if prefix && key.isEmpty {
                range = .prefix([])
            } else {
                range = try KeyRangeParameters.make(key: key, prefix: prefix, rangeEnd: rangeEnd, fromKey: fromKey, limits: limits)
            }
            if method == "POST" { return .auth(.change(.grantPermission(role: role, permission: AuthPermission(access, range)))) }
            return .auth(.change(.revokePermission(role: role, range: range)))
        default:
            throw .noRoute(method, request.path)
        }
    }

    private func checkAuthName(_ name: String, field: String) throws(APIError) {
        if name.isEmpty || name.utf8.count > AuthState.nameBytes {
            throw .invalidField(field, "must have 1 to \(AuthState.nameBytes) bytes")
        }
    }
}
