// Goal: the registry is a deterministic replicated state machine: replicas that apply the same commands
// agree on state, state hash and snapshot bytes; a snapshot restored at any point continues identically;
// watches replay exactly the suffix of the event sequence (or resync when compacted); transactions are
// all or nothing at one revision. Method: seeded random command sequences over a small key space (so
// that commands collide and many are rejected) with small history limits (so that compaction happens),
// each property checked against an independent computation; a failing seed is printed by the argument.
import Codec
import Registry
import Testing

@Suite("Replica properties")
struct ReplicaPropertyTests {
    static let seeds: [UInt64] = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89]
    static let filters: [WatchFilter] = [
        .all, .prefix(bytes("a")), .key(bytes("ab")), .service(namespace: "prod", service: "pay"),
        .prefix(bytes("dev/")),
    ]

    @Test("replicas that apply the same commands end with identical state, hash and snapshot bytes", arguments: seeds)
    func replicasAgree(seed: UInt64) throws {
        let limits = smallLimits()
        var generator = CommandGenerator(seed: seed)
        let commands = generator.commands(400, limits: limits)
        var first = Harness(limits: limits)
        var second = Harness(limits: limits)
        var causes: Set<RegistryEvent.Cause> = []
        var applied = 0
        for command in commands {
            // The second replica receives the command through its log encoding, as a follower does.
            let decoded = try RegistryCommand.decode(command.encoded(), limits: limits)
            #expect(decoded == command)
            let result = first.apply(command)
            #expect(result == second.apply(decoded))
            first.state.checkInvariants()
            if result.rejection == nil { applied += 1 }
            causes.formUnion(result.events.map(\.cause))
        }
        // The generator must exercise the interesting paths, not just produce rejections.
        #expect(applied > commands.count / 3)
        #expect(causes.isSuperset(of: [.put, .delete, .registered, .deregistered]), "causes seen: \(causes)")
        #expect(!causes.isDisjoint(with: [.leaseRevoked, .leaseExpired]), "causes seen: \(causes)")
        #expect(first.state == second.state)
        #expect(try first.state.stateHash() == second.state.stateHash())
        #expect(first.state.snapshotBytes() == second.state.snapshotBytes())
        #expect(first.state.revision > Revision(20), "the sequence should write")
        #expect(first.state.compactedRevision > .zero, "the sequence should compact")
    }

    @Test("snapshot then restore at any point continues identically", arguments: seeds)
    func restoreContinues(seed: UInt64) throws {
        let limits = smallLimits()
        var generator = CommandGenerator(seed: seed)
        let commands = generator.commands(300, limits: limits)
        var original = Harness(limits: limits)
        for (position, command) in commands.enumerated() {
            original.apply(command)
            guard position % 23 == 0 else { continue }
            let snapshot = original.state.snapshotBytes()
            var restored = Harness(limits: limits)
            restored.state = try RegistryState.restore(from: snapshot, limits: limits)
            restored.nextIndex = original.nextIndex
            restored.state.checkInvariants()
            #expect(restored.state == original.state)
            #expect(restored.state.snapshotBytes() == snapshot)
            var continued = original
            for later in commands[(position + 1)...] {
                #expect(continued.apply(later) == restored.apply(later))
            }
            #expect(restored.state == continued.state)
            #expect(restored.state.snapshotBytes() == continued.state.snapshotBytes())
        }
    }

    @Test("a watch from any revision replays the matching suffix of the event sequence, or resyncs", arguments: seeds)
    func watchReplay(seed: UInt64) throws {
        let limits = smallLimits()
        var generator = CommandGenerator(seed: seed)
        var harness = Harness(limits: limits)
        var allEvents: [RegistryEvent] = []
        for (position, command) in generator.commands(300, limits: limits).enumerated() {
            let result = harness.apply(command)
            allEvents += result.events
            if position % 50 == 49 { try checkWatches(harness.state, allEvents: allEvents) }
        }
        try checkWatches(harness.state, allEvents: allEvents)
    }

    private func checkWatches(_ state: RegistryState, allEvents: [RegistryEvent]) throws {
        #expect(allEvents.map(\.revision) == allEvents.map(\.revision).sorted())
        for filter in Self.filters {
            for start in 0...state.revision.rawValue {
                let after = Revision(start)
                let expected = allEvents.filter { $0.revision > after && filter.matches($0.key) }
                if after < state.compactedRevision {
                    guard case .resync(let records, let revision) = try state.events(after: after, matching: filter)
                    else {
                        Issue.record("expected a resync after \(after), compacted at \(state.compactedRevision)")
                        continue
                    }
                    #expect(revision == state.revision)
                    #expect(records == replay(allEvents, filter: filter))
                    continue
                }
                var collected: [RegistryEvent] = []
                var cursor = after
                while true {
                    guard case .events(let events, let through) = try state.events(after: cursor, matching: filter, limit: 2)
                    else {
                        Issue.record("unexpected resync after \(cursor)")
                        break
                    }
                    #expect(through > cursor || (events.isEmpty && through == state.revision))
                    #expect(events.allSatisfy { $0.revision > cursor && $0.revision <= through })
                    collected += events
                    if through == state.revision { break }
                    cursor = through
                }
                #expect(collected == expected, "filter \(filter) after \(after)")
            }
        }
    }

    /// The key space rebuilt from nothing but the events: what a resync must equal.
    private func replay(_ events: [RegistryEvent], filter: WatchFilter) -> [KeyValue] {
        var keys: [[UInt8]: KeyValue] = [:]
        for event in events { keys[event.key] = event.current }
        return keys.values.filter { filter.matches($0.key) }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }

    @Test("transactions are atomic: all operations at one revision, or nothing", arguments: seeds)
    func transactionsAreAtomic(seed: UInt64) throws {
        let limits = smallLimits()
        var generator = CommandGenerator(seed: seed)
        var harness = Harness(limits: limits)
        var transactions = 0
        for command in generator.commands(400, limits: limits) {
            let before = harness.state
            let result = harness.apply(command)
            guard case .transaction = command else { continue }
            transactions += 1
            switch result {
            case .rejected:
                // Not the snapshot's size: it records the applied log index, which every command advances (a
                // rejected one too) and whose varint grows a byte at 128.
                #expect(harness.state.revision == before.revision)
                #expect(try harness.state.stateHash() == before.stateHash())
            case .applied(let applied):
                let expected = applied.events.isEmpty ? before.revision : before.revision.next
                #expect(applied.revision == expected)
                #expect(applied.events.allSatisfy { $0.revision == expected })
            }
        }
        #expect(transactions > 10)
    }

    static let historicalReads: [RangeRequest] = [
        RangeRequest(.prefix([])), RangeRequest(.prefix(bytes("a")), limit: 2), RangeRequest(.key(bytes("ab"))),
        RangeRequest(.interval(start: bytes("b"), end: bytes("prod/y")), keysOnly: true),
        RangeRequest(.fromKey(bytes("c")), countOnly: true),
    ]

    @Test("hashes and reads at an older revision equal those taken when the state was there", arguments: seeds)
    func historicalReads(seed: UInt64) throws {
        let limits = smallLimits()
        var generator = CommandGenerator(seed: seed)
        var harness = Harness(limits: limits)
        var hashes: [Revision: StateHash] = [:]
        var reads: [Revision: [RangeResult]] = [:]
        var checked = 0
        for (position, command) in generator.commands(300, limits: limits).enumerated() {
            harness.apply(command)
            hashes[harness.state.revision] = try harness.state.stateHash()
            reads[harness.state.revision] = try Self.historicalReads.map { request throws(RegistryRejection) in
                try harness.state.range(request)
            }
            guard position % 10 == 9 else { continue }
            // Every revision still in the window must read back exactly as it read then.
            for revision in hashes.keys.sorted() where revision >= harness.state.compactedRevision {
                #expect(try harness.state.stateHash(atRevision: revision).hash == hashes[revision]?.hash)
                for (offset, request) in Self.historicalReads.enumerated() {
                    #expect(try harness.state.range(request, atRevision: revision) == reads[revision]?[offset])
                }
                checked += 1
            }
        }
        #expect(checked > 50)
        let below = Revision(harness.state.compactedRevision.rawValue - 1)
        #expect(throws: RegistryRejection.compactedRevision(below, compacted: harness.state.compactedRevision)) {
            try harness.state.range(RangeRequest(.prefix([])), atRevision: below)
        }
    }
}
