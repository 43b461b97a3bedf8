// Goal: a crash loses only what was never reported durable, and recovery invents nothing. Method:
// a seeded random workload (appends, conflicting appends, hard states, syncs, snapshots, injected
// I/O failures) runs against a SimulatedFileSystem while a model tracks, record by record, every
// state the disk may legitimately hold: the last durable state and each state a prefix of the
// unsynced records would produce. At random points the disk crashes (dropping all unsynced data,
// or keeping a random torn prefix of it) and the recovered state must be one of those states.
import Raft
import Testing

@testable import Storage

/// What a node would read back: the snapshot point, the entries after it, the hard state.
struct ModelState: Equatable, CustomStringConvertible {
    var snapshotIndex: UInt64 = 0
    var snapshotTerm: UInt64 = 0
    var entries: [Entry] = []
    var hardState = HardState()

    var lastIndex: UInt64 { entries.last?.index.rawValue ?? snapshotIndex }

    init() {}

    init(_ state: PersistentState) {
        snapshotIndex = state.snapshot.metadata.index.rawValue
        snapshotTerm = state.snapshot.metadata.term.rawValue
        entries = state.entries
        hardState = state.hardState
    }

    func term(at index: UInt64) -> UInt64 {
        index == snapshotIndex ? snapshotTerm : entries[Int(index - snapshotIndex) - 1].term.rawValue
    }

    func rebased(index: UInt64, term: UInt64) -> ModelState {
        var next = self
        next.entries = entries.filter { $0.index.rawValue > index }
        next.snapshotIndex = index
        next.snapshotTerm = term
        return next
    }

    var description: String {
        "snap \(snapshotIndex)@\(snapshotTerm) entries \(entries.first?.index.rawValue ?? 0)...\(lastIndex) \(hardState)"
    }
}

@Suite("Crash recovery")
struct CrashRecoveryTests {
    @Test("unsynced appends vanish in a crash; synced ones survive")
    func unsyncedDataIsLost() throws {
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        try log.append(hardState: HardState(term: Term(1), commit: LogIndex(2)), entries: entries(1...3))
        #expect(try log.sync() == LogIndex(3))
        try log.append(hardState: HardState(term: Term(2), commit: LogIndex(3)), entries: entries(4...50, term: 2))
        fileSystem.crash()
        let (_, state) = try openLog(fileSystem)
        #expect(state.entries == entries(1...3))
        #expect(state.hardState == HardState(term: Term(1), commit: LogIndex(2)))
    }

    @Test("random workloads with random crashes keep everything durable and invent nothing", arguments: 0..<40)
    func randomWorkload(seed: UInt64) throws {
        var random = TestRandom(seed: seed)
        let fileSystem = SimulatedFileSystem()
        var (log, _) = try openLog(fileSystem)
        var durable = ModelState()
        var candidates = [durable]  // durable first, then one per unsynced record
        var term: UInt64 = 1
        for step in 0..<300 {
            var current = candidates[candidates.count - 1]
            switch random.next() % 100 {
            case 0..<45:
                var first = current.lastIndex + 1
                let floor = max(current.snapshotIndex, current.hardState.commit.rawValue)
                if random.next() % 5 == 0, current.lastIndex > floor {
                    first = floor + 1 + random.next() % (current.lastIndex - floor)
                    term += 1
                }
                let batch = entries(first...(first + random.next() % 6), term: term, size: Int(random.next() % 60))
                if first <= current.lastIndex {
                    current.entries.removeAll { $0.index.rawValue >= first }
                    candidates.append(current)
                }
                for item in batch {
                    current.entries.append(item)
                    candidates.append(current)
                }
                var hardState: HardState?
                if random.next() % 2 == 0 {
                    let commit = max(
                        current.hardState.commit.rawValue, current.lastIndex - min(current.lastIndex, random.next() % 3)
                    )
                    hardState = HardState(
                        term: Term(term), vote: NodeID(1 + random.next() % 3), commit: LogIndex(commit))
                    current.hardState = hardState!
                    candidates.append(current)
                }
                try log.append(hardState: hardState, entries: batch)
            case 45..<75:
                let injected = random.next() % 10 == 0
                if injected { fileSystem.failEveryOperation(afterOperations: Int(random.next() % 6)) }
                defer { fileSystem.clearFaults() }
                do {
                    #expect(try log.sync().rawValue == current.lastIndex)
                    durable = current
                    candidates = [current]
                } catch {
                    #expect(injected, "unexpected \(error)")
                    try crashAndCheck(fileSystem, &log, &durable, &candidates, seed: random.next(), step: step)
                }
            case 75..<83:
                let commit = current.hardState.commit.rawValue
                guard commit > current.snapshotIndex else { continue }
                let index = current.snapshotIndex + 1 + random.next() % (commit - current.snapshotIndex)
                let rebased = current.rebased(index: index, term: current.term(at: index))
                let injected = random.next() % 4 == 0
                if injected { fileSystem.failEveryOperation(afterOperations: Int(random.next() % 12)) }
                defer { fileSystem.clearFaults() }
                do {
                    try log.saveSnapshot(
                        snapshot(index: index, term: rebased.snapshotTerm, data: [UInt8(index & 0xFF)]))
                    durable = rebased
                    candidates = [rebased]
                } catch {
                    #expect(injected, "unexpected \(error)")
                    candidates.append(rebased)
                    try crashAndCheck(fileSystem, &log, &durable, &candidates, seed: random.next(), step: step)
                }
            case 83..<95:
                try crashAndCheck(fileSystem, &log, &durable, &candidates, seed: random.next(), step: step)
            default:
                try crashAndCheck(fileSystem, &log, &durable, &candidates, seed: nil, step: step)
            }
        }
    }

    private func crashAndCheck(
        _ fileSystem: SimulatedFileSystem, _ log: inout DurableLog, _ durable: inout ModelState,
        _ candidates: inout [ModelState], seed: UInt64?, step: Int
    ) throws {
        fileSystem.crash(keepingRandomPrefixOf: seed)
        let (reopened, state) = try openLog(fileSystem)
        let recovered = ModelState(state)
        if seed == nil {
            #expect(recovered == candidates[0], "step \(step): clean crash must recover exactly the durable state")
        } else {
            #expect(candidates.contains(recovered), "step \(step): recovered \(recovered), durable \(candidates[0])")
        }
        #expect(recovered.lastIndex >= min(candidates[0].lastIndex, candidates.map(\.lastIndex).min() ?? 0))
        log = reopened
        durable = recovered
        candidates = [recovered]
    }
}
