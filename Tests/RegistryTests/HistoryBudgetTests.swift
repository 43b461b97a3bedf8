// Goal: the watch history's byte budget (`RegistryLimits.historyBytes`) bounds memory without losing
// anything a watcher needs: whole revisions are dropped, the running byte count matches the events, a
// watcher that falls out of the window gets a resync and, with the events after it, ends with exactly
// the key space; a snapshot restored under a smaller budget compacts instead of refusing to start.
// Method: small budgets against large values, a mirror that a polling watcher keeps from resyncs and
// events and that must equal the state at the end, over seeded random writes.
import Registry
import Testing

@Suite("History byte budget")
struct HistoryBudgetTests {
    private func budget(_ bytes: Int) -> RegistryLimits {
        var limits = RegistryLimits()
        limits.historyBytes = bytes
        return limits
    }

    @Test("the history stays within the byte budget, dropping whole revisions")
    func boundedByBytes() throws {
        var harness = Harness(limits: budget(3_000))
        let large = String(repeating: "x", count: 400)
        harness.grant(1)
        for key in ["a", "b", "c"] { harness.put(key, large, lease: 1) }
        harness.apply(.revokeLease(1))  // one revision with three deletes of ~470 bytes each
        for round in 0..<4 { harness.put("d\(round)", "small") }
        harness.state.checkInvariants()
        #expect(harness.state.historyBytes <= 3_000)
        #expect(harness.state.compactedRevision > 0)
        guard case .events(let events, _) = try harness.state.events(after: harness.state.compactedRevision, matching: .all)
        else { Issue.record("expected events"); return }
        #expect(events.reduce(0) { $0 + $1.retainedBytes } == harness.state.historyBytes)
        // The revoke's revision is either whole or gone.
        #expect([0, 3].contains(events.filter { $0.kind == .delete }.count))
        #expect(events.first?.revision == Revision(harness.state.compactedRevision.rawValue + 1))
    }

    @Test("one revision larger than the budget is dropped as a whole; a watch from before it resyncs")
    func revisionOverBudget() throws {
        var harness = Harness(limits: budget(1_000))
        harness.put("before", "1")
        harness.grant(1)
        for key in ["a", "b", "c", "d"] { harness.put(key, String(repeating: "y", count: 300), lease: 1) }
        harness.apply(.revokeLease(1))
        harness.state.checkInvariants()
        #expect(harness.state.historyCount == 0)
        #expect(harness.state.compactedRevision == harness.state.revision)
        guard case .resync(let keyValues, let revision) = try harness.state.events(after: 1, matching: .all)
        else { Issue.record("expected a resync"); return }
        #expect(keyValues.map(\.key) == [bytes("before")])
        #expect(revision == harness.state.revision)
    }

    @Test("a polling watcher under a tiny budget ends with exactly the key space", arguments: [UInt64(1), 2, 3])
    func watcherMissesNothing(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var harness = Harness(limits: budget(2_500))
        var mirror: [[UInt8]: KeyValue] = [:]
        var seen = Revision.zero
        var resyncs = 0
        let keys = (0..<12).map { "k\($0)" }
        for step in 0..<600 {
            let key = keys[Int.random(in: 0..<keys.count, using: &random)]
            if Int.random(in: 0..<4, using: &random) == 0 {
                harness.apply(.deleteRange(DeleteRangeRequest(.key(bytes(key)))))
            } else {
                harness.put(key, String(repeating: "v", count: Int.random(in: 1..<300, using: &random)))
            }
            // Poll at irregular intervals, sometimes long enough to fall out of the window.
            guard Int.random(in: 0..<(step % 50 < 25 ? 2 : 40), using: &random) == 0 else { continue }
            switch try harness.state.events(after: seen, matching: .all, limit: 1_000_000) {
            case .resync(let keyValues, let revision):
                #expect(seen < harness.state.compactedRevision, "resync only below the window")
                resyncs += 1
                mirror = Dictionary(uniqueKeysWithValues: keyValues.map { ($0.key, $0) })
                seen = revision
            case .events(let events, let through):
                for event in events {
                    #expect(event.revision > seen, "no event twice")
                    #expect(event.previous == mirror[event.key], "previous value matches what the watcher had")
                    mirror[event.key] = event.current
                }
                seen = through
            }
        }
        harness.state.checkInvariants()
        #expect(harness.state.historyBytes <= 2_500)
        #expect(resyncs > 0, "the scenario must exercise the resync path")
        guard case .events(let events, _) = try harness.state.events(after: seen, matching: .all, limit: 1_000_000) else {
            // Fell behind on the last stretch: a final resync is the whole state.
            return
        }
        for event in events { mirror[event.key] = event.current }
        let state = try harness.state.range(RangeRequest(.prefix([]))).keyValues
        #expect(mirror.values.sorted { $0.key.lexicographicallyPrecedes($1.key) } == state)
    }

    @Test("releasing spare capacity after a burst changes no content, hash, snapshot or watch")
    func releaseSpareCapacity() throws {
        var harness = Harness()
        harness.grant(1)
        for number in 0..<2_000 { harness.put("k\(number)", String(repeating: "w", count: 50), lease: number < 1_990 ? 1 : nil) }
        harness.apply(.revokeLease(1))
        let before = harness.state
        harness.state.releaseSpareCapacity()
        harness.state.checkInvariants()
        #expect(harness.state == before)
        #expect(try harness.state.stateHash() == before.stateHash())
        #expect(harness.state.snapshotBytes() == before.snapshotBytes())
        #expect(try harness.state.events(after: 0, matching: .all) == before.events(after: 0, matching: .all))
        // And it keeps working as before afterwards.
        harness.put("k0", "again")
        #expect(harness.get("k0")?.version == 1)
        #expect(harness.state.revision == before.revision.next)
    }

    @Test("a snapshot restored under a smaller budget compacts to it instead of refusing")
    func restoreUnderSmallerBudget() throws {
        var harness = Harness()
        for round in 0..<40 { harness.put("k\(round % 5)", String(repeating: "z", count: 200)) }
        let snapshot = harness.state.snapshotBytes()
        let restored = try RegistryState.restore(from: snapshot, limits: budget(2_000))
        restored.checkInvariants()
        #expect(restored.historyBytes <= 2_000)
        #expect(restored.compactedRevision > harness.state.compactedRevision)
        #expect(try restored.stateHash() == harness.state.stateHash().withCompaction(restored.compactedRevision))
        // With the same limits, restore changes nothing.
        #expect(try RegistryState.restore(from: snapshot, limits: .standard) == harness.state)
    }
}

extension StateHash {
    fileprivate func withCompaction(_ revision: Revision) -> StateHash {
        var hash = self
        hash.compactedRevision = revision
        return hash
    }
}
