// Goal: every path answers wrong methods with 405 and the exact `Allow` list, and unknown paths with 404, so a
// client can discover the API from its errors. Method: for each known path, try every method it does not
// accept and compare the error and its allowed methods; then a table of near-miss paths that must be 404.
import HTTP
import Testing

@testable import RosterAPI

struct PathMethods: Sendable, CustomTestStringConvertible {
    var path: String
    var allowed: [String]
    var testDescription: String { path }
}

let pathMethods: [PathMethods] = [
    PathMethods(path: "/healthz", allowed: ["GET"]),
    PathMethods(path: "/readyz", allowed: ["GET"]),
    PathMethods(path: "/metrics", allowed: ["GET"]),
    PathMethods(path: "/v1/services", allowed: ["GET"]),
    PathMethods(path: "/v1/services/web", allowed: ["GET"]),
    PathMethods(path: "/v1/services/web/instances/w-1", allowed: ["GET", "PUT", "PATCH", "DELETE"]),
    PathMethods(path: "/v1/leases", allowed: ["GET", "POST"]),
    PathMethods(path: "/v1/leases/5", allowed: ["GET", "DELETE"]),
    PathMethods(path: "/v1/leases/5/keepalive", allowed: ["POST"]),
    PathMethods(path: "/v1/watch", allowed: ["GET", "POST"]),
    PathMethods(path: "/v1/kv/a", allowed: ["GET", "PUT", "DELETE"]),
    PathMethods(path: "/v1/txn", allowed: ["POST"]),
    PathMethods(path: "/v1/compact", allowed: ["POST"]),
    PathMethods(path: "/v1/cluster/members", allowed: ["GET", "POST"]),
    PathMethods(path: "/v1/cluster/members/n1", allowed: ["PATCH", "DELETE"]),
    PathMethods(path: "/v1/cluster/members/n1/promote", allowed: ["POST"]),
    PathMethods(path: "/v1/cluster/status", allowed: ["GET"]),
    PathMethods(path: "/v1/cluster/transfer-leadership", allowed: ["POST"]),
    PathMethods(path: "/v1/cluster/hash", allowed: ["GET"]),
]

private let allMethods = ["GET", "PUT", "POST", "PATCH", "DELETE", "HEAD", "OPTIONS"]

@Suite("Methods and paths")
struct MethodAndPathTests {
    @Test("every method a path does not accept is 405 with the exact Allow list", arguments: pathMethods)
    func wrongMethod(_ row: PathMethods) throws {
        for method in allMethods where !row.allowed.contains(method) {
            let error = try #require(try routingError(method, row.path, method == "HEAD" ? "" : "{}"))
            #expect(error.status.code == 405, "\(method) \(row.path)")
            #expect(error.code == "method_not_allowed")
            #expect(error.allowedMethods == row.allowed)
            let response = APIResponse.encodeError(error, context: testContext)
            #expect(response.header("Allow") == row.allowed.joined(separator: ", "))
        }
    }

    @Test(
        "unknown paths are 404 not_found",
        arguments: [
            "/", "/v2/services", "/v1", "/v1/nothing", "/v1/services/web/instances", "/v1/services/web/x/w-1",
            "/v1/services/web/instances/w-1/extra", "/v1/leases/5/renew", "/v1/leases/5/keepalive/x",
            "/v1/watch/x", "/v1/txn/x", "/v1/cluster", "/v1/cluster/unknown", "/v1/cluster/members/n1/demote",
            "/healthz/x", "/v1/compact/5",
        ])
    func unknownPath(_ path: String) throws {
        let error = try #require(try routingError("GET", path))
        #expect(error.status.code == 404)
        #expect(error.code == "not_found")
        #expect(error.message.contains(path))
    }
}
