// Goal: a published view of the applied state answers only while nothing its answers depend on has changed, a
// new view is published only when a read asked for one, and a view never answers while the node may not serve
// local reads or is shutting down. The simulator checks the promise this keeps (read your writes) with planted
// fault `stale-local-view`; these tests pin the gate's own rules.
import Raft
import Registry
import RosterNode
import Testing

@Suite("Local read gate")
struct LocalReadGateTests {
    static func key(applied: UInt64, revision: Int64 = 1, allowsLocalReads: Bool = true, shuttingDown: Bool = false)
        -> LocalReadGate.Key
    {
        LocalReadGate.Key(
            appliedIndex: applied, revision: Revision(revision), leader: NodeID(rawValue: 1), term: Term(rawValue: 2),
            allowsLocalReads: allowsLocalReads, isShuttingDown: shuttingDown)
    }

    @Test("a view answers until the state it was taken of changes")
    func generationFollowsState() {
        var gate = LocalReadGate()
        #expect(gate.takePublication() == nil, "nothing to publish before the node's state is known")
        gate.note(Self.key(applied: 5))
        let published = gate.takePublication()
        #expect(published == gate.generation)
        #expect(LocalReadGate.answers(viewGeneration: gate.generation, current: gate.generation))

        gate.note(Self.key(applied: 5))  // A Ready that changed nothing (a heartbeat).
        #expect(gate.generation == published, "no new generation without a change")
        #expect(gate.takePublication() == nil, "the published view is current")

        gate.note(Self.key(applied: 6))  // An applied entry, even one that leaves the revision as it was.
        #expect(gate.generation != published)
        #expect(!LocalReadGate.answers(viewGeneration: published!, current: gate.generation))
    }

    @Test("a new view is published only when a read asked for one")
    func publicationOnDemand() {
        var gate = LocalReadGate()
        gate.note(Self.key(applied: 1))
        #expect(gate.takePublication() != nil)
        gate.note(Self.key(applied: 2, revision: 2))
        #expect(gate.takePublication() == nil, "writes alone do not make the node copy its state")
        gate.isViewWanted = true
        #expect(gate.takePublication() == gate.generation)
        #expect(gate.takePublication() == nil, "one view per request")
    }

    @Test("every part of the key starts a new generation", arguments: [
        LocalReadGate.Key(appliedIndex: 1, revision: Revision(2), leader: NodeID(rawValue: 1), term: Term(rawValue: 2), allowsLocalReads: true),
        LocalReadGate.Key(appliedIndex: 1, revision: Revision(1), leader: NodeID(rawValue: 3), term: Term(rawValue: 2), allowsLocalReads: true),
        LocalReadGate.Key(appliedIndex: 1, revision: Revision(1), leader: nil, term: Term(rawValue: 2), allowsLocalReads: true),
        LocalReadGate.Key(appliedIndex: 1, revision: Revision(1), leader: NodeID(rawValue: 1), term: Term(rawValue: 3), allowsLocalReads: true),
        LocalReadGate.Key(appliedIndex: 1, revision: Revision(1), leader: NodeID(rawValue: 1), term: Term(rawValue: 2), allowsLocalReads: false),
        LocalReadGate.Key(
            appliedIndex: 1, revision: Revision(1), leader: NodeID(rawValue: 1), term: Term(rawValue: 2), allowsLocalReads: true,
            isShuttingDown: true),
        LocalReadGate.Key(
            appliedIndex: 1, revision: Revision(1), leader: NodeID(rawValue: 1), term: Term(rawValue: 2), allowsLocalReads: true,
            isSoleVoterCaughtUp: true),
    ])
    func everyFieldCounts(changed: LocalReadGate.Key) {
        var gate = LocalReadGate()
        gate.note(Self.key(applied: 1))
        let before = gate.generation
        gate.note(changed)
        #expect(gate.generation == before + 1)
    }

    @Test("only a caught-up sole voter answers linearizable reads from its state")
    func linearizableOnlyOnSoleVoter() {
        func caughtUp(leader: Bool = true, voters: [UInt64] = [1], commit: UInt64 = 9, last: UInt64 = 9, applied: UInt64 = 9) -> Bool {
            LocalReadGate.Key.isSoleVoterCaughtUp(
                isLeader: leader, id: NodeID(rawValue: 1), voters: voters.map { NodeID(rawValue: $0) },
                commit: LogIndex(rawValue: commit), last: LogIndex(rawValue: last), applied: LogIndex(rawValue: applied))
        }
        #expect(caughtUp())
        #expect(!caughtUp(voters: [1, 2]), "another voter")
        #expect(!caughtUp(voters: [2]), "another node is the voter")
        #expect(!caughtUp(commit: 8, applied: 8), "an entry not committed yet")
        #expect(!caughtUp(applied: 8), "an entry not applied yet")
        #expect(!caughtUp(leader: false), "not the leader")
        var key = Self.key(applied: 9)
        key.isSoleVoterCaughtUp = true
        #expect(LocalReadGate.answersLinearizable(key))
        key.allowsLocalReads = false
        #expect(!LocalReadGate.answersLinearizable(key), "fenced")
        key.allowsLocalReads = true
        key.isShuttingDown = true
        #expect(!LocalReadGate.answersLinearizable(key), "shutting down")
    }

    @Test("no view answers while local reads are fenced or the node shuts down")
    func fencedStates() {
        #expect(LocalReadGate.mayAnswer(Self.key(applied: 1)))
        #expect(!LocalReadGate.mayAnswer(Self.key(applied: 1, allowsLocalReads: false)))
        #expect(!LocalReadGate.mayAnswer(Self.key(applied: 1, shuttingDown: true)))
    }
}
