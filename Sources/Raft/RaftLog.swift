/// The node's view of the replicated log: a snapshot base plus the entries after it.
///
/// The core keeps the uncompacted log in memory and treats storage as write-behind: `stableIndex`
/// marks how far the shell has confirmed durability, and everything past it is handed out in the
/// next `Ready`. The core therefore never calls into storage.
///
/// Invariants (checked by `checkInvariants`):
/// - `entries` are contiguous and start at `base.index + 1`, with non-decreasing terms;
/// - `base.index <= appliedIndex <= commitIndex <= lastIndex`;
/// - `stableIndex <= persistingIndex <= lastIndex`.
struct RaftLog: Sendable {
    /// The snapshot the log starts after.
    private(set) var base: SnapshotMetadata
    /// The bytes of `base`, kept to send to followers that fall behind the log.
    private(set) var baseData: [UInt8]
    private(set) var entries: [Entry]
    /// Highest index the shell has made durable.
    private(set) var stableIndex: LogIndex
    /// Highest index handed to the shell to persist: past `stableIndex` only while a Ready persisted in the
    /// background (`Ready.persistsInBackground`) is being written.
    private(set) var persistingIndex: LogIndex
    /// Highest index known to be committed.
    var commitIndex: LogIndex
    /// Highest index handed to the shell to apply.
    private(set) var appliedIndex: LogIndex
    /// A snapshot received from the leader that the shell has not yet persisted and installed.
    private(set) var pendingSnapshot: Snapshot?
    init(persisted: PersistentState) {
        base = persisted.snapshot.metadata
        baseData = persisted.snapshot.data
        entries = persisted.entries
        stableIndex = persisted.entries.last?.index ?? persisted.snapshot.metadata.index
        persistingIndex = stableIndex
        commitIndex = max(persisted.hardState.commit, persisted.snapshot.metadata.index)
        precondition(commitIndex <= stableIndex, "persisted commit \(commitIndex) beyond last index \(stableIndex)")
        appliedIndex = persisted.snapshot.metadata.index
        pendingSnapshot = nil
        for (offset, entry) in entries.enumerated() {
            precondition(entry.index == base.index + UInt64(offset + 1), "persisted log not contiguous at \(entry.index)")
        }
    }

    var firstIndex: LogIndex { base.index.next }
    var lastIndex: LogIndex { entries.last?.index ?? base.index }
    var lastTerm: Term { entries.last?.term ?? base.term }

    /// The term of the entry at `index`, or nil if it is compacted away or beyond the log.
    func term(at index: LogIndex) -> Term? {
        if index == base.index { return base.term }
        guard index > base.index, index <= lastIndex else { return nil }
        return entries[position(of: index)].term
    }

    func entry(at index: LogIndex) -> Entry {
        entries[position(of: index)]
    }

    private func position(of index: LogIndex) -> Int {
        precondition(index > base.index && index <= lastIndex, "index \(index) outside log (\(base.index), \(lastIndex)]")
        return Int(index.rawValue - base.index.rawValue - 1)
    }

    /// §5.4.1: a log is at least as up-to-date as ours if its last term is higher, or equal with an
    /// index at least as high.
    func isUpToDate(lastIndex candidateIndex: LogIndex, lastTerm candidateTerm: Term) -> Bool {
        candidateTerm > lastTerm || (candidateTerm == lastTerm && candidateIndex >= lastIndex)
    }

    func matches(index: LogIndex, term: Term) -> Bool {
        self.term(at: index) == term
    }

    /// Entries in `[from, through]`, at most `maxCount` of them and, beyond the first, at most
    /// `maxBytes` in total.
    func entries(from: LogIndex, through: LogIndex, maxCount: Int, maxBytes: Int) -> [Entry] {
        guard from <= through else { return [] }
        var result: [Entry] = []
        var bytes = 0
        var index = from
        while index <= through && result.count < maxCount {
            let entry = self.entry(at: index)
            if !result.isEmpty && bytes + entry.sizeBytes > maxBytes { break }
            bytes += entry.sizeBytes
            result.append(entry)
            index = index.next
        }
        return result
    }

    mutating func append(_ entry: Entry) {
        precondition(entry.index == lastIndex.next, "append of \(entry.index) after \(lastIndex)")
        precondition(entry.term >= lastTerm, "append of term \(entry.term) after \(lastTerm)")
        entries.append(entry)
    }

    /// Appends a leader's entries after `prevLogIndex`, truncating our log at the first conflict
    /// (§5.3). Returns the index of the last entry now known to match the leader.
    mutating func appendFromLeader(after prevLogIndex: LogIndex, _ incoming: [Entry]) -> LogIndex {
        for entry in incoming where entry.index > base.index {
            if let existing = term(at: entry.index) {
                if existing == entry.term { continue }
                precondition(entry.index > commitIndex, "conflict at committed index \(entry.index) (commit \(commitIndex))")
                entries.removeLast(Int(lastIndex.rawValue - entry.index.rawValue + 1))
                stableIndex = min(stableIndex, entry.index.previous)
                persistingIndex = min(persistingIndex, entry.index.previous)
            }
            append(entry)
        }
        return prevLogIndex + UInt64(incoming.count)
    }

    /// The follower-side conflict hint: our last index at or below `index` whose term is at most `term`.
    func conflictHint(atOrBelow index: LogIndex, term: Term) -> (LogIndex, Term) {
        var probe = min(index, lastIndex)
        while probe > base.index, let probeTerm = self.term(at: probe), probeTerm > term {
            probe = probe.previous
        }
        return (probe, self.term(at: probe) ?? base.term)
    }

    mutating func commit(to index: LogIndex) {
        if index > commitIndex {
            precondition(index <= lastIndex, "commit \(index) beyond last index \(lastIndex)")
            commitIndex = index
        }
    }

    // MARK: - Ready bookkeeping

    /// Entries not yet handed to the shell to persist.
    var entriesToPersist: ArraySlice<Entry> {
        guard persistingIndex < lastIndex else { return [] }
        return entries[position(of: persistingIndex.next)...]
    }

    /// Whether entries are being written in the background: handed out, not yet durable.
    var isPersistingInBackground: Bool { persistingIndex > stableIndex }

    /// Committed entries not yet handed out to apply, through `limit` at most.
    func entriesToApply(through limit: LogIndex) -> ArraySlice<Entry> {
        let from = max(appliedIndex, pendingSnapshot?.metadata.index ?? appliedIndex).next
        let through = min(commitIndex, limit)
        guard from <= through else { return [] }
        return entries[position(of: from)...position(of: through)]
    }

    /// How far committed entries may apply now: only durable ones while a background write runs (a crash must
    /// not take back what the state machine, and so a client, saw); otherwise every committed one, since a Ready
    /// persisted in place is durable before it applies (`Ready`, steps 2 and 4).
    var applicableIndex: LogIndex { isPersistingInBackground ? min(commitIndex, stableIndex) : commitIndex }

    /// Records that the shell took entries through `index` to write in the background.
    mutating func markPersisting(through index: LogIndex) {
        persistingIndex = max(persistingIndex, min(index, lastIndex))
    }

    mutating func markStable(through index: LogIndex) {
        stableIndex = max(stableIndex, min(index, lastIndex))
        persistingIndex = max(persistingIndex, stableIndex)
    }

    /// Records that a background write of entries through `index` in `term` is durable. If the log no longer
    /// holds that entry (a new leader replaced it meanwhile), the write that replaced it confirms instead.
    mutating func markStable(through index: LogIndex, term: Term) {
        guard index > stableIndex, self.term(at: index) == term else { return }
        markStable(through: index)
    }

    mutating func markApplied(through index: LogIndex) {
        precondition(index <= commitIndex, "applied \(index) beyond commit \(commitIndex)")
        appliedIndex = max(appliedIndex, index)
    }

    // MARK: - Snapshots

    /// Drops entries through `metadata.index`, which the application has captured in `data`.
    mutating func compact(to metadata: SnapshotMetadata, data: [UInt8]) {
        precondition(metadata.index <= appliedIndex, "snapshot at \(metadata.index) beyond applied \(appliedIndex)")
        guard metadata.index > base.index else { return }
        precondition(term(at: metadata.index) == metadata.term, "snapshot term mismatch at \(metadata.index)")
        entries.removeFirst(Int(metadata.index.rawValue - base.index.rawValue))
        base = metadata
        baseData = data
    }

    /// Replaces the log with a snapshot received from the leader. If the log already holds the
    /// snapshot's last entry, the entries after it are kept (thesis §5.3: the follower keeps its
    /// log beyond the snapshot when it matches).
    mutating func restore(_ snapshot: Snapshot) {
        let metadata = snapshot.metadata
        // Equal only for a joining node receiving the leader's initial snapshot.
        precondition(metadata.index >= commitIndex, "restore of \(metadata.index) below commit \(commitIndex)")
        if matches(index: metadata.index, term: metadata.term) {
            entries.removeFirst(Int(metadata.index.rawValue - base.index.rawValue))
        } else {
            entries = []
        }
        base = metadata
        baseData = snapshot.data
        commitIndex = metadata.index
        // The shell replaces its whole stored log with the snapshot, so every kept entry after it
        // must be persisted again.
        stableIndex = metadata.index
        persistingIndex = metadata.index
        pendingSnapshot = snapshot
    }

    /// Called once the shell has persisted and installed `pendingSnapshot`.
    mutating func snapshotInstalled() {
        guard let snapshot = pendingSnapshot else { return }
        appliedIndex = max(appliedIndex, snapshot.metadata.index)
        pendingSnapshot = nil
    }

    func checkInvariants() {
        precondition(base.index <= appliedIndex, "applied \(appliedIndex) below base \(base.index)")
        precondition(appliedIndex <= commitIndex, "applied \(appliedIndex) beyond commit \(commitIndex)")
        precondition(commitIndex <= lastIndex, "commit \(commitIndex) beyond last \(lastIndex)")
        precondition(stableIndex <= persistingIndex, "stable \(stableIndex) beyond persisting \(persistingIndex)")
        precondition(persistingIndex <= lastIndex, "persisting \(persistingIndex) beyond last \(lastIndex)")
        if let first = entries.first {
            precondition(first.index == base.index.next, "log starts at \(first.index), base \(base.index)")
            precondition(first.term >= base.term, "first term \(first.term) below base term \(base.term)")
        }
    }
}
