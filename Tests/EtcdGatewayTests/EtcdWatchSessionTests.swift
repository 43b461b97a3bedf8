// Goal: one Watch stream behaves as etcd 3.4's watch server does for clientv3: creates answered in order with IDs
// from 0 (or the client's), refused creates still answered `created` (clientv3 waits for it), events only from the
// start revision with no duplicate and no gap however live publishes, lag and catch-up interleave, prev_kv,
// NOPUT/NODELETE, progress (-1) once caught up, and compacted starts cancelled with a compact_revision the client
// can re-watch from.
// Method: an `EtcdWatchSession` fed by a real `RegistryState`; the property test drives random writes, creates,
// cancels, lag and catch-up from a seed, publishes batches late (as the server does after applying several
// commands), and compares what every watch received with the oracle: every applied event it matches, from its start.
import EtcdAPI
@testable import EtcdGateway
import GRPC
import Raft
import Registry
import Testing

/// An event as a client sees it.
struct SeenEvent: Equatable, CustomStringConvertible {
    var revision: Int64
    var isPut: Bool
    var key: [UInt8]
    var value: [UInt8]
    var previous: [UInt8]?

    init(_ event: Event) {
        revision = event.kv?.modRevision ?? -1
        isPut = event.type == .put
        key = event.kv?.key ?? []
        value = event.kv?.value ?? []
        previous = event.prevKV?.value
    }

    init(_ event: RegistryEvent, prevKV: Bool) {
        revision = event.revision.rawValue
        isPut = event.kind == .put
        key = event.key
        value = event.current?.value ?? []
        previous = prevKV ? event.previous?.value : nil
    }

    var description: String { "\(revision)\(isPut ? "+" : "-")\(text(key))" }
}

/// A session and the registry feeding it.
struct WatchBench {
    var node: Node
    var session = EtcdWatchSession(context: testContext)

    /// One encoder for the whole bench, so its batch cache is hit across watches and publishes.
    var encoder = WatchResponseEncoder()

    init(limits: RegistryLimits = .standard) { node = Node(limits: limits) }

    /// `session.publish`, checking that the framed fan-out path (`publish(_:revision:registry:into:)`), run on a
    /// copy of the session, writes exactly these responses, gRPC-framed, and leaves the session in the same state.
    mutating func publish(_ events: [RegistryEvent], revision: Revision) -> [WatchResponse] {
        var framedSession = session
        framedSession.publish(events, revision: revision, registry: node.registry, into: &encoder)
        let responses = session.publish(events, revision: revision, registry: node.registry)
        var expected: [UInt8] = []
        for response in responses { GRPCMessageFramer.append(response.encoded(), to: &expected) }
        #expect(encoder.takeFramed() == expected, "revision \(revision)")
        #expect(framedSession.watchers.map { [$0.id, $0.delivered.rawValue] } == session.watchers.map { [$0.id, $0.delivered.rawValue] })
        #expect(framedSession.isProgressPending == session.isProgressPending)
        return responses
    }

    mutating func send(_ request: WatchRequest) -> [WatchResponse] { session.receive(request, registry: node.registry) }

    /// Applies a write and publishes its events at once.
    @discardableResult
    mutating func write(_ command: RegistryCommand) -> [WatchResponse] {
        guard case .applied(let applied) = node.apply(command) else { return [] }
        return publish(applied.events, revision: applied.revision)
    }

    mutating func put(_ key: String, _ value: String = "v") -> [WatchResponse] {
        write(.put(Registry.PutRequest(key: bytes(key), value: bytes(value))))
    }

    mutating func delete(_ key: String) -> [WatchResponse] {
        write(.deleteRange(Registry.DeleteRangeRequest(.key(bytes(key)))))
    }
}

@Suite("etcd Watch streams")
struct EtcdWatchSessionTests {
    @Test("creates are answered in request order, each created, with IDs from 0")
    func createOrder() {
        var bench = WatchBench()
        _ = bench.put("a")
        let responses = [bench.send(.create("a")), bench.send(.create("b")), bench.send(.create("c"))].flatMap { $0 }
        #expect(responses.map(\.watchID) == [0, 1, 2])
        #expect(responses.allSatisfy { $0.created && !$0.canceled && $0.header?.revision == 1 })
    }

    @Test("a client-chosen ID is used, and automatic IDs skip it")
    func clientID() {
        var bench = WatchBench()
        #expect(bench.send(.create("a", id: 1)).map(\.watchID) == [1])
        #expect(bench.send(.create("b")).map(\.watchID) == [0])
        #expect(bench.send(.create("c")).map(\.watchID) == [2])
    }

    @Test("a duplicate ID is answered created and canceled with watch ID -1 and etcd's reason")
    func duplicateID() {
        var bench = WatchBench()
        _ = bench.send(.create("a", id: 7))
        let responses = bench.send(.create("b", id: 7))
        #expect(responses.count == 1)
        #expect(responses.first?.created == true && responses.first?.canceled == true)
        #expect(responses.first?.watchID == -1)
        #expect(responses.first?.cancelReason == "mvcc: duplicate watch ID provided on the WatchStream")
        #expect(bench.session.count == 1)
    }

    @Test("a range whose end is not after its key is answered created and canceled, 'watcher range is empty'")
    func emptyRange() {
        var bench = WatchBench()
        let responses = bench.send(.create("b", end: "a"))
        #expect(responses.map(\.created) == [true] && responses.map(\.canceled) == [true])
        #expect(responses.first?.watchID == -1)
        #expect(responses.first?.cancelReason == "mvcc: watcher range is empty")
    }

    @Test("a watch sees events only from its start revision, history first, then live")
    func startRevision() {
        var bench = WatchBench()
        for key in ["a", "b", "c", "d", "e"] { _ = bench.put("k", key) }
        let created = bench.send(.create("k", start: 3))
        #expect(created.first?.created == true)
        #expect(created.dropFirst().flatMap(\.events).map(\.kv?.modRevision) == [3, 4, 5])
        let live = bench.put("k", "f")
        #expect(live.flatMap(\.events).map(\.kv?.modRevision) == [6])
        #expect(live.first?.header?.revision == 6)
    }

    @Test("a watch without a start revision sees only later changes")
    func noStart() {
        var bench = WatchBench()
        _ = bench.put("k")
        #expect(bench.send(.create("k")).count == 1)
        #expect(bench.put("k").flatMap(\.events).map(\.kv?.modRevision) == [2])
    }

    @Test("prev_kv carries the previous record on puts and deletes")
    func prevKV() {
        var bench = WatchBench()
        _ = bench.put("k", "1")
        _ = bench.send(.create("k", prevKV: true))
        let put = bench.put("k", "2").flatMap(\.events)
        let delete = bench.delete("k").flatMap(\.events)
        #expect(put.map { $0.prevKV?.value } == [bytes("1")])
        #expect(delete.map { $0.prevKV?.value } == [bytes("2")])
        #expect(delete.first?.type == .delete && delete.first?.kv?.key == bytes("k") && delete.first?.kv?.modRevision == 3)
    }

    @Test("NOPUT and NODELETE filter out their kind of event")
    func filters() {
        var bench = WatchBench()
        _ = bench.send(.create("k", id: 1, filters: [.noPut]))
        _ = bench.send(.create("k", id: 2, filters: [.noDelete]))
        let put = bench.put("k")
        let delete = bench.delete("k")
        #expect(put.map(\.watchID) == [2])
        #expect(delete.map(\.watchID) == [1])
    }

    @Test("a cancel is answered canceled with its ID; an unknown ID gets nothing")
    func cancel() {
        var bench = WatchBench()
        _ = bench.send(.create("k"))
        let canceled = bench.send(.cancel(0))
        #expect(canceled.map(\.watchID) == [0] && canceled.map(\.canceled) == [true])
        #expect(bench.send(.cancel(0)).isEmpty)
        #expect(bench.put("k").isEmpty)
    }

    @Test("progress (-1) is answered at once when every watch is caught up")
    func progressCaughtUp() {
        var bench = WatchBench()
        _ = bench.send(.create("k"))
        _ = bench.put("other")
        let progress = bench.send(.progress)
        #expect(progress.map(\.watchID) == [-1])
        #expect(progress.first?.header?.revision == 1 && progress.first?.events.isEmpty == true)
    }

    @Test("progress asked while a watch lags is answered after its catch-up, never before its events")
    func progressLagging() {
        var bench = WatchBench()
        _ = bench.send(.create("k"))
        bench.session.isLagging = true
        #expect(bench.put("k").isEmpty)
        #expect(bench.send(.progress).isEmpty)
        let caughtUp = bench.session.catchUp(registry: bench.node.registry)
        #expect(caughtUp.map(\.watchID) == [0, -1])
        #expect(caughtUp.last?.header?.revision == 1)
    }

    @Test("a start at or below the compaction is created, then canceled with a compact_revision that can be watched")
    func compactedStart() {
        var bench = WatchBench()
        for value in ["1", "2", "3", "4", "5"] { _ = bench.put("k", value) }
        _ = bench.write(.compact(Revision(3)))
        let refused = bench.send(.create("k", start: 2))
        #expect(refused.map(\.created) == [true, false])
        #expect(refused.last?.canceled == true)
        let compactRevision = refused.last?.compactRevision ?? 0
        #expect(compactRevision == 4)
        let retried = bench.send(.create("k", start: compactRevision))
        #expect(retried.map(\.canceled) == [false, false])
        #expect(retried.flatMap(\.events).map(\.kv?.modRevision) == [4, 5])
    }

    @Test("lagging watches that fall out of the history window are all canceled with compact_revision")
    func laggingPastWindow() {
        var limits = RegistryLimits()
        limits.historyRevisions = 10
        var bench = WatchBench(limits: limits)
        _ = bench.send(.create("a"))
        _ = bench.send(.create("b"))
        _ = bench.send(.create("c"))
        bench.session.isLagging = true
        for round in 0..<30 { _ = bench.put(["a", "b", "c"][round % 3]) }
        let responses = bench.session.catchUp(registry: bench.node.registry)
        let canceled = responses.filter(\.canceled)
        #expect(Set(canceled.map(\.watchID)) == [0, 1, 2])
        #expect(canceled.allSatisfy { $0.compactRevision > 0 })
        #expect(bench.session.count == 0)
        #expect(bench.session.catchUp(registry: bench.node.registry).isEmpty, "a canceled watch says nothing more")
    }

    // MARK: - Property: no duplicates, no gaps

    struct Spec {
        var range: KeyRange
        var start: Int64
        var prevKV: Bool
        var noPut: Bool
        var noDelete: Bool

        func wants(_ event: RegistryEvent) -> Bool {
            event.revision.rawValue >= start && range.contains(event.key) && (event.kind == .put ? !noPut : !noDelete)
        }
    }

    static let keys = ["a", "ab", "abc", "b", "ba", "c"]

    @Test("every watch receives exactly the matching events from its start, whatever the interleaving",
          arguments: Array(1...12) as [UInt64])
    func interleavings(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var bench = WatchBench()
        var log: [RegistryEvent] = []
        var pending: [(events: [RegistryEvent], revision: Revision)] = []
        var specs: [Int64: Spec] = [:]
        var received: [Int64: [SeenEvent]] = [:]
        var usedClientIDs: Set<Int64> = []
        func key() -> [UInt8] { bytes(Self.keys.randomElement(using: &random)!) }
        func take(_ responses: [WatchResponse]) {
            for response in responses where !response.events.isEmpty {
                #expect(specs[response.watchID] != nil, "seed \(seed): events for unknown watch \(response.watchID)")
                received[response.watchID, default: []] += response.events.map(SeenEvent.init)
                #expect(response.events.allSatisfy { ($0.kv?.modRevision ?? 0) <= (response.header?.revision ?? 0) },
                        "seed \(seed): an event after its header revision")
            }
        }
        for _ in 0..<500 {
            let roll = Int.random(in: 0..<100, using: &random)
            switch roll {
            case 0..<40:
                let command: RegistryCommand
                switch Int.random(in: 0..<6, using: &random) {
                case 0: command = .deleteRange(Registry.DeleteRangeRequest(.key(key()), returnPrevious: true))
                case 1: command = .deleteRange(Registry.DeleteRangeRequest(.prefix(key())))
                case 2:
                    let first = key(), second = key()
                    guard first != second else { continue }
                    command = .transaction(
                        TransactionRequest(
                            compares: [],
                            success: [
                                .put(Registry.PutRequest(key: first, value: [UInt8.random(in: 0...9, using: &random)])),
                                .put(Registry.PutRequest(key: second, value: [UInt8.random(in: 0...9, using: &random)])),
                            ], failure: []))
                default: command = .put(Registry.PutRequest(key: key(), value: [UInt8.random(in: 0...9, using: &random)]))
                }
                if case .applied(let applied) = bench.node.apply(command), !applied.events.isEmpty {
                    log += applied.events
                    pending.append((applied.events, applied.revision))
                }
            case 40..<55:
                for batch in pending {
                    take(bench.publish(batch.events, revision: batch.revision))
                }
                pending = []
            case 55..<62:
                bench.session.isLagging = true
            case 62..<70:
                take(bench.session.catchUp(registry: bench.node.registry))
            case 70..<90:
                let current = bench.node.registry.revision.rawValue
                let start = Int.random(in: 0..<3, using: &random) == 0 ? 0 : Int64.random(in: 1...(current + 3), using: &random)
                var id: Int64 = 0
                if Int.random(in: 0..<4, using: &random) == 0 {
                    id = Int64.random(in: 100...1_000, using: &random)
                    if usedClientIDs.contains(id) { continue }
                    usedClientIDs.insert(id)
                }
                let first = key()
                let (rangeKey, end): ([UInt8], [UInt8]) =
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0: (first, [])
                    case 1: (first, EtcdKeys.prefixEnd(of: first)!)
                    default: (first, [0])
                    }
                var create = WatchCreateRequest()
                create.key = rangeKey
                create.rangeEnd = end
                create.startRevision = start
                create.watchID = id
                create.prevKV = Bool.random(using: &random)
                if Int.random(in: 0..<4, using: &random) == 0 { create.filters.append(.noPut) }
                if Int.random(in: 0..<4, using: &random) == 0 { create.filters.append(.noDelete) }
                let responses = bench.session.receive(WatchRequest(requestUnion: .createRequest(create)), registry: bench.node.registry)
                guard let created = responses.first, created.created, !created.canceled else {
                    Issue.record("seed \(seed): create refused: \(responses)")
                    continue
                }
                if id != 0 { #expect(created.watchID == id, "seed \(seed)") }
                specs[created.watchID] = Spec(
                    range: EtcdKeys.range(key: rangeKey, end: end), start: start == 0 ? current + 1 : start,
                    prevKV: create.prevKV, noPut: create.filters.contains(.noPut), noDelete: create.filters.contains(.noDelete))
                take(Array(responses.dropFirst()))
            default:
                guard let id = specs.keys.sorted().randomElement(using: &random) else { continue }
                let spec = specs[id]!
                let seen = received[id] ?? []
                let expected = log.filter(spec.wants).map { SeenEvent($0, prevKV: spec.prevKV) }
                #expect(Array(expected.prefix(seen.count)) == seen, "seed \(seed): watch \(id) before its cancel")
                let canceled = bench.session.receive(.cancel(id), registry: bench.node.registry)
                #expect(canceled.map(\.watchID) == [id] && canceled.allSatisfy(\.canceled), "seed \(seed)")
                specs[id] = nil
                received[id] = nil
            }
        }
        for batch in pending { take(bench.publish(batch.events, revision: batch.revision)) }
        take(bench.session.catchUp(registry: bench.node.registry))
        #expect(!specs.isEmpty, "seed \(seed): the run left no watch to check")
        for (id, spec) in specs.sorted(by: { $0.key < $1.key }) {
            let expected = log.filter(spec.wants).map { SeenEvent($0, prevKV: spec.prevKV) }
            #expect(received[id] ?? [] == expected, "seed \(seed): watch \(id) from \(spec.start) on \(spec.range)")
        }
    }
}
