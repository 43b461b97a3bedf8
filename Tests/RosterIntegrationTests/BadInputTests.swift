// Goal: bad input from clients gets a clear 4xx (or a closed connection) and leaves nothing
// half-applied: malformed HTTP and JSON, unknown fields, wrong types, oversized bodies (refused
// before decoding), invalid names, and clients that trickle or never finish a request.
// Method: one real node; each case sends the bad request, checks the status and the error code,
// then checks that the registry revision did not move.
import Foundation
import RosterTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Bad client input against a real node", .serialized)
struct BadInputTests {
    static let cases: [(name: String, method: String, path: String, body: String?, status: Int)] = [
        ("malformed JSON", "PUT", "/v1/services/payments/instances/i1", #"{"endpoints": ["#, 400),
        ("unknown field", "PUT", "/v1/services/payments/instances/i1", #"{"endpoints":[],"colour":"red"}"#, 400),
        ("wrong type", "PUT", "/v1/services/payments/instances/i1", #"{"endpoints":"grpc://a:1"}"#, 400),
        ("float weight", "PUT", "/v1/services/payments/instances/i1", #"{"endpoints":[],"weight":1.5}"#, 400),
        ("negative TTL", "PUT", "/v1/services/payments/instances/i1", #"{"endpoints":[],"ttl":-5}"#, 400),
        ("port out of range", "PUT", "/v1/services/payments/instances/i1", #"{"endpoints":["grpc://10.0.0.1:70000"]}"#, 400),
        ("invalid service name", "PUT", "/v1/services/pay%00ments/instances/i1", #"{"endpoints":[]}"#, 400),
        ("bad percent escape", "GET", "/v1/services/pay%zzments", nil, 400),
        ("negative revision", "GET", "/v1/services/payments?min_revision=-1", nil, 400),
        ("unknown route", "GET", "/v1/nothing-here", nil, 404),
        ("wrong method", "PATCH", "/v1/services", nil, 405),
        ("unknown lease", "POST", "/v1/leases/424242/keepalive", nil, 404),
        ("deep nesting", "PUT", "/v1/services/payments/instances/i1", String(repeating: "[", count: 10_000), 400),
    ]

    @Test("every bad request gets its 4xx and changes nothing")
    func badRequests() throws {
        let cluster = try ProcessCluster(size: 1)
        try cluster.startAll()
        _ = try cluster.waitForLeader()
        let before = cluster.request("GET", "/v1/cluster/status", on: 0)?.json?["revision"] as? Int
        for badCase in Self.cases {
            let result = cluster.request(badCase.method, badCase.path, on: 0, body: badCase.body)
            #expect(result?.status == badCase.status, "\(badCase.name): got \(result?.status ?? -1) \(result?.text ?? "")")
            if badCase.status != 404 || badCase.path.contains("nothing") {
                #expect((result?.json?["error"] as? [String: Any])?["code"] != nil, "\(badCase.name) has no error code")
            }
        }
        let after = cluster.request("GET", "/v1/cluster/status", on: 0)?.json?["revision"] as? Int
        #expect(before == after)
    }

    @Test("a body over the request limit is refused from its Content-Length, before it is read")
    func oversizedBody() throws {
        let cluster = try ProcessCluster(size: 1, extraFlags: ["--max-request-bytes", "1024"])
        try cluster.startAll()
        _ = try cluster.waitForLeader()
        let head = "PUT /v1/kv/big HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
        let result = TestHTTP.request("PUT", port: cluster.nodes[0].clientPort, path: "/", raw: Array(head.utf8))
        #expect(result?.status == 413)
    }

    @Test("malformed HTTP gets 400 and the connection is closed")
    func malformedHTTP() throws {
        let cluster = try ProcessCluster(size: 1)
        try cluster.startAll()
        _ = try cluster.waitForLeader()
        let result = TestHTTP.request("GET", port: cluster.nodes[0].clientPort, path: "/", raw: Array("GARBAGE\r\n\r\n".utf8))
        #expect(result?.status == 400)
    }

    @Test("a client that never finishes its request is cut off after the request timeout")
    func slowloris() throws {
        let cluster = try ProcessCluster(size: 1, extraFlags: ["--request-timeout-ms", "500"])
        try cluster.startAll()
        _ = try cluster.waitForLeader()
        let result = TestHTTP.request(
            "GET", port: cluster.nodes[0].clientPort, path: "/", raw: Array("GET /v1/services HTTP/1.1\r\nHost: x\r\n".utf8))
        #expect(result?.status == 408)
        #expect(cluster.request("GET", "/healthz", on: 0)?.status == 200)
    }
}
