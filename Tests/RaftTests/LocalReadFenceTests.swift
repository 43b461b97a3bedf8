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

    @Test("a node whose uncommitted log tail is replaced lifts its fence with its own read index")
    func fenceLiftsWithReadIndex() {
        var options = TestCluster.defaultOptions
        options.checkQuorum = false
        var cluster = TestCluster(3, options: options)
        cluster.elect(1)
        _ = cluster[1].propose([1])
        cluster.stabilize()
        // The leader appends entries nobody else receives, so they never commit.
        cluster.isolate(1)
        for value in 2...6 { _ = cluster[1].propose([UInt8(value)]) }
        cluster.stabilize()
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
        #expect(!shellResults.contains { $0.requestID == RaftNode.localReadFenceRequestID })
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
