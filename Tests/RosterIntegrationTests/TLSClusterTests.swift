// Goal: a whole cluster runs over TLS on real processes: members elect, replicate and fail over through
// mutual TLS with the allowed CN; clients need the CA and a client certificate; plain HTTP to the TLS port is
// told to use https, and the node stays up. (The real-tool checks — curl, etcdctl, openssl s_client, rotation,
// the handshake flood — are in scripts/tls-check.)
// Method: `ProcessCluster(tls: true)` starts three `roster` processes with certificates made in-process and
// talks to them through `TestHTTP` over the TLS engine; every wait polls a condition against a deadline.
import Foundation
import RosterTestSupport
import Testing

@Suite("A TLS cluster on real processes", .serialized)
struct TLSClusterTests {
    @Test("three members elect, replicate and fail over through mutual TLS; plain HTTP is told to use https")
    func clusterOverTLS() throws {
        let cluster = try ProcessCluster(size: 3, tls: true)
        try cluster.startAll()
        defer { cluster.stopAll() }
        let leader = try cluster.waitForLeader(seconds: 30)
        let follower = (leader + 1) % 3
        let instance = #"{"endpoints":["grpc://10.0.0.5:9000"],"ttl":"30s"}"#
        let put = cluster.request("PUT", "/v1/services/payments/instances/i1", on: follower, body: instance)
        #expect(put?.status == 200, "a follower forwards the write to the leader over mutual TLS")
        let read = cluster.request("GET", "/v1/services/payments", on: (leader + 2) % 3)
        #expect(read?.text.contains("i1") == true)

        let plain = TestHTTP.request("GET", port: cluster.nodes[leader].clientPort, path: "/v1/cluster/status")
        #expect(plain?.status == 400)
        #expect(plain?.text.contains("requires TLS") == true)

        cluster.kill(leader)
        let survivors = [0, 1, 2].filter { $0 != leader }
        let next = try cluster.waitForLeader(among: survivors, seconds: 30)
        let after = cluster.request("PUT", "/v1/services/payments/instances/i2", on: next, body: instance)
        #expect(after?.status == 200, "the survivors elect a new leader over TLS and keep accepting writes")
    }
}
