// Goal: a backup taken when Raft's newest applied entry is not a registry command (a membership change, a new
// leader's empty entry) restores: the registry's own index is then below the backup's applied index. Found by
// the etcdctl interop check (`snapshot save` right after `member remove`: "the state is at index 94 … but the
// backup records index 95"). Method: verify backups against a state built by applying commands directly.
import Registry
@testable import RosterServer
import Storage
import Testing

@Suite("Backup verification")
struct BackupVerifyTests {
    static func backup(of state: RegistryState, appliedIndex: UInt64) throws -> Backup {
        Backup(
            clusterID: 1, memberName: "n1", appliedIndex: appliedIndex, appliedTerm: 2, revision: state.revision.rawValue,
            compactedRevision: 0, stateHash: try state.stateHash().hash, members: [], registryData: state.snapshotBytes())
    }

    static var state: RegistryState {
        var state = RegistryState()
        _ = state.apply(.put(PutRequest(key: Array("k".utf8), value: [1])), at: 3)
        return state
    }

    @Test("entries after the last registry command (membership, empty entries) do not make a backup unusable")
    func appliedIndexPastRegistryIndex() throws {
        try BackupRestore.verify(Self.backup(of: Self.state, appliedIndex: 5), path: "b.snap", limits: .standard)
        try BackupRestore.verify(Self.backup(of: Self.state, appliedIndex: 3), path: "b.snap", limits: .standard)
    }

    @Test("a state newer than the index the backup records is refused")
    func registryPastAppliedIndex() throws {
        let backup = try Self.backup(of: Self.state, appliedIndex: 2)
        #expect(throws: RestoreError.self) { try BackupRestore.verify(backup, path: "b.snap", limits: .standard) }
    }
}
