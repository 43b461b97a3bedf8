import Codec

/// The IDENTITY file: which format, cluster and member a directory belongs to.
///
///     u64 magic "RSTRDIR1" | u32 format version | u64 cluster ID | u64 member ID | u32 CRC-32C of the preceding bytes
enum IdentityFile {
    static let magic: UInt64 = 0x3152_4944_5254_5352
    /// The on-disk format this build writes (IDENTITY, segment preambles, snapshot files all carry it).
    static let formatVersion: UInt32 = 1
    /// The oldest format this build still reads. A build that changes the format raises `formatVersion` and
    /// keeps reading every version from here on, so an upgrade reads its predecessor's directory; an older
    /// build refuses a newer directory with a message saying so (`StorageError.unsupportedFormat`).
    static let oldestReadableVersion: UInt32 = 1

    /// Refuses a version this build cannot read.
    static func checkReadable(_ version: UInt32, path: String) throws(StorageError) {
        guard (oldestReadableVersion...formatVersion).contains(version) else {
            throw .unsupportedFormat(path: path, version: version)
        }
    }

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
            try checkReadable(version, path: path)
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
