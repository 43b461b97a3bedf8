import Codec

/// The IDENTITY file: which format, cluster and member a directory belongs to.
///
///     u64 magic "RSTRDIR1" | u32 format version | u64 cluster ID | u64 member ID | u32 CRC-32C of the preceding bytes
enum IdentityFile {
    static let magic: UInt64 = 0x3152_4944_5254_5352
    /// The on-disk format this build writes and reads.
    static let formatVersion: UInt32 = 1

    static func encode(_ identity: StorageIdentity) -> [UInt8] {
        var writer = ByteWriter()
        writer.writeFixed(magic)
        writer.writeFixed(formatVersion)
        writer.writeFixed(identity.clusterID)
        writer.writeFixed(identity.memberID)
        writer.writeFixed(CRC32C.checksum(writer.bytes))
        return writer.bytes
    }

    /// Checks the file and that it names `expected`.
    static func verify(_ bytes: [UInt8], path: String, expected: StorageIdentity) throws(StorageError) {
        do {
            var reader = ByteReader(bytes)
            guard try reader.readFixed64("magic") == magic else {
                throw StorageError.corrupt(path: path, offset: 0, reason: "not a Roster identity file")
            }
            let version = try reader.readFixed32("version")
            let cluster = try reader.readFixed64("cluster")
            let member = try reader.readFixed64("member")
            let checksumOffset = reader.offset
            let checksum = try reader.readFixed32("checksum")
            try reader.expectEnd()
            guard CRC32C.checksum(bytes[0..<checksumOffset]) == checksum else {
                throw StorageError.corrupt(path: path, offset: checksumOffset, reason: "identity checksum mismatch")
            }
            guard version == formatVersion else { throw StorageError.unsupportedFormat(path: path, version: version) }
            let found = StorageIdentity(clusterID: cluster, memberID: member)
            guard found == expected else {
                throw StorageError.identityMismatch(path: path, expected: expected, found: found)
            }
        } catch let error as StorageError {
            throw error
        } catch {
            throw .corrupt(path: path, offset: 0, reason: "unreadable identity file: \(error)")
        }
    }
}
