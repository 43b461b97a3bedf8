// Goal: `StreamTable` behaves as the `[StreamID: Value]` dictionary it replaced: lookups, inserts, replacements,
// removals (including the backward shift that keeps probe runs intact), changes in place through optional
// chaining, growth, iteration, keys, values and count.
// Method: seeded random operations applied to a StreamTable and to a Dictionary side by side, compared after every
// step; ids drawn from a small range so removals and reinsertions hit shared probe runs, and from the whole 31-bit
// range so growth re-homes entries.
import HTTP2
import Raft  // SplitMix64
import Testing

@Suite("Stream table")
struct StreamTableTests {
    struct Entry: Equatable {
        var count: Int
        var log: [Int]
    }

    @Test("random operations give the same contents as a Dictionary", arguments: 0..<24)
    func matchesDictionary(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var table = StreamTable<Entry>()
        var reference: [StreamID: Entry] = [:]
        let idRange: UInt32 = seed % 2 == 0 ? 64 : 0x7FFF_FFFF
        for step in 0..<2_000 {
            let id = StreamID(rawValue: UInt32(random.next() % UInt64(idRange)) | 1)
            switch random.next() % 7 {
            case 0, 1:
                let entry = Entry(count: step, log: [step])
                table[id] = entry
                reference[id] = entry
            case 2:
                #expect(table.removeValue(forKey: id) == reference.removeValue(forKey: id), "step \(step)")
            case 3:
                table[id] = nil
                reference[id] = nil
            case 4:
                // In place through optional chaining; absent ids stay absent.
                table[id]?.count += 1
                table[id]?.log.append(step)
                reference[id]?.count += 1
                reference[id]?.log.append(step)
            case 5:
                #expect(table[id] == reference[id], "step \(step)")
            default:
                if random.next() % 50 == 0 {
                    table.removeAll()
                    reference.removeAll()
                }
            }
            #expect(table.count == reference.count, "step \(step)")
            #expect(table.isEmpty == reference.isEmpty)
        }
        #expect(Set(table.keys) == Set(reference.keys))
        #expect(table.keys.count == reference.count)
        var iterated: [StreamID: Entry] = [:]
        for (key, value) in table {
            #expect(iterated[key] == nil, "\(key) visited twice")
            iterated[key] = value
        }
        #expect(iterated == reference)
        #expect(Array(table.values).count == reference.count)
        #expect(table.values.reduce(0) { $0 + $1.count } == reference.values.reduce(0) { $0 + $1.count })
        for (key, value) in reference { #expect(table[key] == value) }
    }

    @Test("a dictionary literal and iteration during changes see the table as it was")
    func literalAndSnapshotIteration() {
        var table: StreamTable<Int> = [1: 10, 3: 30, 5: 50]
        var seen: [StreamID: Int] = [:]
        for (key, value) in table {
            seen[key] = value
            table[key] = nil
            table[StreamID(rawValue: key.rawValue + 100)] = value
        }
        #expect(seen == [1: 10, 3: 30, 5: 50])
        #expect(Set(table.keys) == [101, 103, 105])
    }
}
