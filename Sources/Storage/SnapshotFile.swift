import Codec
import Raft
import Wire

/// A snapshot file:
///
///     u64 magic "RSTRSNP1" | u32 format version | u64 cluster ID | u64 member ID
///     | SnapshotMetadata (Wire) | varint data length | data | u32 CRC-32C of everything before it
///
/// The whole file is checksummed before any field is trusted, so a flipped bit anywhere is reported
/// as a mismatch rather than misread.
enum SnapshotFile {
    static let magic: UInt64 = 0x3150_4E53_5254_5352

    static func encode(_ snapshot: Snapshot, identity: StorageIdentity) -> [UInt8] {
        var writer = ByteWriter(reservingCapacity: snapshot.data.count + 128)
        writer.writeFixed(magic)
        writer.writeFixed(IdentityFile.formatVersion)
        writer.writeFixed(identity.clusterID)
        writer.writeFixed(identity.memberID)
        writer.write(snapshot.metadata)
        writer.writeLengthPrefixed(snapshot.data)
        writer.writeFixed(CRC32C.checksum(writer.bytes))
        return writer.bytes
    }

    /// Checks the whole-file checksum only: cheap enough to run on snapshots recovery does not use, so
    /// damage to them is reported before they are ever needed.
    static func verifyChecksum(_ bytes: [UInt8], path: String) throws(StorageError) {
        guard bytes.count >= 4 else {
            throw .corrupt(path: path, offset: 0, reason: "snapshot file of \(bytes.count) bytes is truncated")
        }
        let bodyEnd = bytes.count - 4
        let stored = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[bodyEnd + $1]) << (8 * $1) }
        guard CRC32C.checksum(bytes[0..<bodyEnd]) == stored else {
            throw .corrupt(path: path, offset: bodyEnd, reason: "snapshot checksum mismatch")
        }
    }

    /// Decodes and verifies a snapshot file; the error says why it cannot be used.
    static func decode(
        _ bytes: [UInt8], path: String, identity: StorageIdentity, limits: RaftDecodingLimits
    ) throws(StorageError) -> Snapshot {
        try verifyChecksum(bytes, path: path)
        let bodyEnd = bytes.count - 4
        var reader = ByteReader(bytes, range: 0..<bodyEnd)
        do {
            guard try reader.readFixed64("magic") == magic else {
                throw StorageError.corrupt(path: path, offset: 0, reason: "not a Roster snapshot file")
            }
            let version = try reader.readFixed32("version")
            try IdentityFile.checkReadable(version, path: path)
            let found = StorageIdentity(
                clusterID: try reader.readFixed64("cluster"), memberID: try reader.readFixed64("member"))
            guard found == identity else {
                throw StorageError.identityMismatch(path: path, expected: identity, found: found)
            }
            let metadata = try reader.readSnapshotMetadata(limits: limits)
            let data = try reader.readLengthPrefixed("snapshot.data", limit: bodyEnd)
            try reader.expectEnd()
            return Snapshot(metadata: metadata, data: data)
        } catch let error as StorageError {
            throw error
        } catch {
            throw .corrupt(path: path, offset: reader.offset, reason: "undecodable snapshot: \(error)")
        }
    }
}
