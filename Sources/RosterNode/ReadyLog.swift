import Raft

/// The storage interface a node persists its Ready through: a write-ahead log with snapshots, as the
/// production `DurableLog` offers it. The shell wraps its log in one of these, and `persist(_:)` below
/// is the one place that says which parts of a `Ready` go to the log, in which order, and when they
/// need an fsync, for the server and the simulator alike.
public protocol ReadyLog {
    associatedtype Failure: Error
    /// Makes a snapshot durable; storage may then drop the entries it covers.
    mutating func saveSnapshot(_ snapshot: Snapshot) throws(Failure)
    /// Writes entries (replacing any stored suffix from the first one's index) and the hard state, buffered.
    mutating func append(hardState: HardState?, entries: [Entry]) throws(Failure)
    /// Makes everything appended so far durable (fsync).
    mutating func sync() throws(Failure)
}

extension ReadyLog {
    /// Step 2 of a `Ready`: the snapshot to install, then entries and hard state, then an fsync unless
    /// only the commit index moved (it then rides along with the next fsync; see `Ready.mustSync`).
    public mutating func persist(_ ready: Ready) throws(Failure) {
        if let snapshot = ready.snapshotToInstall { try saveSnapshot(snapshot) }
        guard ready.hardState != nil || !ready.entriesToAppend.isEmpty else { return }
        try append(hardState: ready.hardState, entries: ready.entriesToAppend)
        if ready.mustSync { try sync() }
    }

    /// Step 2 of Readies written in the background (`Ready.persistsInBackground`, so none installs a snapshot), in
    /// order, under one fsync if any of them needs one: those that queued up while the previous write ran.
    /// - Returns: Whether it synced.
    public mutating func persist(batch readies: some Sequence<Ready>) throws(Failure) -> Bool {
        var mustSync = false
        for ready in readies {
            precondition(ready.snapshotToInstall == nil, "a Ready that installs a snapshot is persisted in place")
            guard ready.hardState != nil || !ready.entriesToAppend.isEmpty else { continue }
            try append(hardState: ready.hardState, entries: ready.entriesToAppend)
            mustSync = mustSync || ready.mustSync
        }
        if mustSync { try sync() }
        return mustSync
    }
}
