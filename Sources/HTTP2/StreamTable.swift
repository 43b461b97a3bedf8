/// Values keyed by stream id: what a `[StreamID: Value]` dictionary offers here, at a fraction of its cost.
///
/// Every frame and every gRPC call looks its stream up several times, in `HTTP2Connection` and again in the
/// application's per-call table. `Dictionary` hashes each id with SipHash and, to change an entry in place, moves it
/// out into an optional and back; for small calls that came to some 40 lookups and several thousand instructions a
/// call (callgrind, etcd-API reads). Stream ids are 31-bit integers, so here a hash is one multiplication: the id
/// times an odd 64-bit multiplier, the top bits indexing a power-of-two array probed linearly and kept at most half
/// full. The multiplier is drawn at random once per process (as `Dictionary`'s seed is), so a client cannot pick
/// ids that all land in one run; the connection's stream limit bounds a table anyway. A removal shifts the rest of
/// its probe run back, so no tombstones build up. Entries change in place through the subscript's `_modify`.
///
/// Iteration visits entries in slot order, which depends on the multiplier: unspecified, as with `Dictionary`.
/// The methods are `@inlinable` so that other modules' tables (the gRPC layer's calls) are specialized for their
/// value type rather than run generically.
public struct StreamTable<Value>: Sequence, ExpressibleByDictionaryLiteral {
    /// Slot keys (raw stream ids), `emptyKey` where the slot is free.
    @usableFromInline var slotKeys: [UInt32]
    /// Slot values, nil exactly where the slot is free.
    @usableFromInline var slotValues: [Value?]
    /// 64 minus log2 of the slot count: a hash's top bits pick the home slot.
    @usableFromInline var shift: UInt64
    /// The process's multiplier (`streamTableMultiplier`), kept here so a lookup does not go through a global.
    @usableFromInline let multiplier: UInt64
    @usableFromInline var storedCount = 0

    /// Marks a free slot; stream ids are at most 2^31-1.
    @usableFromInline static var emptyKey: UInt32 { UInt32.max }
    /// Slots in a new table (it doubles when half full).
    @usableFromInline static var initialSlots: Int { 8 }

    /// Creates an empty table.
    @inlinable public init() {
        slotKeys = Array(repeating: Self.emptyKey, count: Self.initialSlots)
        slotValues = Array(repeating: nil, count: Self.initialSlots)
        shift = UInt64(64 - Self.initialSlots.trailingZeroBitCount)
        multiplier = streamTableMultiplier
    }

    /// Creates a table holding `elements` (later duplicates win).
    @inlinable public init(dictionaryLiteral elements: (StreamID, Value)...) {
        self.init()
        for (key, value) in elements { self[key] = value }
    }

    /// The number of entries.
    @inlinable public var count: Int { storedCount }

    /// True when there are no entries.
    @inlinable public var isEmpty: Bool { storedCount == 0 }

    /// The value for `key`; setting nil removes the entry. Changes through optional chaining
    /// (`table[id]?.field = x`) happen in place.
    @inlinable public subscript(key: StreamID) -> Value? {
        get {
            let (slot, found) = find(key.rawValue)
            return found ? slotValues[slot] : nil
        }
        set {
            if let newValue {
                insert(newValue, for: key.rawValue)
            } else {
                removeValue(forKey: key)
            }
        }
        _modify {
            let (slot, found) = find(key.rawValue)
            if found {
                defer { if slotValues[slot] == nil { removeSlot(slot) } }
                yield &slotValues[slot]
            } else {
                var value: Value? = nil
                defer { if let value { insert(value, for: key.rawValue) } }
                yield &value
            }
        }
    }

    /// Whether there is an entry for `key`; unlike `table[key] != nil`, this copies no value.
    @inlinable public func contains(_ key: StreamID) -> Bool { find(key.rawValue).found }

    /// Removes and returns the value for `key`, if there is one.
    @inlinable @discardableResult public mutating func removeValue(forKey key: StreamID) -> Value? {
        let (slot, found) = find(key.rawValue)
        guard found else { return nil }
        let value = slotValues[slot]
        removeSlot(slot)
        return value
    }

    /// Removes every entry.
    @inlinable public mutating func removeAll() {
        self = Self()
    }

    /// The keys, in iteration order.
    @inlinable public var keys: [StreamID] {
        slotKeys.compactMap { $0 == Self.emptyKey ? nil : StreamID(rawValue: $0) }
    }

    /// The values, in iteration order, read from the slots as they are needed.
    @inlinable public var values: some Sequence<Value> { slotValues.lazy.compactMap { $0 } }

    // MARK: - Sequence

    /// Visits the occupied slots of the table as it was when iteration began.
    public struct Iterator: IteratorProtocol {
        @usableFromInline let table: StreamTable
        @usableFromInline var slot = 0

        @inlinable init(_ table: StreamTable) { self.table = table }

        @inlinable public mutating func next() -> (key: StreamID, value: Value)? {
            while slot < table.slotKeys.count {
                defer { slot += 1 }
                if table.slotKeys[slot] != StreamTable.emptyKey {
                    return (StreamID(rawValue: table.slotKeys[slot]), table.slotValues[slot]!)
                }
            }
            return nil
        }
    }

    @inlinable public func makeIterator() -> Iterator { Iterator(self) }

    @inlinable public var underestimatedCount: Int { storedCount }

    // MARK: - Slots

    /// The slot a key's probe starts at.
    @inlinable func home(_ key: UInt32) -> Int {
        Int(truncatingIfNeeded: (UInt64(key) &* multiplier) >> shift)
    }

    /// The key's slot if present, else the free slot where it would go.
    @inlinable func find(_ key: UInt32) -> (slot: Int, found: Bool) {
        let mask = slotKeys.count - 1
        var slot = home(key)
        while true {
            let occupant = slotKeys[slot]
            if occupant == key { return (slot, true) }
            if occupant == Self.emptyKey { return (slot, false) }
            slot = (slot + 1) & mask
        }
    }

    /// Stores `value` for `key`, replacing an existing entry or adding one (doubling the slots first if the
    /// table would pass half full).
    @inlinable mutating func insert(_ value: Value, for key: UInt32) {
        var (slot, found) = find(key)
        if found {
            slotValues[slot] = value
            return
        }
        if (storedCount + 1) * 2 > slotKeys.count {
            grow()
            slot = find(key).slot
        }
        slotKeys[slot] = key
        slotValues[slot] = value
        storedCount += 1
    }

    /// Empties `slot` and moves later entries of its probe run back, so every entry stays reachable from its home
    /// slot without tombstones (backward-shift deletion for linear probing).
    @inlinable mutating func removeSlot(_ slot: Int) {
        let mask = slotKeys.count - 1
        var hole = slot
        var next = (hole + 1) & mask
        while slotKeys[next] != Self.emptyKey {
            let wanted = home(slotKeys[next])
            // The entry at `next` may fill the hole unless its home lies cyclically in (hole, next].
            let homeAfterHole = hole <= next ? (wanted > hole && wanted <= next) : (wanted > hole || wanted <= next)
            if !homeAfterHole {
                slotKeys[hole] = slotKeys[next]
                slotValues.swapAt(hole, next)
                hole = next
            }
            next = (next + 1) & mask
        }
        slotKeys[hole] = Self.emptyKey
        slotValues[hole] = nil
        storedCount -= 1
    }

    /// Doubles the slots and re-homes every entry.
    @inlinable mutating func grow() {
        let oldKeys = slotKeys
        var oldValues: [Value?] = []
        swap(&oldValues, &slotValues)
        let slots = oldKeys.count * 2
        slotKeys = Array(repeating: Self.emptyKey, count: slots)
        slotValues = Array(repeating: nil, count: slots)
        shift = UInt64(64 - slots.trailingZeroBitCount)
        let mask = slots - 1
        for index in oldKeys.indices where oldKeys[index] != Self.emptyKey {
            var slot = home(oldKeys[index])
            while slotKeys[slot] != Self.emptyKey { slot = (slot + 1) & mask }
            slotKeys[slot] = oldKeys[index]
            slotValues[slot] = oldValues[index]
        }
    }
}

extension StreamTable: Sendable where Value: Sendable {}

/// The multiplier every `StreamTable` hashes with: drawn once per process, and odd so that distinct ids keep
/// distinct products.
@usableFromInline let streamTableMultiplier = UInt64.random(in: 0...UInt64.max) | 1
