import Wire

/// Sizes and limits of the on-disk format, fixed per directory open.
public struct StorageOptions: Hashable, Sendable {
    /// A segment is closed and a new one started once the next batch of records would pass this
    /// size; a single batch may overshoot it by one record.
    public var segmentBytes: Int
    /// A snapshot also closes the active segment once it holds this many bytes, so that the next snapshot
    /// can delete it. Without this a segment lives until it fills (`segmentBytes`), and recovery reads,
    /// checksums and decodes all of it, mostly entries long covered by the snapshot: 56 MiB, a third of
    /// a restart at 100,000 instances. With it, recovery reads at most about two snapshot intervals.
    public var snapshotRolloverBytes: Int
    /// Largest record body accepted on append and on replay, checked before allocation.
    public var maxRecordBytes: Int
    /// Largest snapshot file read at recovery.
    public var maxSnapshotBytes: Int
    /// Limits for decoding Raft values inside records and snapshots.
    public var decodingLimits: RaftDecodingLimits
    /// How far ahead of its records the log writes zeros into the active segment's reserved space, so that each
    /// small synced write goes over blocks already written and its fsync commits no metadata (`DurableLog`'s
    /// `fillAhead`); 0 writes none.
    public var fillAheadBytes: Int
    /// Whether the log writes its records with direct synced writes (`FileSystem.writeDurably`) where the file
    /// system takes them, instead of a write and an fsync; false keeps the second way.
    public var directWrites: Bool

    public init(
        segmentBytes: Int = 64 << 20,
        snapshotRolloverBytes: Int = 4 << 20,
        maxRecordBytes: Int = 8 << 20,
        maxSnapshotBytes: Int = 1 << 30,
        decodingLimits: RaftDecodingLimits = .standard,
        fillAheadBytes: Int = 1 << 20,
        directWrites: Bool = true
    ) {
        precondition(segmentBytes >= 256, "segmentBytes \(segmentBytes) is too small for a segment header")
        precondition(maxRecordBytes > 64, "maxRecordBytes \(maxRecordBytes) is too small for any record")
        self.segmentBytes = segmentBytes
        self.snapshotRolloverBytes = snapshotRolloverBytes
        self.maxRecordBytes = maxRecordBytes
        self.maxSnapshotBytes = maxSnapshotBytes
        self.decodingLimits = decodingLimits
        self.fillAheadBytes = fillAheadBytes
        self.directWrites = directWrites
    }
}

/// What recovery found and repaired, for the node to log at startup. Nothing here is an error: a
/// condition that could lose acknowledged data throws instead.
public struct RecoveryReport: Hashable, Sendable, CustomStringConvertible {
    /// A cut made at the end of the last segment.
    public struct TruncatedTail: Hashable, Sendable {
        public var path: String
        public var offset: Int
        public var discardedBytes: Int
        public var reason: String
    }

    /// A snapshot file passed over because it did not verify.
    public struct SkippedSnapshot: Hashable, Sendable {
        public var path: String
        public var reason: String
    }

    /// True when the directory was empty and has just been initialised.
    public var createdFresh = false
    public var segmentsReplayed: [String] = []
    public var truncatedTail: TruncatedTail?
    /// Leftover temporary files and never-completed segments that were deleted.
    public var removedFiles: [String] = []
    public var skippedSnapshots: [SkippedSnapshot] = []
    /// The snapshot the log was rebuilt on, nil when there is none.
    public var snapshotPath: String?

    public var description: String {
        var lines = [createdFresh ? "created a fresh data directory" : "replayed \(segmentsReplayed.count) segment(s)"]
        if let snapshotPath { lines.append("snapshot: \(snapshotPath)") }
        if let tail = truncatedTail {
            lines.append(
                "torn tail cut: \(tail.path) at offset \(tail.offset), \(tail.discardedBytes) bytes (\(tail.reason))")
        }
        for skipped in skippedSnapshots { lines.append("skipped snapshot \(skipped.path): \(skipped.reason)") }
        for removed in removedFiles { lines.append("removed \(removed)") }
        return lines.joined(separator: "; ")
    }
}
