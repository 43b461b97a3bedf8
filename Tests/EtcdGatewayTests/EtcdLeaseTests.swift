// Goal: the Lease calls answer as etcd 3.4 does for the cases clients act on: a tiny TTL is raised to the
// minimum, a TTL too large (even one that overflows in milliseconds) is OUT_OF_RANGE, TimeToLive of an unknown
// lease is OK with TTL -1, a keepalive of an unknown lease answers TTL 0, revoke of an unknown lease is NOT_FOUND.
// Method: each call is planned, served by a real `RegistryState` and encoded (`Node.call`); keepalive answers go
// through `EtcdKeepAlive`, the encoder the shell uses.
import EtcdAPI
@testable import EtcdGateway
import GRPC
import Raft
import Registry
import RosterNode
import Testing

@Suite("etcd Lease calls")
struct EtcdLeaseTests {
    @Test("a grant's TTL is raised to the minimum and otherwise kept", arguments: [(1, 2), (2, 2), (0, 2), (-5, 2), (60, 60)])
    func grantMinimum(requested: Int64, granted: Int64) throws {
        var node = Node()
        let answer = try node.expect(
            .leaseGrant, LeaseGrantRequest(ttl: requested, id: 0), as: LeaseGrantResponse.self, minimumTTLMilliseconds: 2_000)
        #expect(answer.ttl == granted)
        #expect(answer.id != 0)
        #expect(node.registry.lease(LeaseID(UInt64(answer.id))) != nil)
    }

    @Test("a TTL over etcd's maximum is OUT_OF_RANGE 'too large lease TTL', also when seconds overflow milliseconds",
          arguments: [9_000_000_001, Int64.max / 1_000 + 1, Int64.max])
    func grantTooLarge(ttl: Int64) {
        var node = Node()
        #expect(node.status(.leaseGrant, LeaseGrantRequest(ttl: ttl, id: 0))
            == GRPCStatus(code: .outOfRange, message: "etcdserver: too large lease TTL"))
    }

    @Test("a grant with an ID in use is FAILED_PRECONDITION 'lease already exists'")
    func grantDuplicate() {
        var node = Node()
        node.grant(9)
        #expect(node.status(.leaseGrant, LeaseGrantRequest(ttl: 10, id: 9))
            == GRPCStatus(code: .failedPrecondition, message: "etcdserver: lease already exists"))
    }

    @Test("TimeToLive of an unknown lease (or of ID 0) is OK with TTL -1", arguments: [0, 42] as [Int64])
    func timeToLiveUnknown(id: Int64) throws {
        var node = Node()
        let answer = try node.expect(.leaseTimeToLive, LeaseTimeToLiveRequest(id: id, keys: true), as: LeaseTimeToLiveResponse.self)
        #expect(answer.ttl == -1)
        #expect(answer.id == id)
        #expect(answer.header != nil)
    }

    @Test("TimeToLive of a live lease names its granted TTL and its keys")
    func timeToLiveKnown() throws {
        var node = Node()
        node.grant(7, ttlMilliseconds: 30_000)
        node.put("held", lease: LeaseID(7))
        let answer = try node.expect(.leaseTimeToLive, LeaseTimeToLiveRequest(id: 7, keys: true), as: LeaseTimeToLiveResponse.self)
        #expect(answer.grantedTTL == 30)
        #expect(answer.keys == [bytes("held")])
    }

    @Test("revoking an unknown lease (or ID 0) is NOT_FOUND 'requested lease not found'", arguments: [0, 42] as [Int64])
    func revokeUnknown(id: Int64) {
        var node = Node()
        #expect(node.status(.leaseRevoke, LeaseRevokeRequest(id: id))
            == GRPCStatus(code: .notFound, message: "etcdserver: requested lease not found"))
    }

    @Test("a keepalive of an unknown lease answers TTL 0, which ends clientv3's keepalive channel")
    func keepAliveUnknown() throws {
        let bytes = try EtcdKeepAlive.answer(
            lease: 42, response: .rejected(.leaseNotFound(LeaseID(42)), evaluatedAt: Revision(3)), context: testContext,
            revision: Revision(3)
        ).get()
        let answer = try LeaseKeepAliveResponse(decoding: bytes)
        #expect(answer.ttl == 0 && answer.id == 42 && answer.header?.revision == 3)
    }

    @Test("a keepalive answers the TTL in whole seconds, rounded up")
    func keepAliveKnown() throws {
        let bytes = try EtcdKeepAlive.answer(
            lease: 7, response: .keptAlive(LeaseID(7), ttlMilliseconds: 2_500), context: testContext, revision: Revision(1)
        ).get()
        #expect(try LeaseKeepAliveResponse(decoding: bytes).ttl == 3)
    }

    @Test("a keepalive the node could not serve ends the stream with UNAVAILABLE")
    func keepAliveFailed() {
        let result = EtcdKeepAlive.answer(lease: 7, response: .failed(.timedOut), context: testContext, revision: Revision(1))
        #expect(throws: GRPCStatus.self) { try result.get() }
        if case .failure(let status) = result { #expect(status.code == .unavailable) }
    }

    @Test("LeaseLeases lists every live lease by ID")
    func leases() throws {
        var node = Node()
        node.grant(3)
        node.grant(1)
        let answer = try node.expect(.leaseLeases, LeaseLeasesRequest(), as: LeaseLeasesResponse.self)
        #expect(answer.leases.map(\.id) == [1, 3])
    }
}
