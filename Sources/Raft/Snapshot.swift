/// Where a snapshot sits in the log and which configuration was in force there.
public struct SnapshotMetadata: Hashable, Sendable, CustomStringConvertible {
    /// The last entry the snapshot covers; the log resumes at `index.next`.
    public var index: LogIndex
    public var term: Term
    public var configuration: Configuration

    public init(index: LogIndex, term: Term, configuration: Configuration) {
        self.index = index
        self.term = term
        self.configuration = configuration
    }

    public var description: String { "snap(\(index)@\(term) \(configuration))" }
}

/// A snapshot of the application's state machine at `metadata.index`; `data` is opaque to Raft.
public struct Snapshot: Hashable, Sendable {
    public var metadata: SnapshotMetadata
    public var data: [UInt8]

    public init(metadata: SnapshotMetadata, data: [UInt8]) {
        self.metadata = metadata
        self.data = data
    }
}

/// Everything a node persisted, as read back at boot: the state a restarted node starts from.
///
/// A brand-new cluster member boots from `PersistentState.bootstrap(configuration:)`: an empty log
/// whose base is a zero snapshot carrying the initial configuration.
public struct PersistentState: Hashable, Sendable {
    public var hardState: HardState
    /// The newest snapshot; its metadata is the base of the log.
    public var snapshot: Snapshot
    /// Entries after `snapshot.metadata.index`, contiguous.
    public var entries: [Entry]

    public init(hardState: HardState, snapshot: Snapshot, entries: [Entry]) {
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
    }

    public static func bootstrap(configuration: Configuration) -> PersistentState {
        PersistentState(
            hardState: HardState(),
            snapshot: Snapshot(metadata: SnapshotMetadata(index: .zero, term: .zero, configuration: configuration), data: []),
            entries: []
        )
    }
}

extension PersistentState {
    /// Carries out step 2 of a `Ready` on this value, as an in-memory store would: the snapshot
    /// replaces every entry, new entries replace any stored from their first index on, then the hard
    /// state. For simulations and tests; real storage lives in the `Storage` module.
    public mutating func persist(_ ready: Ready) {
        if let installed = ready.snapshotToInstall {
            snapshot = installed
            entries = []
        }
        if let first = ready.entriesToAppend.first {
            entries.removeAll { $0.index >= first.index }
            precondition(
                first.index == (entries.last?.index ?? snapshot.metadata.index).next, "gap before persisted entry \(first.index)")
            entries.append(contentsOf: ready.entriesToAppend)
        }
        if let hardState = ready.hardState { self.hardState = hardState }
    }

    /// Keeps a snapshot the node took and drops the entries it covers.
    public mutating func save(_ newer: Snapshot) {
        guard newer.metadata.index > snapshot.metadata.index else { return }
        snapshot = newer
        entries.removeAll { $0.index <= newer.metadata.index }
    }
}
