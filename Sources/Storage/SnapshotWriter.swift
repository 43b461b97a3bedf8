import Raft

/// Writes a log's snapshot files on any thread, so that a large state is encoded and made durable away
/// from the thread that appends to the log (which `DurableLog`'s one-thread rule keeps on one thread).
///
/// A written file becomes the log's snapshot only when the log's owner adopts it
/// (`DurableLog.adoptSnapshot(_:)`), which drops the entries it covers; until then it is one more snapshot file,
/// which recovery may use like any other: its content is the applied, hence committed, state at its index, and the
/// log still holds the entries after it. A crash during the write leaves a temporary file that recovery deletes.
public struct SnapshotWriter: Sendable {
    let fileSystem: any FileSystem
    let directory: String
    let identity: StorageIdentity
    let maxSnapshotBytes: Int

    /// The file `snapshot` is written to (named by its index and term, as every snapshot file).
    func path(for metadata: SnapshotMetadata) -> String {
        directory.appendingPathComponent(
            DataDirectory.snapshotName(index: metadata.index.rawValue, term: metadata.term.rawValue))
    }

    /// Encodes and checksums `snapshot` and makes its file durable: written under a temporary name of its own,
    /// fsynced, renamed into place, directory fsynced. The log's records through the snapshot's index MUST be
    /// durable already (see `DurableLog.adoptSnapshot`): recovery may pair this file with the log at any moment.
    /// - Throws: `.rejected` (nothing written) when the file would exceed `StorageOptions.maxSnapshotBytes`;
    ///   I/O errors as the file system reports them.
    public func write(_ snapshot: Snapshot) throws(StorageError) {
        let encoded = SnapshotFile.encode(snapshot, identity: identity)
        guard encoded.count <= maxSnapshotBytes else {
            throw .rejected(
                reason: "snapshot of \(encoded.count) bytes exceeds StorageOptions.maxSnapshotBytes "
                    + "(\(maxSnapshotBytes)); recovery could not read it back")
        }
        // Its own temporary name: the log's owner may write a snapshot of the same index (one installed from the
        // leader) at the same time.
        try DurableLog.writeAtomically(
            encoded, to: path(for: snapshot.metadata), directory: directory, fileSystem: fileSystem,
            temporarySuffix: ".written" + DataDirectory.temporarySuffix)
    }
}
