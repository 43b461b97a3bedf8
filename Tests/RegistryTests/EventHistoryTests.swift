// Goal: the chunked event history behaves exactly as one array with a moving head would, across chunk
// boundaries: the same events in order, the same byte count, the same answers to "first event after revision R",
// whatever the sizes of the appended batches and however far each drop reaches.
// Method: seeded random batches (single events, bursts longer than a chunk) and drops, checked after every step
// against a plain array model.
import Raft
@testable import Registry
import Testing

@Suite("Event history")
struct EventHistoryTests {
    static func event(_ revision: Int64, _ number: Int) -> RegistryEvent {
        RegistryEvent(
            revision: Revision(revision), kind: .delete, cause: .delete, key: Array("k\(number)".utf8), current: nil,
            previous: nil)
    }

    @Test("random appends and drops match an array model", arguments: [UInt64(1), 2, 3, 4])
    func matchesModel(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var history = EventHistory()
        var model: [RegistryEvent] = []
        var revision: Int64 = 0
        var number = 0
        for _ in 0..<400 {
            if random.next() % 3 != 0 {
                revision += 1
                let size = random.next() % 10 == 0 ? Int(random.next() % 700) + 1 : Int(random.next() % 4) + 1
                let batch = (0..<size).map { _ in
                    number += 1
                    return Self.event(revision, number)
                }
                history.append(contentsOf: batch)
                model.append(contentsOf: batch)
            } else if let oldest = model.first?.revision.rawValue {
                let through = oldest + Int64(random.next() % UInt64(max(1, revision - oldest + 2)))
                history.drop(through: Revision(through))
                model.removeAll { $0.revision.rawValue <= through }
            }
            #expect(Array(history.events) == model)
            #expect(history.count == model.count)
            #expect(history.bytes == model.reduce(0) { $0 + $1.retainedBytes })
            #expect(history.oldestRevision == model.first?.revision)
            let probe = Revision(Int64(random.next() % UInt64(revision + 2)))
            let position = history.position(after: probe)
            let expected = model.firstIndex { $0.revision > probe } ?? model.count
            #expect(position == history.endPosition - (model.count - expected))
            if position < history.endPosition { #expect(history[position] == model[expected]) }
        }
        history.shrinkIfSparse()
        #expect(Array(history.events) == model)
    }
}

