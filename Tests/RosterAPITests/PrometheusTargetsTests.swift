// Goal: `GET /v1/sd/prometheus` gives Prometheus' http_sd_configs format — one target group per instance with
// host:port targets and `__meta_roster_*` labels — and a refresh naming the current ETag costs no body.
// Method: route requests through the real router, encode instance lists, parse the JSON with Foundation.
import Foundation
import Registry
import RosterNode
import Testing

@testable import RosterAPI

@Suite("Prometheus HTTP service discovery")
struct PrometheusTargetsTests {
    static func instance(_ id: String, service: String = "web", endpoints: [String], metadata: [String: String] = [:])
        -> ServiceInstance
    {
        ServiceInstance(
            namespace: "prod", service: service, id: id, version: "1.2", endpoints: endpoints, metadata: metadata,
            weight: 10, status: .up, lease: nil, incarnation: 1)
    }

    @Test("one service or a whole namespace is read serializably unless asked otherwise; If-None-Match is passed on")
    func routes() throws {
        let one = try routed("GET", "/v1/sd/prometheus?service=web&namespace=prod", headers: [("If-None-Match", "\"abc\"")])
        #expect(one == .prometheusTargets(
            .instances(namespace: "prod", service: "web"), ReadOptions(consistency: .serializable), ifNoneMatch: "\"abc\""))
        let all = try routed("GET", "/v1/sd/prometheus?consistency=linearizable")
        #expect(all == .prometheusTargets(
            .range(RangeRequest(.prefix(Array("default/".utf8)))), ReadOptions(consistency: .linearizable), ifNoneMatch: nil))
        #expect(try routingError("GET", "/v1/sd/prometheus?service=..")?.code == "invalid_name")
        #expect(try routingError("POST", "/v1/sd/prometheus")?.status.code == 405)
    }

    @Test("each instance is a target group of its endpoints' host:port with __meta_roster_* labels")
    func targetGroups() throws {
        let instances = [
            Self.instance("b", endpoints: ["http://10.0.0.2:9100/metrics", "grpc://[::1]:9000", "unix:///run/x.sock"],
                          metadata: ["zone": "eu-1", "team.name": "pay"]),
            Self.instance("a", endpoints: ["http://user@10.0.0.1:9100"]),
            Self.instance("c", endpoints: ["unix:///run/only.sock"]),
        ]
        let response = PrometheusTargets.encode(instances, ifNoneMatch: nil, context: testContext)
        #expect(response.status.code == 200)
        let groups = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]])
        #expect(groups.count == 2, "an instance without a host:port endpoint has no target")
        #expect(groups[0]["targets"] as? [String] == ["10.0.0.1:9100"])
        #expect(groups[1]["targets"] as? [String] == ["10.0.0.2:9100", "[::1]:9000"])
        let labels = try #require(groups[1]["labels"] as? [String: String])
        #expect(labels["__meta_roster_service"] == "web")
        #expect(labels["__meta_roster_namespace"] == "prod")
        #expect(labels["__meta_roster_instance"] == "b")
        #expect(labels["__meta_roster_status"] == "up")
        #expect(labels["__meta_roster_weight"] == "10")
        #expect(labels["__meta_roster_metadata_zone"] == "eu-1")
        #expect(labels["__meta_roster_metadata_team_name"] == "pay", "label names keep only [a-zA-Z0-9_]")
    }

    @Test("the ETag follows the content, and If-None-Match with it gets 304 and no body")
    func etag() throws {
        let instances = [Self.instance("a", endpoints: ["http://10.0.0.1:9100"])]
        let first = PrometheusTargets.encode(instances, ifNoneMatch: nil, context: testContext)
        let tag = try #require(first.header("ETag"))
        let again = PrometheusTargets.encode(instances, ifNoneMatch: tag, context: testContext)
        #expect(again.status.code == 304)
        #expect(again.body.isEmpty)
        let listed = PrometheusTargets.encode(instances, ifNoneMatch: "\"other\", \(tag)", context: testContext)
        #expect(listed.status.code == 304)
        let changed = PrometheusTargets.encode(
            instances + [Self.instance("b", endpoints: ["http://10.0.0.2:9100"])], ifNoneMatch: tag, context: testContext)
        #expect(changed.status.code == 200)
        #expect(changed.header("ETag") != tag)
    }
}
