import Raft

/// The replicated application in the simulation: it folds every applied entry into a hash chain,
/// so two nodes agree on the chain at an index exactly when they applied the same entries up to it.
/// Its snapshot is the chain value, which lets the checker verify every snapshot install.
struct SimStateMachine: Equatable {
    private(set) var appliedIndex: LogIndex = .zero
    private(set) var chain: UInt64 = 0

    mutating func apply(_ entry: Entry) {
        precondition(entry.index == appliedIndex.next, "applied \(entry.index) after \(appliedIndex)")
        appliedIndex = entry.index
        chain = Self.extend(chain, with: entry)
    }

    static func extend(_ chain: UInt64, with entry: Entry) -> UInt64 {
        var hash = chain ^ 0xCBF2_9CE4_8422_2325
        func mix(_ value: UInt64) {
            hash = (hash ^ value) &* 0x0000_0100_0000_01B3
            hash ^= hash >> 29
        }
        mix(entry.index.rawValue)
        mix(entry.term.rawValue)
        mix(payloadHash(entry.payload))
        return hash
    }

    static func payloadHash(_ payload: EntryPayload) -> UInt64 {
        switch payload {
        case .noop: return 1
        case .command(let bytes): return bytes.reduce(UInt64(7)) { ($0 &* 31) &+ UInt64($1) }
        case .membership(let change):
            switch change {
            case .addLearner(let id): return 11 &* id.rawValue
            case .promoteLearner(let id): return 13 &* id.rawValue
            case .remove(let id): return 17 &* id.rawValue
            }
        }
    }

    var snapshotData: [UInt8] {
        var bytes: [UInt8] = []
        for value in [appliedIndex.rawValue, chain] {
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }
        return bytes
    }

    /// Restores from snapshot bytes; empty bytes are the empty state (the bootstrap snapshot).
    init(snapshotData bytes: [UInt8] = []) {
        guard bytes.count == 16 else {
            precondition(bytes.isEmpty, "simulation snapshot of \(bytes.count) bytes")
            return
        }
        func read(_ offset: Int) -> UInt64 {
            (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << UInt64($1 * 8) }
        }
        appliedIndex = LogIndex(read(0))
        chain = read(8)
    }
}
