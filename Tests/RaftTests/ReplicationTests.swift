// Goal: the log replication rules of §5.3 and §5.4, the Ready contract (thesis §3.8, §10.2.1) and the
// proposal outcomes hold, one claim per test.
// Method: a hand-driven `TestCluster`; messages are delivered, dropped or held by the test.
import Raft
import Testing

@Suite("Replication")
struct ReplicationTests {
    @Test("§5.3 a proposal on the leader is committed and applied on every node")
    func proposalCommits() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        #expect(cluster[1].propose([7]) == .accepted(index: LogIndex(2), term: Term(1)))
        cluster.stabilize()
        cluster.tick(1)
        cluster.stabilize()
        for node in 1...3 {
            #expect(cluster.applied[TestCluster.id(UInt64(node))]?.commands == [[7]])
        }
    }

    @Test("a follower reports the leader so the shell can forward; with no leader it says so")
    func proposalOnFollower() {
        var cluster = TestCluster(3)
        #expect(cluster[2].propose([1]) == .notLeader(leader: nil, term: .zero))
        cluster.elect(1)
        #expect(cluster[2].propose([1]) == .notLeader(leader: TestCluster.id(1), term: Term(1)))
    }

    @Test("thesis §3.8: append acknowledgements leave only after the entries are persisted")
    func acksWaitForPersistence() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        _ = cluster[1].propose([1])
        cluster.flush()
        let append = cluster.inFlight.first { $0.to == TestCluster.id(2) && $0.body.isAppend }!
        cluster.inFlight = []
        cluster[2].step(append)
        let ready = cluster[2].drainReady()
        #expect(ready.messages.isEmpty)
        #expect(ready.messagesAfterPersist.contains { $0.body.isAppendResponse })
        #expect(ready.entriesToAppend.last?.index == LogIndex(2))
    }

    @Test("thesis §10.2.1: the leader sends new entries before its own copy is durable")
    func leaderSendsInParallel() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        _ = cluster[1].propose([1])
        let ready = cluster[1].drainReady()
        #expect(ready.entriesToAppend.count == 1)
        #expect(ready.messages.filter { $0.body.isAppend }.count == 2)
    }

    @Test("a lone voter commits only after its entry is persisted")
    func singleNodeCommitsAfterPersist() {
        var cluster = TestCluster(1)
        cluster.tick(1, times: 20)
        #expect(cluster[1].role == .leader)
        _ = cluster[1].propose([9])
        let ready = cluster[1].drainReady()
        #expect(ready.committedEntries.commands.isEmpty)
        cluster.persist(ready, on: TestCluster.id(1))
        cluster[1].advance(past: ready)
        cluster.flush()
        #expect(cluster.applied[TestCluster.id(1)]?.commands == [[9]])
    }

    @Test("§5.3 a follower with a conflicting suffix is repaired to the leader's log")
    func conflictingSuffixRepaired() {
        var options = TestCluster.defaultOptions
        options.checkQuorum = false
        var cluster = TestCluster(3, options: options)
        cluster.elect(1)
        cluster.isolate(1)
        for command in 1...5 { _ = cluster[1].propose([UInt8(command)]) }  // Term-1 entries only 1 holds.
        cluster.stabilize()
        cluster.heal()
        cluster.isolate(1)
        cluster.elect(2)
        _ = cluster[2].propose([42])
        cluster.stabilize()
        cluster.heal()
        cluster.tick(2)
        cluster.stabilize()
        cluster.tick(2)
        cluster.stabilize()
        #expect(cluster[1].entries == cluster[2].entries)
        #expect(cluster[1].entries.commands == [[42]])
    }

    @Test("§5.3 a rejection carries a hint that skips a whole conflicting term")
    func rejectionHint() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        let probe = Message(
            from: TestCluster.id(1), to: TestCluster.id(2), term: cluster[1].term,
            body: .append(AppendEntries(prevLogIndex: LogIndex(50), prevLogTerm: Term(1), entries: [], commit: .zero)))
        cluster[2].step(probe)
        cluster.flush()
        let response = cluster.pending { $0.isAppendResponse }.first?.body
        #expect(response == .appendResponse(.rejected(rejectedIndex: LogIndex(50), hintIndex: LogIndex(1), hintTerm: Term(1))))
    }

    @Test("§5.4.2 a leader never commits an entry of an earlier term by counting replicas")
    func noCommitOfOldTermByCounting() {
        var options = TestCluster.defaultOptions
        options.preVote = false
        options.checkQuorum = false
        options.maxEntriesPerAppend = 1
        var cluster = TestCluster(3, options: options)
        // Node 1 holds 2@1 that no one else has; it wins term 3 with node 2's vote.
        let configuration = Configuration(voters: [TestCluster.id(1), TestCluster.id(2), TestCluster.id(3)])
        var older = PersistentState.bootstrap(configuration: configuration)
        older.hardState = HardState(term: Term(2), vote: nil, commit: LogIndex(1))
        older.entries = [Entry(term: Term(1), index: LogIndex(1), payload: .noop)]
        var longer = older
        longer.entries.append(Entry(term: Term(1), index: LogIndex(2), payload: .command([5])))
        cluster.nodes[TestCluster.id(1)] = RaftNode(id: TestCluster.id(1), options: options, persisted: longer, randomSeed: 1)
        cluster.nodes[TestCluster.id(2)] = RaftNode(id: TestCluster.id(2), options: options, persisted: older, randomSeed: 2)
        cluster.disks[TestCluster.id(1)] = longer
        cluster.disks[TestCluster.id(2)] = older
        cluster.isolate(3)
        cluster.tick(1, times: 20)
        cluster.deliver(where: { $0.body.isVote }, dropOthers: true)
        cluster.deliver(where: { $0.body.isVoteResponse })
        #expect(cluster[1].role == .leader && cluster[1].term == Term(3))
        cluster.deliver(where: { $0.body.isAppend })  // prev 2@1: rejected with a hint.
        cluster.deliver(where: { $0.body.isAppendResponse })  // Leader backs up and sends 2@1 alone.
        cluster.deliver(where: { $0.body.isAppend })
        cluster.deliver(where: { $0.body.isAppendResponse })  // Nodes 1 and 2 now both hold 2@1.
        #expect(cluster.disks[TestCluster.id(2)]!.entries.count == 2)
        #expect(cluster[1].commitIndex == LogIndex(1))
        cluster.stabilize()  // Once 3@3 is on a majority, it commits and carries 2@1 with it.
        #expect(cluster[1].commitIndex == LogIndex(3))
    }

    @Test("a proposal beyond the uncommitted-bytes budget is refused, not dropped")
    func uncommittedLimit() {
        var options = TestCluster.defaultOptions
        options.maxUncommittedBytes = 100
        var cluster = TestCluster(3, options: options)
        cluster.elect(1)
        cluster.isolate(1)
        var outcomes: [ProposalOutcome] = []
        for _ in 0..<5 { outcomes.append(cluster[1].propose([UInt8](repeating: 0, count: 30))) }
        #expect(outcomes.contains { if case .refused(.uncommittedLimit) = $0 { true } else { false } })
    }

    @Test("a command larger than a message is refused")
    func tooLarge() {
        var options = TestCluster.defaultOptions
        options.maxBytesPerAppend = 64
        var cluster = TestCluster(3, options: options)
        cluster.elect(1)
        #expect(cluster[1].propose([UInt8](repeating: 0, count: 100)) == .refused(.tooLarge(bytes: 116, limit: 64)))
    }

    @Test("options reject a heartbeat not below the election timeout and planted faults")
    func optionsValidate() {
        var options = RaftOptions()
        options.heartbeatTicks = 10
        #expect(throws: RaftOptions.Invalid.heartbeatNotBelowElection(heartbeatTicks: 10, electionTimeoutTicks: 10)) {
            try options.validate()
        }
        options = RaftOptions()
        options.faults = [.voteBeforePersisting]
        #expect(throws: RaftOptions.Invalid.faultsInProduction) { try options.validate() }
    }
}
