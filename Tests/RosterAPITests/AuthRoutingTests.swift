// Goal: `/v1/auth/…` routes to exactly the auth request it names, and malformed bodies are refused with a typed
// 400 before anything reaches the node. Method: raw requests through the real parser and router.
import Registry
import RosterNode
import Testing

@testable import RosterAPI

@Suite("Auth routing")
struct AuthRoutingTests {
    static let table: [(String, String, String, AuthRequest)] = [
        ("POST", "/v1/auth/authenticate", #"{"name":"a","password":"p"}"#, .authenticate(name: "a", password: "p")),
        ("GET", "/v1/auth/status", "", .read(.status)),
        ("POST", "/v1/auth/enable", "", .enable),
        ("POST", "/v1/auth/disable", "", .change(.disable)),
        ("GET", "/v1/auth/users", "", .read(.users)),
        ("POST", "/v1/auth/users", #"{"name":"a","password":"p"}"#, .setPassword(user: "a", password: "p", isNewUser: true)),
        ("POST", "/v1/auth/users", #"{"name":"cn","no_password":true}"#, .change(.addUser(name: "cn", credential: nil))),
        ("GET", "/v1/auth/users/a", "", .read(.user("a"))),
        ("DELETE", "/v1/auth/users/a", "", .change(.deleteUser(name: "a"))),
        ("POST", "/v1/auth/users/a/password", #"{"password":"q"}"#, .setPassword(user: "a", password: "q", isNewUser: false)),
        ("PUT", "/v1/auth/users/a/roles/r", "", .change(.grantRole(user: "a", role: "r"))),
        ("DELETE", "/v1/auth/users/a/roles/r", "", .change(.revokeRole(user: "a", role: "r"))),
        ("GET", "/v1/auth/roles", "", .read(.roles)),
        ("POST", "/v1/auth/roles", #"{"name":"r"}"#, .change(.addRole(name: "r"))),
        ("GET", "/v1/auth/roles/r", "", .read(.role("r"))),
        ("DELETE", "/v1/auth/roles/r", "", .change(.deleteRole(name: "r"))),
        ("POST", "/v1/auth/roles/r/permissions", #"{"access":"readwrite","key":"default/payments/","prefix":true}"#,
         .change(.grantPermission(role: "r", permission: AuthPermission(.readWrite, .prefix(Array("default/payments/".utf8)))))),
        ("POST", "/v1/auth/roles/r/permissions", #"{"access":"read","key":"a","range_end":"c"}"#,
         .change(.grantPermission(role: "r", permission: AuthPermission(.read, .interval(start: Array("a".utf8), end: Array("c".utf8)))))),
        ("POST", "/v1/auth/roles/r/permissions", #"{"access":"write","key":"","prefix":true}"#,
         .change(.grantPermission(role: "r", permission: AuthPermission(.write, .prefix([]))))),
        ("DELETE", "/v1/auth/roles/r/permissions", #"{"key":"k"}"#, .change(.revokePermission(role: "r", range: .key(Array("k".utf8))))),
    ]

    @Test("each auth route names its request", arguments: table.indices)
    func routes(_ position: Int) throws {
        let (method, path, body, expected) = Self.table[position]
        #expect(try routed(method, path, body) == .auth(expected))
    }

    @Test("malformed auth requests are typed 400s", arguments: [
        ("POST", "/v1/auth/authenticate", #"{"name":"a"}"#),
        ("POST", "/v1/auth/users", #"{"name":"a"}"#),
        ("POST", "/v1/auth/users", #"{"name":"","password":"p"}"#),
        ("POST", "/v1/auth/users", #"{"name":"a","password":"p","no_password":true}"#),
        ("POST", "/v1/auth/roles/r/permissions", #"{"access":"all","key":"k"}"#),
        ("POST", "/v1/auth/roles/r/permissions", #"{"access":"read","key":"k","prefix":true,"from_key":true}"#),
        ("POST", "/v1/auth/roles/r/permissions", #"{"access":"read","key":"k","extra":1}"#),
    ])
    func malformed(method: String, path: String, body: String) throws {
        let error = try #require(try routingError(method, path, body))
        #expect(error.status.code == 400, "\(error)")
    }

    @Test("auth refusals map to 401, 403 and 409 with stable codes")
    func refusalStatuses() {
        #expect(APIError(auth: .userEmpty).status.code == 401)
        #expect(APIError(auth: .invalidToken).code == "invalid_token")
        #expect(APIError(auth: .oldRevision(token: 1, current: 2)).code == "auth_old_revision")
        #expect(APIError(auth: .permissionDenied).status.code == 403)
        #expect(APIError(rejection: .auth(.rootUserDoesNotExist)).status.code == 409)
    }
}
