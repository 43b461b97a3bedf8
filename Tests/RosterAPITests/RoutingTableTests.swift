// Goal: pin down what every route and method of the API turns into, so the server and the node can rely on
// one translation. Method: a table of raw requests (method, target, body) with the exact `RoutedRequest`
// each must produce; each row goes through the real HTTP parser, then `route(_:limits:)`, and is compared
// for equality, so any field the router sets wrongly or forgets fails the row.
import HTTP
import Raft
import Registry
import RosterNode
import Testing

@testable import RosterAPI

struct RouteCase: Sendable, CustomTestStringConvertible {
    var method: String
    var target: String
    var body: String = ""
    var expected: RoutedRequest
    var testDescription: String { "\(method) \(target)" }
}

private let linear = ReadOptions()
private let web = InstanceName(namespace: "default", service: "web", id: "w-1")

let routeTable: [RouteCase] = [
    RouteCase(method: "GET", target: "/healthz", expected: .health),
    RouteCase(method: "GET", target: "/readyz", expected: .ready),
    RouteCase(method: "GET", target: "/metrics", expected: .metrics),
    // Services and instances.
    RouteCase(method: "GET", target: "/v1/services", expected: .node(.read(.services(namespace: "default"), linear))),
    RouteCase(
        method: "GET", target: "/v1/services?namespace=prod&consistency=serializable&min_revision=12",
        expected: .node(.read(.services(namespace: "prod"), ReadOptions(consistency: .serializable, minRevision: 12)))),
    RouteCase(
        method: "GET", target: "/v1/services/web",
        expected: .node(.read(.instances(namespace: "default", service: "web"), linear))),
    RouteCase(method: "GET", target: "/v1/services/web/instances/w-1", expected: .node(.read(.instance(web), linear))),
    RouteCase(
        method: "GET", target: "/v1/services/web?revision=7",
        expected: .node(.read(.instancesAt(namespace: "default", service: "web", 7), linear))),
    RouteCase(
        method: "GET", target: "/v1/services/web/instances/w-1?revision=7", expected: .node(.read(.instanceAt(web, 7), linear))),
    RouteCase(
        method: "GET", target: "/v1/services/web/instances/w%3A1?namespace=prod",
        expected: .node(.read(.instance(InstanceName(namespace: "prod", service: "web", id: "w:1")), linear))),
    RouteCase(
        method: "PUT", target: "/v1/services/web/instances/w-1", body: #"{"endpoints":["grpc://10.0.0.5:9000"]}"#,
        expected: .node(
            .write(
                .registerInstance(
                    ServiceInstance(
                        namespace: "default", service: "web", id: "w-1",
                        endpoints: ["grpc://10.0.0.5:9000"]))))),
    RouteCase(
        method: "PUT", target: "/v1/services/web/instances/w-1?namespace=prod",
        body:
            #"{"version":"1.2","endpoints":[],"metadata":{"az":"a"},"weight":7,"status":"draining","incarnation":3,"lease":9}"#,
        expected: .node(
            .write(
                .registerInstance(
                    ServiceInstance(
                        namespace: "prod", service: "web", id: "w-1", version: "1.2", endpoints: [],
                        metadata: ["az": "a"],
                        weight: 7, status: .draining, lease: LeaseID(9), incarnation: 3))))),
    RouteCase(
        method: "PUT", target: "/v1/services/web/instances/w-1",
        body: #"{"namespace":"prod","endpoints":["h://a:1"],"ttl":"15s"}"#,
        expected: .node(.registerWithLease(
            ServiceInstance(namespace: "prod", service: "web", id: "w-1", endpoints: ["h://a:1"]),
            ttlMilliseconds: 15_000))),
    RouteCase(
        method: "PUT", target: "/v1/services/web/instances/w-1", body: #"{"endpoints":["h://a:1"],"ttl":30}"#,
        expected: .node(.registerWithLease(
            ServiceInstance(namespace: "default", service: "web", id: "w-1", endpoints: ["h://a:1"]),
            ttlMilliseconds: 30_000))),
    RouteCase(
        method: "PATCH", target: "/v1/services/web/instances/w-1", body: #"{"incarnation":3,"status":"up","weight":0}"#,
        expected: .node(.write(.updateInstance(InstanceUpdate(name: web, incarnation: 3, status: .up, weight: 0))))),
    RouteCase(
        method: "PATCH", target: "/v1/services/web/instances/w-1", body: #"{"incarnation":3,"metadata":{}}"#,
        expected: .node(.write(.updateInstance(InstanceUpdate(name: web, incarnation: 3, metadata: [:]))))),
    RouteCase(
        method: "DELETE", target: "/v1/services/web/instances/w-1",
        expected: .node(.write(.deregisterInstance(web, incarnation: nil)))),
    RouteCase(
        method: "DELETE", target: "/v1/services/web/instances/w-1?incarnation=4",
        expected: .node(.write(.deregisterInstance(web, incarnation: 4)))),
    // Leases.
    RouteCase(
        method: "POST", target: "/v1/leases", body: #"{"ttl":"10s"}"#,
        expected: .node(.write(.grantLease(id: nil, ttlMilliseconds: 10_000, grantedAtMilliseconds: 0)))),
    RouteCase(
        method: "POST", target: "/v1/leases", body: #"{"ttl":"2500ms","id":77}"#,
        expected: .node(.write(.grantLease(id: LeaseID(77), ttlMilliseconds: 2_500, grantedAtMilliseconds: 0)))),
    RouteCase(method: "GET", target: "/v1/leases", expected: .node(.read(.leases, linear))),
    RouteCase(
        method: "GET", target: "/v1/leases/77", expected: .node(.read(.lease(LeaseID(77), includeKeys: false), linear))),
    RouteCase(
        method: "GET", target: "/v1/leases/77?keys=true",
        expected: .node(.read(.lease(LeaseID(77), includeKeys: true), linear))),
    RouteCase(method: "DELETE", target: "/v1/leases/77", expected: .node(.write(.revokeLease(LeaseID(77))))),
    RouteCase(method: "POST", target: "/v1/leases/77/keepalive", expected: .node(.keepAlive(LeaseID(77)))),
    RouteCase(method: "POST", target: "/v1/leases/77/keepalive?stream=true", expected: .keepAliveStream(LeaseID(77))),
    // Watch.
    RouteCase(
        method: "GET", target: "/v1/watch?service=web",
        expected: .watch(WatchSpec(filter: .service(namespace: "default", service: "web")))),
    RouteCase(
        method: "GET",
        target: "/v1/watch?service=web&namespace=prod&from_revision=5&progress_interval=2s&prev_value=true",
        expected: .watch(
            WatchSpec(
                filter: .service(namespace: "prod", service: "web"), fromRevision: 5,
                progressIntervalMilliseconds: 2_000, includePrevious: true))),
    RouteCase(
        method: "GET", target: "/v1/watch?service=web&from_revision=0",
        expected: .watch(WatchSpec(filter: .service(namespace: "default", service: "web")))),
    RouteCase(
        method: "GET", target: "/v1/watch?prefix=config%2F",
        expected: .watch(WatchSpec(filter: .prefix(Array("config/".utf8))))),
    RouteCase(
        method: "GET", target: "/v1/watch?key=a&index=9&wait=45s",
        expected: .watch(WatchSpec(filter: .key(Array("a".utf8)), mode: .longPoll(index: 9, waitMilliseconds: 45_000)))),
    RouteCase(
        method: "GET", target: "/v1/watch?key=a&index=9",
        expected: .watch(WatchSpec(filter: .key(Array("a".utf8)), mode: .longPoll(index: 9, waitMilliseconds: 30_000)))),
    // Key-value.
    RouteCase(
        method: "GET", target: "/v1/kv/config/app",
        expected: .node(.read(.range(RangeRequest(.key(Array("config/app".utf8)))), linear))),
    RouteCase(
        method: "GET", target: "/v1/kv/config?prefix=true&limit=10&keys_only=true&count_only=false",
        expected: .node(.read(.range(RangeRequest(.prefix(Array("config".utf8)), limit: 10, keysOnly: true)), linear))),
    RouteCase(
        method: "GET", target: "/v1/kv/a?range_end=c&consistency=serializable",
        expected: .node(
            .read(
                .range(RangeRequest(.interval(start: Array("a".utf8), end: Array("c".utf8)))),
                ReadOptions(consistency: .serializable)))),
    RouteCase(
        method: "GET", target: "/v1/kv/?prefix=true", expected: .node(.read(.range(RangeRequest(.prefix([]))), linear))),
    RouteCase(
        method: "GET", target: "/v1/kv/a?from_key=true&count_only=true",
        expected: .node(.read(.range(RangeRequest(.fromKey(Array("a".utf8)), countOnly: true)), linear))),
    RouteCase(
        method: "PUT", target: "/v1/kv/a%2Fb", body: #"{"value":"v1"}"#,
        expected: .node(.write(.put(PutRequest(key: Array("a/b".utf8), value: Array("v1".utf8)))))),
    RouteCase(
        method: "PUT", target: "/v1/kv/bin", body: #"{"value_base64":"AAH/","lease":5,"prev":true}"#,
        expected: .node(
            .write(
                .put(PutRequest(key: Array("bin".utf8), value: [0, 1, 255], lease: LeaseID(5), returnPrevious: true))))),
    RouteCase(
        method: "DELETE", target: "/v1/kv/a",
        expected: .node(.write(.deleteRange(DeleteRangeRequest(.key(Array("a".utf8))))))),
    RouteCase(
        method: "DELETE", target: "/v1/kv/a?prefix=true&prev=true",
        expected: .node(.write(.deleteRange(DeleteRangeRequest(.prefix(Array("a".utf8)), returnPrevious: true))))),
    RouteCase(
        method: "POST", target: "/v1/txn",
        body:
            #"{"compare":[{"key":"k","result":"equal","version":0},{"key":"k","result":"not_equal","lease":0}],"success":[{"put":{"key":"k","value":"v"}}],"failure":[{"range":{"key":"k","limit":1}},{"delete":{"key":"a","range_end":"b"}}]}"#,
        expected: .node(
            .write(
                .transaction(
                    TransactionRequest(
                        compares: [
                            Compare(key: Array("k".utf8), .version(0), .equal),
                            Compare(key: Array("k".utf8), .lease(nil), .notEqual),
                        ],
                        success: [.put(PutRequest(key: Array("k".utf8), value: Array("v".utf8)))],
                        failure: [
                            .range(RangeRequest(.key(Array("k".utf8)), limit: 1)),
                            .deleteRange(DeleteRangeRequest(.interval(start: Array("a".utf8), end: Array("b".utf8)))),
                        ]))))),
    RouteCase(
        method: "POST", target: "/v1/txn",
        body:
            #"{"compare":[{"key":"k","result":"greater","mod_revision":4},{"key":"k","result":"less","create_revision":9},{"key":"k","result":"equal","value_base64":"AA=="}]}"#,
        expected: .node(
            .write(
                .transaction(
                    TransactionRequest(
                        compares: [
                            Compare(key: Array("k".utf8), .modRevision(4), .greater),
                            Compare(key: Array("k".utf8), .createRevision(9), .less),
                            Compare(key: Array("k".utf8), .value([0]), .equal),
                        ], success: []))))),
    RouteCase(
        method: "POST", target: "/v1/compact", body: #"{"revision":100}"#, expected: .node(.write(.compact(100)))),
    // Cluster.
    RouteCase(method: "GET", target: "/v1/cluster/members", expected: .members),
    RouteCase(
        method: "POST", target: "/v1/cluster/members", body: #"{"name":"n4","peer_address":"10.0.0.4:7001"}"#,
        expected: .node(.admin(.addLearner(name: "n4", peerAddress: "10.0.0.4:7001")))),
    RouteCase(method: "POST", target: "/v1/cluster/members/n4/promote", expected: .node(.admin(.promote(name: "n4")))),
    RouteCase(method: "DELETE", target: "/v1/cluster/members/n4", expected: .node(.admin(.remove(name: "n4")))),
    RouteCase(
        method: "PATCH", target: "/v1/cluster/members/n4", body: #"{"peer_address":"10.0.0.5:7001"}"#,
        expected: .node(.admin(.updatePeerAddress(name: "n4", peerAddress: "10.0.0.5:7001")))),
    RouteCase(method: "GET", target: "/v1/cluster/status", expected: .clusterStatus),
    RouteCase(method: "GET", target: "/v1/snapshot", expected: .snapshot),
    RouteCase(
        method: "POST", target: "/v1/cluster/transfer-leadership", expected: .node(.admin(.transferLeadership(to: nil)))
    ),
    RouteCase(
        method: "POST", target: "/v1/cluster/transfer-leadership", body: #"{"to":"n2"}"#,
        expected: .node(.admin(.transferLeadership(to: "n2")))),
    RouteCase(method: "GET", target: "/v1/cluster/hash", expected: .node(.read(.hash(nil), linear))),
    RouteCase(method: "GET", target: "/v1/cluster/hash?revision=17", expected: .node(.read(.hash(17), linear))),
]

@Suite("Routing table")
struct RoutingTableTests {
    @Test("each route and method produces exactly the expected routed request", arguments: routeTable)
    func routesAsExpected(_ row: RouteCase) throws {
        let result = try routed(row.method, row.target, row.body)
        #expect(result == row.expected)
    }

    @Test("a JSON content type with parameters is accepted")
    func jsonWithCharset() throws {
        let result = try routed(
            "POST", "/v1/compact", #"{"revision":1}"#, headers: [("Content-Type", "Application/JSON; charset=utf-8")])
        #expect(result == .node(.write(.compact(1))))
    }

    @Test("a JSON body is accepted whatever Content-Type it declares (curl -d sends form encoding)", arguments: [
        "application/x-www-form-urlencoded", "text/plain", "application/octet-stream",
    ])
    func jsonUnderAnyContentType(contentType: String) throws {
        let result = try routed("POST", "/v1/compact", #"{"revision":1}"#, headers: [("Content-Type", contentType)])
        #expect(result == .node(.write(.compact(1))))
    }

    @Test("a PATCH without incarnation updates the live incarnation; with one it stays fenced")
    func patchWithoutIncarnation() throws {
        let name = InstanceName(namespace: "default", service: "web", id: "w-1")
        let live = try routed("PATCH", "/v1/services/web/instances/w-1", #"{"status":"draining"}"#)
        #expect(live == .node(.write(.updateInstance(InstanceUpdate(name: name, incarnation: nil, status: .draining)))))
        let fenced = try routed("PATCH", "/v1/services/web/instances/w-1", #"{"status":"draining","incarnation":4}"#)
        #expect(fenced == .node(.write(.updateInstance(InstanceUpdate(name: name, incarnation: 4, status: .draining)))))
    }

    @Test("explicit null reads as an absent optional field")
    func nullIsAbsent() throws {
        let result = try routed("POST", "/v1/leases", #"{"ttl":"10s","id":null}"#)
        #expect(result == .node(.write(.grantLease(id: nil, ttlMilliseconds: 10_000, grantedAtMilliseconds: 0))))
    }
}
