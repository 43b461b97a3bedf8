// Goal: the NOSPACE alarm lives in the replicated state and refuses exactly the writes that add data.
// Method: commands applied to a real `RegistryState`; the allowed set checked command by command.
import Raft
import Registry
@testable import RosterNode
import Testing

@Suite("Alarm directory")
struct AlarmDirectoryTests {
    static let put = RegistryCommand.put(PutRequest(key: Array("k".utf8), value: [1]))

    @Test("a raised alarm is read back from the state, and a disarm clears it")
    func raiseAndDisarm() {
        var state = RegistryState()
        _ = state.apply(AlarmDirectory.raiseNoSpace(member: "n2"), at: 1)
        #expect(AlarmDirectory.alarms(in: state) == [AlarmDirectory.Alarm(member: "n2", kind: "NOSPACE")])
        #expect(AlarmDirectory.membersRefusing(Self.put, registry: state) == ["n2"])
        _ = state.apply(AlarmDirectory.disarmAll, at: 2)
        #expect(AlarmDirectory.alarms(in: state).isEmpty)
        #expect(AlarmDirectory.membersRefusing(Self.put, registry: state) == nil)
    }

    @Test("client deletes leave the alarm alone: its key is outside every range not starting with 0x01")
    func clientDeleteKeepsAlarm() {
        var state = RegistryState()
        _ = state.apply(AlarmDirectory.raiseNoSpace(member: "n1"), at: 1)
        _ = state.apply(.deleteRange(DeleteRangeRequest(.prefix([]))), at: 2)
        #expect(AlarmDirectory.alarms(in: state).count == 1)
    }

    @Test(
        "under NOSPACE, what only removes data or keeps leases going is allowed; what adds data is not",
        arguments: [
            (RegistryCommand.deleteRange(DeleteRangeRequest(.key(Array("k".utf8)))), true),
            (.revokeLease(LeaseID(1)), true),
            (.expireLeases([LeaseID(1)]), true),
            (.compact(Revision(1)), true),
            (AlarmDirectory.raiseNoSpace(member: "n1"), true),
            (AlarmDirectory.disarmAll, true),
            (.transaction(TransactionRequest(compares: [], success: [.deleteRange(DeleteRangeRequest(.key([1])))])), true),
            (AlarmDirectoryTests.put, false),
            (.grantLease(id: nil, ttlMilliseconds: 10_000, grantedAtMilliseconds: 0), false),
            (.transaction(TransactionRequest(compares: [], success: [], failure: [.put(PutRequest(key: [1], value: [1]))])), false),
        ])
    func allowedWithoutSpace(command: RegistryCommand, allowed: Bool) {
        #expect(AlarmDirectory.isAllowedWithoutSpace(command) == allowed)
    }
}
