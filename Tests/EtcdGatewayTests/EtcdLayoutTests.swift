// Goal: through the etcd calls, framework layouts behave as the issue asks: a kratos or kitex client that puts JSON
// gets exactly those bytes back from Range and Watch, the put is also a native instance at the same revision, a
// natively registered instance is a key at each layout with the framework's JSON, and deletes of either view are
// one revision in both watch APIs.
// Method: a `RegistryState` with the standard layouts stands in for the node (`Node.call` plans, serves and
// encodes each call as the shell does); watches go through a real `EtcdWatchSession`, native watches through
// `RegistryState.events(after:matching:)`.
import EtcdAPI
@testable import EtcdGateway
import Raft
import Registry
import Testing

@Suite("etcd calls at framework layouts")
struct EtcdLayoutTests {
    static let kratosKey = "/microservices/payments/i1"
    static let kratosJSON = #"{"id":"i1","name":"payments","version":"v1.0.0","metadata":{"zone":"a"},"endpoints":["grpc://10.0.0.5:9000"]}"#

    func layoutNode() -> Node {
        var node = Node()
        node.registry = RegistryState(layouts: FrameworkLayout.standard)
        return node
    }

    func put(_ node: inout Node, _ key: String, _ value: String, lease: Int64 = 0) throws -> PutResponse {
        var request = EtcdAPI.PutRequest()
        request.key = bytes(key)
        request.value = bytes(value)
        request.lease = lease
        return try node.expect(.put, request, as: PutResponse.self)
    }

    @Test("a kratos Put is read back byte for byte, and is a native instance bound to its lease at the Put's revision")
    func kratosRoundTrip() throws {
        var node = layoutNode()
        var grantRequest = LeaseGrantRequest()
        grantRequest.ttl = 15
        let grant = try node.expect(.leaseGrant, grantRequest, as: LeaseGrantResponse.self)
        let written = try put(&node, Self.kratosKey, Self.kratosJSON, lease: grant.id)
        let range = try node.range(.key(Self.kratosKey))
        #expect(range.kvs.map(\.value) == [bytes(Self.kratosJSON)])
        #expect(range.kvs.first?.lease == grant.id && range.kvs.first?.modRevision == written.header?.revision)
        let list = try node.registry.instances(namespace: "default", service: "payments")
        #expect(list.instances.map(\.id) == ["i1"] && list.instances.first?.lease == LeaseID(UInt64(grant.id)))
        #expect(list.records.first?.modRevision.rawValue == written.header?.revision)
        let ttl = try node.expect(.leaseTimeToLive, LeaseTimeToLiveRequest(id: grant.id, keys: true), as: LeaseTimeToLiveResponse.self)
        #expect(ttl.keys == [bytes(Self.kratosKey)], "TimeToLive lists the key the client attached, as etcd does")
        node.registry.checkInvariants()
    }

    @Test("a native instance is listed under the kratos and kitex prefixes with their JSON")
    func nativeInstanceAtLayouts() throws {
        var node = layoutNode()
        node.apply(.registerInstance(ServiceInstance(
            namespace: "default", service: "payments", id: "n1", version: "v2", endpoints: ["grpc://10.0.0.7:9000"],
            metadata: ["zone": "b"], weight: 30)))
        let kratos = try node.range(.key("/microservices/payments/", end: "/microservices/payments0"))
        #expect(kratos.kvs.map { text($0.value) }
            == [#"{"id":"n1","name":"payments","version":"v2","metadata":{"zone":"b"},"endpoints":["grpc://10.0.0.7:9000"]}"#])
        let kitex = try node.range(.key("kitex/registry-etcd/payments/", end: "kitex/registry-etcd/payments0"))
        #expect(kitex.kvs.map { text($0.key) } == ["kitex/registry-etcd/payments/10.0.0.7:9000"])
        #expect(kitex.kvs.map { text($0.value) } == [#"{"network":"tcp","address":"10.0.0.7:9000","weight":30,"tags":{"zone":"b"}}"#])
    }

    @Test("a kitex Put is a native instance named by its address")
    func kitexPut() throws {
        var node = layoutNode()
        _ = try put(&node, "kitex/registry-etcd/echo/10.0.1.1:8888", #"{"network":"tcp","address":"10.0.1.1:8888","weight":10,"tags":null}"#)
        let instance = try #require(node.registry.instance(named: InstanceName(namespace: "default", service: "echo", id: "10.0.1.1:8888")))
        #expect(instance.endpoints == ["tcp://10.0.1.1:8888"] && instance.weight == 10 && instance.metadata.isEmpty)
    }

    @Test("a value under a layout prefix that is not the framework's JSON is a plain key, stored and served as sent")
    func foreignValue() throws {
        var node = layoutNode()
        _ = try put(&node, Self.kratosKey, "{not json")
        #expect(try node.range(.key(Self.kratosKey)).kvs.map(\.value) == [bytes("{not json")])
        #expect(try node.registry.instances(namespace: "default", service: "payments").records.isEmpty)
    }

    @Test("Watch shows the exact bytes; a delete through etcd ends the instance in the native watch at the same revision")
    func watchesAgree() throws {
        var bench = WatchBench()
        bench.node.registry = RegistryState(layouts: FrameworkLayout.standard)
        _ = bench.send(.create("/microservices/", end: "/microservices0", prevKV: true))
        let put = bench.write(.put(Registry.PutRequest(key: bytes(Self.kratosKey), value: bytes(Self.kratosJSON))))
        let deleted = bench.delete(Self.kratosKey)
        let seen = (put + deleted).flatMap(\.events).map(SeenEvent.init)
        #expect(seen.map(\.value) == [bytes(Self.kratosJSON), []])
        #expect(seen.last?.previous == bytes(Self.kratosJSON))
        let native = try bench.node.registry.events(after: .zero, matching: .service(namespace: "default", service: "payments"))
        guard case .events(let events, _) = native else { Issue.record("resync instead of events"); return }
        #expect(events.map(\.revision.rawValue) == seen.map(\.revision), "the same revisions in both watch APIs")
        #expect(events.map(\.cause) == [.registered, .deregistered])
    }
}
