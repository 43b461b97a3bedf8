import Raft

/// Something stored at a log index that knows its term: a full `Entry` during recovery, or just a
/// `Term` in the live log's index, which needs nothing more to check appends.
protocol TermCarrying {
    var term: Term { get }
}

extension Entry: TermCarrying {}

extension Term: TermCarrying {
    var term: Term { self }
}

/// The shape of the log: a base (the snapshot point, or the start of the oldest replayed segment)
/// and the items after it, with the rules every change must obey. The same rules check records
/// during recovery and calls during operation, so the two cannot drift apart.
///
/// Invariant: `items[k]` is at index `baseIndex + k + 1`, and terms never decrease along the log.
struct LogWindow<Item: TermCarrying> {
    var baseIndex: LogIndex
    /// Nil when the base is only known as "where a segment started", not a snapshot point.
    var baseTerm: Term?
    var items: [Item] = []

    var lastIndex: LogIndex { baseIndex + UInt64(items.count) }
    var lastTerm: Term? { items.last?.term ?? baseTerm }

    func term(at index: LogIndex) -> Term? {
        if index == baseIndex { return baseTerm }
        guard index > baseIndex, index <= lastIndex else { return nil }
        return items[Int(index.rawValue - baseIndex.rawValue) - 1].term
    }

    /// Why `item` cannot be the next item at `index`, or nil when it can.
    func refusalToAppend(_ item: Item, at index: LogIndex) -> String? {
        Self.refusalToAppend(item.term, at: index, after: lastIndex, lastTerm: lastTerm)
    }

    /// Why an item of `term` cannot follow a log ending at `lastIndex` with `lastTerm`, or nil when it can: the
    /// rule alone, so a batch can be checked whole before the window changes.
    static func refusalToAppend(_ term: Term, at index: LogIndex, after lastIndex: LogIndex, lastTerm: Term?) -> String? {
        guard index == lastIndex.next else { return "entry \(index) does not follow last index \(lastIndex)" }
        if let lastTerm, term < lastTerm {
            return "entry \(index) has term \(term), below the previous term \(lastTerm)"
        }
        return nil
    }

    mutating func append(_ item: Item) {
        items.append(item)
    }

    /// Why the log cannot be cut back to end before `index`, or nil when it can. A cut into the base
    /// is allowed only when the base is a segment start, whose entries are merely not replayed.
    func refusalToTruncate(from index: LogIndex) -> String? {
        guard index.rawValue >= 1, index <= lastIndex.next else {
            return "truncation from \(index) outside the log (last index \(lastIndex))"
        }
        if index <= baseIndex, baseTerm != nil {
            return "truncation from \(index) reaches into the snapshot through \(baseIndex)"
        }
        return nil
    }

    mutating func truncate(from index: LogIndex) {
        if index <= baseIndex {
            items = []
            baseIndex = index.previous
            baseTerm = nil
        } else {
            items.removeLast(Int(lastIndex.rawValue - index.rawValue) + 1)
        }
    }

    /// Moves the base to a snapshot through `index` at `term` (Raft §7): when the log holds that
    /// entry with that term, the entries after it stay; otherwise the whole log is replaced.
    /// A snapshot at or below the current base changes nothing.
    /// - Returns: whether the snapshot replaced entries the log held at or after `index` (its entry at `index` had
    ///   another term), which a log written after it must record (`DurableLog.adoptSnapshot`).
    @discardableResult
    mutating func rebase(index: LogIndex, term: Term) -> Bool {
        guard index > baseIndex else { return false }
        let replacesHeldEntries = index <= lastIndex && self.term(at: index) != term
        if index <= lastIndex, !replacesHeldEntries {
            items.removeFirst(Int(index.rawValue - baseIndex.rawValue))
        } else {
            items = []
        }
        baseIndex = index
        baseTerm = term
        return replacesHeldEntries
    }
}

extension LogWindow: Sendable where Item: Sendable {}
