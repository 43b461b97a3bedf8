// MARK: - Watch history

extension RegistryState {
    /// The matching events after a revision, or a resync when that revision's history is compacted.
    ///
    /// - Parameters:
    ///   - after: the last revision the watcher has seen; 0 for "everything retained". A watch "from
    ///     revision r" asks `after: r - 1`.
    ///   - filter: which keys.
    ///   - limit: the batch stops at a revision boundary once `limit` events are collected, so the events
    ///     of one revision are never split (a revision with more matches than `limit` comes whole).
    /// - Returns: `.events(events, through:)` covering `(after, through]`, or `.resync(state, revision:)`
    ///   when `after < compactedRevision`. No events with `through == revision` is a progress notification.
    /// - Throws: `.negativeRevision`, `.futureRevision` (after the current revision) or `.invalidLimit`.
    /// - Complexity: O(log h + events scanned).
    public func events(after: Revision, matching filter: WatchFilter, limit: Int = 1_000) throws(RegistryRejection)
        -> WatchBatch
    {
        if after.rawValue < 0 { throw .negativeRevision(after) }
        if after > revision { throw .futureRevision(after, current: revision) }
        if limit < 1 { throw .invalidLimit(limit) }
        if let rejection = filter.range.validate(limits: limits) { throw rejection }
        if after < compactedRevision {
            return .resync(read(RangeRequest(filter.range)).keyValues, revision: revision)
        }
        var collected: [RegistryEvent] = []
        var position = history.position(after: after)
        let end = history.endPosition
        while position < end {
            let groupRevision = history[position].revision
            var group: [RegistryEvent] = []
            while position < end && history[position].revision == groupRevision {
                let event = history[position]
                if filter.matches(event.key) { group.append(event) }
                position += 1
            }
            if !collected.isEmpty && collected.count + group.count > limit {
                return .events(collected, through: Revision(groupRevision.rawValue - 1))
            }
            collected.append(contentsOf: group)
        }
        return .events(collected, through: revision)
    }

    /// Number of events retained for watches.
    public var historyCount: Int { history.count }

    /// Gives back memory that deletions and compaction left allocated: Swift's dictionaries and arrays
    /// never shrink, so after a burst of 160,000 keys that were later revoked the key table alone kept
    /// ~19 MiB of empty buckets and the history array ~15 MiB of spare capacity. O(n) when it rebuilds;
    /// the node calls it before each snapshot, which is O(n) anyway. Changes no content.
    public mutating func releaseSpareCapacity() {
        entries.shrinkIfSparse()
        leaseTable.shrinkIfSparse()
        instanceCounts.shrinkIfSparse()
        history.shrinkIfSparse()
    }

    /// `RegistryEvent.retainedBytes` summed over the events retained for watches.
    public var historyBytes: Int { history.bytes }

    mutating func applyCompact(_ target: Revision) -> Result<CommandResponse, RegistryRejection> {
        if target.rawValue < 0 { return .failure(.negativeRevision(target)) }
        if target > revision { return .failure(.futureRevision(target, current: revision)) }
        if target <= compactedRevision { return .failure(.compactedRevision(target, compacted: compactedRevision)) }
        compact(through: target)
        return .success(.compacted(compactedRevision))
    }

    private mutating func compact(through target: Revision) {
        compactedRevision = target
        history.drop(through: target)
    }

    /// Keeps the history within `historyRevisions` revisions, `historyEvents` events and `historyBytes`
    /// bytes, dropping whole revisions only, so that no watcher ever sees part of a revision. A single
    /// revision over a limit is dropped too: watchers from before it get a resync, which carries the state.
    mutating func compactAutomatically() {
        let floor = Revision(revision.rawValue - limits.historyRevisions)
        if floor > compactedRevision { compact(through: floor) }
        while history.count > limits.historyEvents || history.bytes > limits.historyBytes,
            let oldest = history.oldestRevision
        {
            compact(through: oldest)
        }
    }
}
