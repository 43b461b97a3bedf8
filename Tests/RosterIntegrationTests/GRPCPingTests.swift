// Goal: a node may hold a PING acknowledgement for an answer it is about to send (gRPC-Go pings with nearly every
// request), but never loses it and never makes it wait for an answer that is not coming: the acknowledgement of a
// PING that arrives while the node cannot answer the call in flight (the other members are frozen, so a
// linearizable read has no quorum) still arrives, before the call's answer, and the call then completes once the
// members are thawed.
// Method: a real 3-member cluster and the raw h2c client of GRPCBadInputTests; SIGSTOP and SIGCONT on the
// followers. Waits poll against deadlines.
import EtcdAPI
import Foundation
import HTTP2
import RosterTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("PING acknowledgements on the etcd API's connections", .serialized)
struct GRPCPingTests {
    @Test("a PING is acknowledged with the answer in flight, and without it when the answer cannot come yet")
    func pingsAreAcknowledgedWhileACallWaits() throws {
        let cluster = try ProcessCluster(size: 3)
        // The read below must still be waiting when the PING's acknowledgement arrives; a leader cut off from its
        // followers steps down after an election timeout and answers it then, so that timeout is kept well above
        // any stall of this test process between freezing the followers and sending the PING.
        cluster.electionMilliseconds = 2_000
        defer { cluster.stopAll() }
        try cluster.startAll()
        let leader = try cluster.waitForLeader()
        let client = try #require(H2TestClient(port: cluster.nodes[leader].clientPort))
        try client.handshake()
        var request = EtcdAPI.RangeRequest()
        request.key = Array("ping".utf8)
        let body = H2TestClient.grpcMessage(request.encoded())

        // A healthy cluster: the acknowledgement and the answer both arrive.
        client.call(1, GRPCBadInputTests.rangePath, body: body)
        client.send(.ping(ack: false, opaque: 1))
        _ = try client.waitFor("the first PING's acknowledgement") { $0 == .ping(ack: true, opaque: 1) }
        #expect(client.outcome(of: 1).isStatus(0), "\(cluster.logsTail())")

        // Followers frozen: the leader cannot confirm a read index, so the read waits; the PING may not.
        let followers = cluster.nodes.indices.filter { $0 != leader }
        for index in followers { cluster.nodes[index].process?.send(signal: SIGSTOP) }
        defer { for index in followers { cluster.nodes[index].process?.send(signal: SIGCONT) } }
        client.call(3, GRPCBadInputTests.rangePath, body: body)
        client.send(.ping(ack: false, opaque: 2))
        _ = try client.waitFor("the acknowledgement of a PING sent while the read waits for a quorum") {
            $0 == .ping(ack: true, opaque: 2)
        }
        #expect(client.headerBlocks[3] == nil, "the read was answered before its quorum returned")
        for index in followers { cluster.nodes[index].process?.send(signal: SIGCONT) }
        let outcome = client.outcome(of: 3, seconds: 20)
        #expect(outcome.isStatus(0) || outcome.isStatus(14), "the read ended \(outcome)\n\(cluster.logsTail())")
    }
}

extension H2Outcome {
    func isStatus(_ code: Int) -> Bool {
        if case .status(code, _, _) = self { true } else { false }
    }
}
