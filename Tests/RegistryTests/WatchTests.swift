// Goal: watches over the bounded history: events by key, prefix or service from a revision, with
// previous values and instance causes; batches never split a revision; progress notifications; a start
// below the compaction point gets a resync instead of an error; compaction manual and automatic.
// Method: small scenarios whose full event sequence is known, read back through `events(after:)`.
import Registry
import Testing

@Suite("Watches")
struct WatchTests {
    @Test("events after a revision carry type, key, value, previous value, revision and cause")
    func eventFields() throws {
        var harness = Harness()
        harness.put("a", "1")
        harness.put("a", "2")
        harness.apply(.deleteRange(DeleteRangeRequest(.key(bytes("a")))))
        guard case .events(let events, let through) = try harness.state.events(after: 1, matching: .key(bytes("a")))
        else { Issue.record("expected events"); return }
        #expect(through == 3)
        #expect(events.map(\.kind) == [.put, .delete])
        #expect(events[0].current?.value == bytes("2") && events[0].previous?.value == bytes("1"))
        #expect(events[1].current == nil && events[1].previous?.value == bytes("2"))
        #expect(events.map(\.revision) == [2, 3])
    }

    @Test("a service watch sees instance causes and nothing else")
    func serviceWatch() throws {
        var harness = Harness()
        harness.grant(1)
        harness.apply(.registerInstance(makeInstance("i-1", lease: 1)))
        harness.apply(.registerInstance(makeInstance("i-1", service: "other")))
        harness.apply(.updateInstance(InstanceUpdate(name: makeInstance("i-1").name, incarnation: 1, status: .draining)))
        harness.apply(.expireLeases([1]))
        let batch = try harness.state.events(after: 0, matching: .service(namespace: "prod", service: "payments"))
        guard case .events(let events, _) = batch else { Issue.record("expected events"); return }
        #expect(events.map(\.cause) == [.registered, .updated, .leaseExpired])
        #expect(events[0].isCreate && !events[1].isCreate)
    }

    @Test("with no new events a watch gets a progress notification at the current revision")
    func progress() throws {
        var harness = Harness()
        harness.put("a", "1")
        harness.put("b", "1")
        #expect(try harness.state.events(after: 1, matching: .key(bytes("a"))) == .events([], through: 2))
        #expect(try harness.state.events(after: 2, matching: .all) == .events([], through: 2))
    }

    @Test("a batch stops at a revision boundary and never splits a revision")
    func batchesKeepRevisionsWhole() throws {
        var harness = Harness()
        harness.put("a", "1")
        harness.grant(1)
        for key in ["x1", "x2", "x3"] { harness.put(key, "v", lease: 1) }
        harness.apply(.revokeLease(1))
        harness.put("b", "1")
        let first = try harness.state.events(after: 0, matching: .all, limit: 5)
        guard case .events(let events, let through) = first else { Issue.record("expected events"); return }
        #expect(events.count == 4 && through == 4)
        let second = try harness.state.events(after: through, matching: .all, limit: 1)
        guard case .events(let revoke, let after) = second else { Issue.record("expected events"); return }
        #expect(revoke.count == 3 && revoke.allSatisfy { $0.revision == 5 } && after == 5)
    }

    @Test("a watch from below the compaction point gets a resync of the matching state, then live events")
    func resync() throws {
        var harness = Harness()
        harness.put("a/1", "1")
        harness.put("a/2", "1")
        harness.put("b", "1")
        harness.apply(.deleteRange(DeleteRangeRequest(.key(bytes("a/1")))))
        harness.apply(.compact(3))
        let batch = try harness.state.events(after: 1, matching: .prefix(bytes("a/")))
        guard case .resync(let records, let revision) = batch else { Issue.record("expected a resync"); return }
        #expect(records.map(\.key) == [bytes("a/2")])
        #expect(revision == 4)
        harness.put("a/3", "1")
        guard case .events(let live, _) = try harness.state.events(after: revision, matching: .prefix(bytes("a/")))
        else { Issue.record("expected events"); return }
        #expect(live.map(\.key) == [bytes("a/3")])
        #expect(try harness.state.events(after: 3, matching: .all) != .resync([], revision: 5))
    }

    @Test("history is compacted automatically past the configured number of revisions")
    func automaticCompaction() throws {
        var limits = RegistryLimits()
        limits.historyRevisions = 10
        var harness = Harness(limits: limits)
        for round in 0..<25 { harness.put("k", "\(round)") }
        #expect(harness.state.compactedRevision == 15)
        #expect(harness.state.historyCount == 10)
        guard case .resync = try harness.state.events(after: 14, matching: .all) else {
            Issue.record("expected a resync")
            return
        }
    }

    @Test("history is compacted by whole revisions past the configured number of events")
    func eventBound() throws {
        var limits = RegistryLimits()
        limits.historyEvents = 4
        var harness = Harness(limits: limits)
        harness.grant(1)
        for key in ["a", "b", "c"] { harness.put(key, "v", lease: 1) }
        harness.apply(.revokeLease(1))
        #expect(harness.state.historyCount == 4)
        #expect(harness.state.compactedRevision == 2)
    }

    @Test("negative and future start revisions are typed rejections")
    func badRevisions() {
        var harness = Harness()
        harness.put("a", "1")
        #expect(throws: RegistryRejection.negativeRevision(-1)) { try harness.state.events(after: -1, matching: .all) }
        #expect(throws: RegistryRejection.futureRevision(2, current: 1)) { try harness.state.events(after: 2, matching: .all) }
        #expect(throws: RegistryRejection.invalidLimit(0)) { try harness.state.events(after: 0, matching: .all, limit: 0) }
    }

    @Test("compaction rejects future, negative and already-compacted revisions", arguments: [
        (Revision(9), RegistryRejection.futureRevision(9, current: 3)),
        (Revision(-2), .negativeRevision(-2)),
        (Revision(2), .compactedRevision(2, compacted: 2)),
    ])
    func compactRejections(target: Revision, rejection: RegistryRejection) {
        var harness = Harness()
        for key in ["a", "b", "c"] { harness.put(key, "v") }
        harness.apply(.compact(2))
        #expect(harness.apply(.compact(target)) == .rejected(rejection))
        #expect(harness.state.compactedRevision == 2)
    }
}
