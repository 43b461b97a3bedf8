// Shared fixtures for the storage tests: a fixed identity, small segment sizes so that a few
// entries span several segments, entry builders, and a deterministic random source.
import Raft

@testable import Storage

let testIdentity = StorageIdentity(clusterID: 0xC1, memberID: 1)
let dataDirectory = "/data"
/// Small segments so rollover and compaction happen within a few dozen entries.
let smallSegments = StorageOptions(segmentBytes: 512, maxRecordBytes: 4096)

/// A command entry whose payload is derived from its position, so that any mix-up shows.
func entry(_ index: UInt64, term: UInt64 = 1, size: Int = 24) -> Entry {
    let payload = (0..<size).map { UInt8(truncatingIfNeeded: Int(index) &* 31 &+ $0) }
    return Entry(term: Term(term), index: LogIndex(index), payload: .command(payload))
}

func entries(_ range: ClosedRange<UInt64>, term: UInt64 = 1, size: Int = 24) -> [Entry] {
    range.map { entry($0, term: term, size: size) }
}

func openLog(
    _ fileSystem: SimulatedFileSystem, options: StorageOptions = smallSegments
) throws(StorageError) -> (DurableLog, PersistentState) {
    try DurableLog.open(directory: dataDirectory, identity: testIdentity, fileSystem: fileSystem, options: options)
}

func snapshot(index: UInt64, term: UInt64, data: [UInt8] = [1, 2, 3]) -> Snapshot {
    Snapshot(
        metadata: SnapshotMetadata(
            index: LogIndex(index), term: Term(term),
            configuration: Configuration(voters: [NodeID(1), NodeID(2), NodeID(3)])),
        data: data)
}

/// The records of a segment file with their offsets, read through the production scanner.
func records(in bytes: [UInt8], path: String = "segment") throws(StorageError) -> [SegmentScan.Record] {
    try SegmentScan(bytes: bytes, path: path, isLast: true, maxRecordBytes: 1 << 20, limits: .standard).records
}

typealias TestRandom = SplitMix64
