// Goal: single-server membership changes (thesis §4), learners, leadership transfer (thesis §3.10)
// and snapshot transfer (thesis §5) behave as specified, one claim per test.
// Method: a hand-driven `TestCluster`, adding nodes that start with no configuration.
import Raft
import Testing

@Suite("Membership, transfer and snapshots")
struct MembershipTests {
    static func join(_ raw: UInt64, to cluster: inout TestCluster) {
        let id = NodeID(raw)
        let empty = PersistentState.bootstrap(configuration: Configuration(voters: []))
        cluster.nodes[id] = RaftNode(id: id, options: cluster.options, persisted: empty, randomSeed: raw)
        cluster.disks[id] = empty
    }

    static func settle(_ cluster: inout TestCluster, ticks: Int = 5) {
        for _ in 0..<ticks {
            cluster.tick(1)
            cluster.stabilize()
        }
    }

    @Test("a joining node learns the configuration from the leader's snapshot and catches up as a learner")
    func learnerCatchesUp() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        for command in 1...3 { _ = cluster[1].propose([UInt8(command)]) }
        cluster.stabilize()
        Self.join(4, to: &cluster)
        #expect(cluster[1].proposeMembershipChange(.addLearner(NodeID(4))) == .accepted(index: LogIndex(5), term: Term(1)))
        Self.settle(&cluster)
        #expect(cluster[4].configuration == Configuration(voters: [NodeID(1), NodeID(2), NodeID(3)], learners: [NodeID(4)]))
        #expect(cluster.applied[NodeID(4)]?.commands == [[1], [2], [3]])
        #expect(cluster[1].configuration.quorum == 2)
    }

    @Test("a learner can be promoted once caught up, and then counts toward the quorum")
    func promoteLearner() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        Self.join(4, to: &cluster)
        _ = cluster[1].proposeMembershipChange(.addLearner(NodeID(4)))
        Self.settle(&cluster)
        #expect(cluster[1].proposeMembershipChange(.promoteLearner(NodeID(4))) == .accepted(index: LogIndex(3), term: Term(1)))
        Self.settle(&cluster)
        #expect(cluster[1].configuration.voters == [NodeID(1), NodeID(2), NodeID(3), NodeID(4)])
        #expect(cluster[1].configuration.quorum == 3)
    }

    @Test("a learner that lags too far behind is not promoted")
    func lateLearnerNotPromoted() {
        var options = TestCluster.defaultOptions
        options.maxPromotionLagEntries = 2
        var cluster = TestCluster(3, options: options)
        cluster.elect(1)
        Self.join(4, to: &cluster)
        _ = cluster[1].proposeMembershipChange(.addLearner(NodeID(4)))
        Self.settle(&cluster)
        cluster.isolate(4)
        for command in 1...10 { _ = cluster[1].propose([UInt8(command)]) }
        Self.settle(&cluster)
        let outcome = cluster[1].proposeMembershipChange(.promoteLearner(NodeID(4)))
        #expect(outcome == .refused(.learnerBehind(node: NodeID(4), matchIndex: LogIndex(2), lastIndex: LogIndex(12))))
    }

    @Test("thesis §4.1 only one membership change is in flight at a time")
    func oneChangeAtATime() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        cluster.isolate(2)
        cluster.isolate(3)
        Self.join(4, to: &cluster)
        Self.join(5, to: &cluster)
        #expect(cluster[1].proposeMembershipChange(.addLearner(NodeID(4))) == .accepted(index: LogIndex(2), term: Term(1)))
        #expect(cluster[1].proposeMembershipChange(.addLearner(NodeID(5))) == .refused(.changeInProgress(index: LogIndex(2))))
    }

    @Test("a removal that would leave too few reachable voters for a quorum is refused")
    func removalLosingQuorumRefused() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        cluster.isolate(3)
        for _ in 0..<(cluster.options.electionTimeoutTicks + 2) {
            cluster.tick(1)
            cluster.stabilize()
        }
        #expect(cluster[1].proposeMembershipChange(.remove(NodeID(2))) == .refused(.wouldLoseQuorum(reachableVoters: 1, quorum: 2)))
    }

    @Test("a removed leader steps down once the change commits, and the rest elect a new leader")
    func removeLeader() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        #expect(cluster[1].proposeMembershipChange(.remove(NodeID(1))) == .accepted(index: LogIndex(2), term: Term(1)))
        Self.settle(&cluster, ticks: 2)
        #expect(cluster[1].role == .follower)
        #expect(cluster[2].configuration.voters == [NodeID(2), NodeID(3)])
        for _ in 0..<(3 * cluster.options.electionTimeoutTicks) {
            cluster.tick(2)
            cluster.tick(3)
            cluster.stabilize()
        }
        #expect([cluster[2].role, cluster[3].role].contains(.leader))
        #expect(cluster[1].role == .follower)
    }

    @Test("thesis §3.10 leadership transfer makes the target leader and refuses proposals meanwhile")
    func transferLeadership() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        #expect(cluster[1].transferLeadership(to: NodeID(3)) == .started)
        #expect(cluster[1].propose([1]) == .refused(.transferInProgress(to: NodeID(3))))
        cluster.stabilize()
        #expect(cluster[3].role == .leader)
        #expect(cluster[1].role == .follower)
        #expect(cluster[1].leader == NodeID(3))
    }

    @Test("transfer to a non-voter is refused")
    func transferToNonVoter() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        #expect(cluster[1].transferLeadership(to: NodeID(9)) == .refused(.notAVoter(NodeID(9))))
    }

    /// A cluster whose node 3 missed entries 2–7 while cut off, and whose leader compacted them into a snapshot
    /// holding `state` and then appended command 99: healed, node 3 can catch up only through the snapshot.
    static func followerBehindSnapshot(_ options: RaftOptions, state: String) -> (TestCluster, Snapshot) {
        var cluster = TestCluster(3, options: options)
        cluster.elect(1)
        cluster.isolate(3)
        for command in 1...6 { _ = cluster[1].propose([UInt8(command)]) }
        settle(&cluster)
        let snapshot = cluster[1].compact(through: cluster[1].appliedIndex, data: Array(state.utf8))
        #expect(cluster[1].entries.isEmpty)
        _ = cluster[1].propose([99])
        cluster.heal()
        return (cluster, snapshot)
    }

    /// Node 3 holds the snapshot, applied everything the leader applied, and no chunk is left in flight.
    static func expectCaughtUp(_ cluster: TestCluster, through snapshot: Snapshot) {
        #expect(cluster.disks[NodeID(3)]!.snapshot == snapshot)
        #expect(cluster[3].appliedIndex == cluster[1].appliedIndex)
        #expect(cluster.applied[NodeID(3)]?.commands.last == [99])
        #expect(cluster.inFlight.filter { $0.body.isSnapshotChunk }.isEmpty)
    }

    @Test("a follower behind the leader's snapshot receives it in chunks and then the entries after it")
    func snapshotTransfer() {
        var options = TestCluster.defaultOptions
        options.snapshotChunkBytes = 3
        var (cluster, snapshot) = Self.followerBehindSnapshot(options, state: "state-at-7")
        Self.settle(&cluster, ticks: 8)
        Self.expectCaughtUp(cluster, through: snapshot)
    }

    @Test("a leader sends a snapshot's chunks ahead of the answers, and sends again after a lost chunk stalls the transfer")
    func snapshotChunksPipelined() {
        var options = TestCluster.defaultOptions
        options.snapshotChunkBytes = 3
        options.snapshotChunksInFlight = 3
        var (cluster, snapshot) = Self.followerBehindSnapshot(options, state: "state-at-7, pipelined")
        func chunkOffsets(_ cluster: TestCluster) -> [UInt64] {
            cluster.pending { $0.isSnapshotChunk }.compactMap { if case .snapshotChunk(let chunk) = $0.body { chunk.offset } else { nil } }
        }
        var rounds = 0
        while chunkOffsets(cluster).isEmpty && rounds < 50 {
            cluster.tick(1)
            cluster.deliver { _ in true }
            rounds += 1
        }
        #expect(chunkOffsets(cluster) == [0, 3, 6], "three chunks leave before any answer")
        // The chunk at 3 is lost: the follower takes 0, refuses 6 (out of order) and waits.
        cluster.deliver(where: { message in
            guard case .snapshotChunk(let chunk) = message.body else { return true }
            return chunk.offset != 3
        }, dropOthers: true)
        Self.settle(&cluster, ticks: 12)
        Self.expectCaughtUp(cluster, through: snapshot)
    }

    @Test("a restarted node recovers term, vote, log and configuration from what it persisted")
    func restartRecovers() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        Self.join(4, to: &cluster)
        _ = cluster[1].proposeMembershipChange(.addLearner(NodeID(4)))
        _ = cluster[1].propose([3])
        Self.settle(&cluster)
        let before = cluster[2]
        cluster.crashAndRestart(2)
        #expect(cluster[2].term == before.term)
        #expect(cluster[2].entries == before.entries)
        #expect(cluster[2].hardState == before.hardState)
        #expect(cluster[2].configuration == before.configuration)
    }
}
