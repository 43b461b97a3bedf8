// Goal: the public API alone is enough for the deterministic simulator: each simulated node gets a
// SimulatedFileSystem, runs a DurableLog on it, is killed by a crash of its disk and boots again
// through real recovery, and the same seed gives the same outcome. Method: a plain (not
// @testable) import, two nodes on two disks, seeded torn crashes, and a replay of the same run.
import Raft
import Storage
import Testing

@Suite("Simulator entry point")
struct SimulatorEntryPointTests {
    /// One node's life: write, sync, write more, crash its disk with `seed`, boot again.
    static func run(seed: UInt64) throws -> [PersistentState] {
        let disks = [SimulatedFileSystem(), SimulatedFileSystem()]
        var states: [PersistentState] = []
        for (node, disk) in disks.enumerated() {
            let identity = StorageIdentity(clusterID: 42, memberID: UInt64(node + 1))
            var (log, _) = try DurableLog.open(directory: "/node", identity: identity, fileSystem: disk)
            let first = (1...20).map { Entry(term: Term(1), index: LogIndex($0), payload: .command([UInt8($0)])) }
            try log.append(hardState: HardState(term: Term(1), vote: NodeID(1), commit: LogIndex(5)), entries: first)
            let durable = try log.sync()
            let more = (21...40).map { Entry(term: Term(1), index: LogIndex($0), payload: .command([UInt8($0)])) }
            try log.append(entries: more)
            disk.crash(keepingRandomPrefixOf: seed &+ UInt64(node))
            let (_, state) = try DurableLog.open(directory: "/node", identity: identity, fileSystem: disk)
            #expect(state.entries.count >= Int(durable.rawValue))
            #expect(state.entries == Array((first + more).prefix(state.entries.count)))
            states.append(state)
        }
        return states
    }

    @Test("a node killed by a disk crash boots through recovery, the same way for the same seed", arguments: 0..<10)
    func deterministicCrash(seed: UInt64) throws {
        #expect(try Self.run(seed: seed) == Self.run(seed: seed))
    }
}
