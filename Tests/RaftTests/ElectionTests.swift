// Goal: each election rule of the Raft paper (§5.1, §5.2, §5.4.1) and of Ongaro's thesis (§9.6
// Pre-Vote, §6.2 CheckQuorum, §4.2.3 leader stickiness) holds, one claim per test.
// Method: a hand-driven `TestCluster`; each test sets up, acts, then checks.
import Raft
import Testing

@Suite("Election")
struct ElectionTests {
    @Test("§5.2 a follower that hears nothing for an election timeout campaigns and wins a majority")
    func followerCampaigns() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        #expect(cluster[1].role == .leader)
        #expect(cluster[1].term == Term(1))
        #expect(cluster[2].leader == TestCluster.id(1))
    }

    @Test("§5.2 a follower does not campaign before its election timeout")
    func noEarlyCampaign() {
        var cluster = TestCluster(3)
        cluster.tick(1, times: cluster.options.electionTimeoutTicks - 1)
        #expect(cluster[1].role == .follower)
        #expect(cluster.inFlight.isEmpty)
    }

    @Test("§5.4.2 a new leader appends a no-op of its term")
    func leaderAppendsNoop() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        #expect(cluster[1].entries.last?.payload == .noop)
        #expect(cluster[1].entries.last?.term == cluster[1].term)
        #expect(cluster[1].commitIndex == cluster[1].lastIndex)
    }

    @Test("§5.1 a node that sees a higher term becomes a follower in that term")
    func higherTermDeposes() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        let newer = Term(cluster[1].term.rawValue + 5)
        cluster[1].step(Message(from: TestCluster.id(2), to: TestCluster.id(1), term: newer, body: .heartbeat(commit: .zero, readRound: 0)))
        #expect(cluster[1].role == .follower)
        #expect(cluster[1].term == newer)
    }

    @Test("§5.2 a node votes for at most one candidate per term, even across a restart")
    func oneVotePerTerm() {
        var options = TestCluster.defaultOptions
        options.preVote = false
        options.checkQuorum = false
        var cluster = TestCluster(3, options: options)
        let term = Term(1)
        let request = { (from: UInt64) in
            Message(from: TestCluster.id(from), to: TestCluster.id(3), term: term, body: .vote(lastLogIndex: .zero, lastLogTerm: .zero, isLeadershipTransfer: false))
        }
        cluster[3].step(request(1))
        cluster.flush()
        cluster.crashAndRestart(3)
        cluster[3].step(request(2))
        cluster.flush()
        let grants = cluster.inFlight.filter { $0.body == .voteResponse(granted: true) }.map(\.to)
        #expect(grants == [TestCluster.id(1)])
    }

    @Test("§5.4.1 a voter rejects a candidate whose log is less up-to-date")
    func upToDateCheck() {
        var options = TestCluster.defaultOptions
        options.checkQuorum = false
        var cluster = TestCluster(3, options: options)
        cluster.elect(1)
        _ = cluster[1].propose([1])
        cluster.stabilize()
        let stale = Message(
            from: TestCluster.id(3), to: TestCluster.id(2), term: Term(9),
            body: .vote(lastLogIndex: LogIndex(1), lastLogTerm: Term(1), isLeadershipTransfer: false))
        cluster[2].step(stale)
        cluster.flush()
        #expect(cluster.pending { $0.isVoteResponse }.map(\.body) == [.voteResponse(granted: false)])
    }

    @Test("§9.6 with Pre-Vote, a node rejoining from a partition does not raise the cluster's term")
    func preVoteProtectsLeader() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        let term = cluster[1].term
        cluster.isolate(3)
        cluster.tick(3, times: 10 * cluster.options.electionTimeoutTicks)
        cluster.stabilize()
        #expect(cluster[3].term == term)
        cluster.heal()
        cluster.tick(3, times: 3 * cluster.options.electionTimeoutTicks)
        cluster.stabilize()
        #expect(cluster[1].role == .leader)
        #expect(cluster[1].term == term)
    }

    @Test("§4.2.3 a follower that recently heard from its leader ignores vote requests")
    func leaderStickiness() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        let disruptive = Message(
            from: TestCluster.id(3), to: TestCluster.id(2), term: Term(cluster[2].term.rawValue + 1),
            body: .vote(lastLogIndex: LogIndex(100), lastLogTerm: Term(100), isLeadershipTransfer: false))
        cluster[2].step(disruptive)
        cluster.flush()
        #expect(cluster[2].term == cluster[1].term)
        #expect(cluster.pending { $0.isVoteResponse }.isEmpty)
    }

    /// Followers tick out of phase: when node 2 (first in rank) campaigns, node 3 has counted `ticksBehind` fewer.
    @Test(
        "§4.2.3 when the leader falls silent, the next follower grants a pre-vote a tick short of its timeout, not two",
        arguments: [(1, true), (2, false)])
    func stickinessAllowsATickOfPhase(ticksBehind: Int, firstInRankWins: Bool) {
        var cluster = TestCluster(3)
        cluster.elect(1)
        let term = cluster[1].term
        cluster.isolate(1)
        let timeout = cluster.options.electionTimeoutTicks
        cluster.tick(3, times: timeout - ticksBehind)
        cluster.tick(2, times: timeout)
        cluster.stabilize()
        #expect((cluster[2].role == .leader) == firstInRankWins)
        #expect(cluster[2].term == (firstInRankWins ? term.next : term))
        #expect(cluster[3].leader == TestCluster.id(firstInRankWins ? 2 : 1))
    }

    @Test("§6.2 CheckQuorum: a leader cut off from a majority steps down within an election timeout")
    func checkQuorumStepsDown() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        cluster.isolate(1)
        for _ in 0..<(2 * cluster.options.electionTimeoutTicks) {
            cluster.tick(1)
            cluster.stabilize()
        }
        #expect(cluster[1].role != .leader)
    }

    @Test("a learner never campaigns")
    func learnerDoesNotCampaign() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        let learner = TestCluster.id(4)
        cluster.nodes[learner] = RaftNode(
            id: learner, options: cluster.options, persisted: .bootstrap(configuration: Configuration(voters: [])), randomSeed: 1)
        cluster.disks[learner] = .bootstrap(configuration: Configuration(voters: []))
        #expect(cluster[1].proposeMembershipChange(.addLearner(learner)) == .accepted(index: LogIndex(2), term: Term(1)))
        cluster.stabilize()
        for _ in 0..<6 {
            cluster.tick(1)
            cluster.stabilize()
        }
        #expect(cluster[4].configuration.isLearner(learner))
        cluster.isolate(4)
        cluster.tick(4, times: 5 * cluster.options.electionTimeoutTicks)
        #expect(cluster[4].role == .follower)
        #expect(cluster.pending { $0.isPreVote || $0.isVote }.isEmpty)
    }

    @Test("followers that see the leader's connection close campaign a tick apart and elect one leader without a split vote")
    func suspectedLeaderFailureElectsWithoutSplit() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        let term = cluster[1].term
        cluster.isolate(1)
        cluster[2].suspectLeaderFailure(TestCluster.id(1))
        cluster[3].suspectLeaderFailure(TestCluster.id(1))
        // Both followers tick in lockstep, as they would on one machine.
        for _ in 0..<2 {
            cluster.tick(2)
            cluster.tick(3)
            cluster.stabilize()
        }
        #expect(cluster[2].role == .leader)
        #expect(cluster[3].leader == TestCluster.id(2))
        #expect(cluster[2].term == term.next)
    }

    @Test("a follower ignores the closed connection of a peer that is not its leader")
    func closedFollowerConnectionIsNoSuspicion() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        cluster[2].suspectLeaderFailure(TestCluster.id(3))
        cluster.tick(2, times: 3)
        #expect(cluster.pending { $0.isPreVote }.isEmpty)
        #expect(cluster[2].leader == TestCluster.id(1))
    }
}
