// Goal: linearizable reads without log writes (thesis §6.4) behave as promised on leaders and
// followers, and every read ends in an answer (a read point or a typed failure), never silence.
// Method: a hand-driven `TestCluster`, holding back heartbeats to show when a read is confirmed.
import Raft
import Testing

@Suite("ReadIndex")
struct ReadIndexTests {
    @Test("§6.4 a leader's read is confirmed only after a quorum answers a heartbeat round")
    func leaderReadNeedsQuorum() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        cluster[1].readIndex(requestID: 1)
        cluster.flush()
        #expect(cluster.readResults[TestCluster.id(1)] ?? [] == [])
        cluster.stabilize()
        #expect(cluster.readResults[TestCluster.id(1)] == [ReadResult(requestID: 1, outcome: .ready(index: cluster[1].commitIndex))])
    }

    @Test("§6.4 a new leader holds reads until it has committed an entry of its term")
    func readWaitsForCurrentTermCommit() {
        var cluster = TestCluster(3)
        cluster.tick(1, times: 20)
        cluster.deliver(where: { $0.body.isPreVote || $0.body == .preVoteResponse(granted: true) })
        cluster.deliver(where: { $0.body.isPreVote || $0.body == .preVoteResponse(granted: true) })
        cluster.deliver(where: { $0.body.isVote || $0.body.isVoteResponse })
        cluster.deliver(where: { $0.body.isVote || $0.body.isVoteResponse })
        #expect(cluster[1].role == .leader)
        #expect(cluster[1].commitIndex == .zero)
        cluster[1].readIndex(requestID: 9)
        cluster.deliver(where: { $0.body.isHeartbeat })
        cluster.deliver(where: { if case .heartbeatResponse = $0.body { true } else { false } })
        #expect(cluster.readResults[TestCluster.id(1)] ?? [] == [])
        cluster.stabilize()
        cluster.tick(1)
        cluster.stabilize()
        #expect(cluster.readResults[TestCluster.id(1)] == [ReadResult(requestID: 9, outcome: .ready(index: LogIndex(1)))])
    }

    @Test("a follower's read is confirmed by the leader and returns the leader's commit index")
    func followerRead() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        _ = cluster[1].propose([1])
        cluster.stabilize()
        cluster[2].readIndex(requestID: 4)
        cluster.stabilize()
        #expect(cluster.readResults[TestCluster.id(2)] == [ReadResult(requestID: 4, outcome: .ready(index: LogIndex(2)))])
    }

    @Test("a read on a node that knows no leader fails at once with noLeader")
    func readWithoutLeader() {
        var cluster = TestCluster(3)
        cluster[2].readIndex(requestID: 3)
        cluster.flush()
        #expect(cluster.readResults[TestCluster.id(2)] == [ReadResult(requestID: 3, outcome: .failed(.noLeader))])
    }

    @Test("a forwarded read whose answer is lost times out instead of waiting forever")
    func forwardedReadTimesOut() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        cluster[2].readIndex(requestID: 5)
        for _ in 0...(2 * cluster.options.electionTimeoutTicks) {
            cluster.tick(1)
            cluster.tick(2)
            cluster.deliver(where: { if case .readIndex = $0.body { false } else { true } }, dropOthers: true)
        }
        #expect(cluster.readResults[TestCluster.id(2)]?.contains(ReadResult(requestID: 5, outcome: .failed(.timedOut))) == true)
    }

    @Test("a leader that steps down fails its pending reads")
    func stepDownFailsReads() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        cluster[1].readIndex(requestID: 8)
        cluster[1].step(Message(from: TestCluster.id(2), to: TestCluster.id(1), term: Term(7), body: .heartbeat(commit: .zero, readRound: 0)))
        cluster.flush()
        #expect(cluster.readResults[TestCluster.id(1)] == [ReadResult(requestID: 8, outcome: .failed(.leadershipLost))])
    }

    @Test("a heartbeat on reconnect tells the follower who leads but confirms no read of the open round")
    func heartbeatOnReconnect() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        _ = cluster[1].propose([1])
        cluster.stabilize()
        cluster.crashAndRestart(2)
        #expect(cluster[2].leader == nil)
        // No read open: one heartbeat, to the reconnected peer only, and the follower learns its leader.
        cluster[1].peerConnected(TestCluster.id(2))
        cluster.flush()
        #expect(cluster.inFlight.map(\.to) == [TestCluster.id(2)])
        #expect(cluster.pending { $0.isHeartbeat }.count == 1)
        cluster.stabilize()
        #expect(cluster[2].leader == TestCluster.id(1))
        #expect(cluster[2].commitIndex == cluster[1].commitIndex)
        // A read whose round is still open when the peer reconnects is not confirmed by that heartbeat.
        cluster.crashAndRestart(2)
        cluster[1].readIndex(requestID: 5)
        cluster[1].peerConnected(TestCluster.id(2))
        let isReconnectRound: (Message) -> Bool = {
            if case .heartbeat(_, let round) = $0.body { round == 0 } else { false }
        }
        cluster.deliver(where: isReconnectRound)
        cluster.deliver(where: { $0.body == .heartbeatResponse(readRound: 0) })
        #expect(cluster[2].leader == TestCluster.id(1))
        #expect(cluster.readResults[TestCluster.id(1)] ?? [] == [], "only a heartbeat sent after the read confirms it")
        cluster.stabilize()
        #expect(cluster.readResults[TestCluster.id(1)] == [ReadResult(requestID: 5, outcome: .ready(index: cluster[1].commitIndex))])
        // Followers and unknown peers send nothing.
        cluster[2].peerConnected(TestCluster.id(3))
        cluster[1].peerConnected(TestCluster.id(9))
        cluster.flush()
        #expect(cluster.inFlight.isEmpty)
    }
}
