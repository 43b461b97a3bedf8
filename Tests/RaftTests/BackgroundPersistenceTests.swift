// Goal: a Ready persisted in the background (`Ready.persistsInBackground`) keeps the Ready contract: entries are
// handed out once, nothing applies before it is durable here, and a leader counts its own entries only once they
// are. (Writes a new leader's entries replaced meanwhile are the simulator's: `writes:background` seeds.)
// Method: bare `RaftNode`s; the test plays the shell and decides when each background write finishes.
import Raft
import Testing

@Suite("Background persistence")
struct BackgroundPersistenceTests {
    @Test("a lone voter commits and applies its entry only once the background write finished")
    func loneVoterWaitsForItsWrite() {
        var cluster = TestCluster(1)
        cluster.tick(1, times: 20)
        #expect(cluster[1].role == .leader)
        _ = cluster[1].propose([9])
        let ready = cluster[1].drainReady(persistingInBackground: true)
        #expect(ready.persistsInBackground)
        #expect(ready.entriesToAppend.map(\.index) == [LogIndex(2)])
        cluster[1].advance(past: ready)
        // Handed out once: the next Ready does not write it again, and nothing applies meanwhile.
        #expect(!cluster[1].hasReady)
        #expect(cluster[1].commitIndex == LogIndex(1))
        cluster.persist(ready, on: TestCluster.id(1))
        cluster[1].persisted(through: LogIndex(2), term: Term(1))
        #expect(cluster[1].commitIndex == LogIndex(2))
        let next = cluster[1].drainReady(persistingInBackground: true)
        #expect(next.committedEntries.commands == [[9]])
        #expect(next.entriesToAppend.isEmpty)
        cluster[1].advance(past: next)
    }

    @Test("a leader whose own write is still running commits on its followers' acknowledgements but applies later")
    func leaderAppliesOnlyWhatItHolds() {
        var cluster = TestCluster(3)
        cluster.elect(1)
        cluster.tick(1)
        cluster.stabilize()
        let leader = TestCluster.id(1)
        _ = cluster[1].propose([5])
        let ready = cluster[1].drainReady(persistingInBackground: true)
        let index = ready.entriesToAppend.last!.index
        cluster.inFlight += ready.messages
        cluster[1].advance(past: ready)
        // Both followers persist in place and acknowledge.
        cluster.stabilize()
        #expect(cluster[1].commitIndex == index)
        #expect(cluster.applied[leader]?.commands.contains([5]) != true)
        let beforeWrite = cluster[1].drainReady(persistingInBackground: true)
        #expect(beforeWrite.committedEntries.isEmpty)
        cluster[1].advance(past: beforeWrite)
        cluster.persist(ready, on: leader)
        cluster[1].persisted(through: index, term: ready.entriesToAppend.last!.term)
        let afterWrite = cluster[1].drainReady(persistingInBackground: true)
        #expect(afterWrite.committedEntries.commands == [[5]])
        cluster[1].advance(past: afterWrite)
    }
}
