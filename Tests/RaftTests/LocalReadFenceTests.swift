// Goal: a node whose commit-only hard state was lost in a crash (it is written without an fsync)
// never offers local reads of older state than it applied before, and the fence lifts by itself.
// Method: a hand-driven `TestCluster`; the lost write is modelled by lowering the persisted commit
// index before the restart, as a machine crash would leave it.
import Raft
import Testing

@Suite("Local reads after a restart")
struct LocalReadFenceTests {
    @Test("a node restarted with its commit index behind its log refuses local reads until it applies its log's end")
    func fenceLiftsAtBootLastIndex() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        _ = cluster[1].propose([1])
        _ = cluster[1].propose([2])
        cluster.stabilize()
        let appliedBefore = cluster[2].appliedIndex
        #expect(appliedBefore == LogIndex(3))
        #expect(cluster[2].allowsLocalReads)

        cluster.disks[TestCluster.id(2)]!.hardState.commit = LogIndex(1)
        cluster.crashAndRestart(2)
        cluster.flush()
        #expect(cluster[2].appliedIndex < appliedBefore)
        #expect(!cluster[2].allowsLocalReads)
        #expect(!cluster[2].status.allowsLocalReads)

        cluster.tick(1)
        cluster.stabilize()
        #expect(cluster[2].appliedIndex >= appliedBefore)
        #expect(cluster[2].allowsLocalReads)
    }

    /// Node 1 led, then appended entries nobody else received (isolated), so they never commit: restarted, it is
    /// fenced at its log's end, which the others' log will not reach.
    static func leaderWithUncommittedTail() -> TestCluster {
        var options = TestCluster.defaultOptions
        options.checkQuorum = false
        var cluster = TestCluster(3, options: options)
        cluster.elect(1)
        _ = cluster[1].propose([1])
        cluster.stabilize()
        cluster.isolate(1)
        for value in 2...6 { _ = cluster[1].propose([UInt8(value)]) }
        cluster.stabilize()
        return cluster
    }

    @Test("a node whose uncommitted log tail is replaced lifts its fence with its own read index")
    func fenceLiftsWithReadIndex() {
        var cluster = Self.leaderWithUncommittedTail()
        let bootLast = cluster[1].lastIndex
        #expect(bootLast > cluster[1].commitIndex)

        cluster.crashAndRestart(1)
        cluster.flush()
        #expect(!cluster[1].allowsLocalReads)
        cluster.elect(2)
        cluster.heal()
        cluster.tick(2)
        cluster.stabilize()
        // Node 1's tail was replaced by node 2's shorter log: applying to the boot last index would
        // wait for new writes, so the node's own read index lifts the fence instead.
        #expect(cluster[1].leader == TestCluster.id(2))
        #expect(cluster[1].lastIndex < bootLast)
        cluster.tick(1)
        cluster.stabilize()
        #expect(cluster[1].allowsLocalReads)
        // That read is the node's own business: the shell never sees it.
        let shellResults = cluster.readResults[TestCluster.id(1)] ?? []
        #expect(!shellResults.contains { $0.requestID == cluster[1].localReadFenceRequestID })
    }

    @Test("an answer to the fence read of a node's earlier start does not lift the fence of this start")
    func earlierStartsFenceAnswerIgnored() {
        var cluster = Self.leaderWithUncommittedTail()
        cluster.crashAndRestart(1, randomSeed: 7)
        let earlierStart = cluster[1].localReadFenceRequestID
        cluster.crashAndRestart(1, randomSeed: 8)
        #expect(cluster[1].localReadFenceRequestID != earlierStart)
        #expect(cluster[1].localReadFenceRequestID >= 1 << 63)
        cluster.elect(2)
        cluster.heal()
        cluster.tick(2)
        // Node 1 learns the leader and sends its own fence read; held back, while the earlier start's answer, with
        // a commit index from before the crash, arrives.
        cluster.deliver(where: { !($0.to == TestCluster.id(2) && $0.body.isReadIndex) })
        cluster.tick(1)
        #expect(!cluster.pending { $0.isReadIndex }.isEmpty, "this start's fence read is in flight")
        cluster[1].step(Message(from: TestCluster.id(2), to: TestCluster.id(1), term: cluster[2].term, body: .readIndexResponse(requestID: earlierStart, index: LogIndex(1))))
        cluster.flush()
        #expect(!cluster[1].allowsLocalReads)
        cluster.stabilize()
        #expect(cluster[1].allowsLocalReads, "this start's own fence read lifts it")
    }

    @Test("a node restarted with a durable commit index at its log's end allows local reads at once")
    func noFenceWhenCommitIsDurable() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        _ = cluster[1].propose([1])
        cluster.stabilize()
        cluster.crashAndRestart(2)
        #expect(cluster[2].allowsLocalReads)
    }
}
