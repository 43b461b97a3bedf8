import Raft
import Registry

/// The applied state at one log index, captured for a snapshot: the driver takes it in O(1) (the registry is a
/// copy-on-write value, so the capture shares its storage and the node's next write copies only what it changes),
/// and the shell encodes it and writes its file wherever it likes, on another thread in production, then hands
/// the bytes back with `NodeDriver.snapshotWritten(_:data:)`.
///
/// Why not on the node's thread: encoding, checksumming and fsyncing a state of hundreds of MiB takes seconds,
/// during which a leader sends no heartbeats and its followers start an election.
public struct SnapshotCapture: Sendable {
    /// Where the snapshot sits in the log: the index the state was captured at, that entry's term, and the
    /// configuration in force there.
    public let metadata: SnapshotMetadata
    /// The registry exactly as it was after applying `metadata.index`.
    public let state: RegistryState

    /// The snapshot's data: the encoded state (`RegistryState.snapshotBytes()`); costly, run it off the loop.
    public func encode() -> [UInt8] { state.snapshotBytes() }

    /// The snapshot as Raft and storage see it, once encoded.
    public func snapshot(data: [UInt8]) -> Snapshot { Snapshot(metadata: metadata, data: data) }
}
