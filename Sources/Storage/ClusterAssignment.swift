import Codec

/// The CLUSTER file: a cluster ID assigned to a data directory by `roster restore`, `--force-new-cluster` or
/// `--join ADDR`, which overrides the one derived from `--initial-cluster`.
///
///     u64 magic "RSTRCID1" | u64 cluster ID | string reason
///     [| varint member count | (string name | string peer address) per member] | u32 CRC-32C of the preceding bytes
///
/// The member list (optional; absent in files of older builds) is what `--join ADDR` learned: the founders'
/// peer addresses are not in the replicated member directory (they come from flags), so a joined member that
/// restarts while ADDR is down finds them here.
///
/// Why a file: a restored cluster must not share its ID with the cluster the backup came from (so a
/// member of the old cluster cannot talk to it by mistake), yet every restored member must start with the
/// same flags an ordinary member takes. Written last, after the directory is otherwise complete.
public enum ClusterAssignment {
    public static let fileName = "CLUSTER"
    static let magic: UInt64 = 0x3144_4943_5254_5352

    /// The assignment in `directory`, or nil when it has none (an ordinary member's directory).
    /// - Throws: `.corrupt` naming the file and offset when the file is damaged.
    public static func read(directory: String, fileSystem: any FileSystem) throws(StorageError) -> (clusterID: UInt64, reason: String)? {
        try readRecord(directory: directory, fileSystem: fileSystem).map { ($0.clusterID, $0.reason) }
    }

    /// The members recorded by `--join ADDR` (empty when none were).
    public static func recordedMembers(
        directory: String, fileSystem: any FileSystem
    ) throws(StorageError) -> [(name: String, peerAddress: String)] {
        try readRecord(directory: directory, fileSystem: fileSystem)?.members ?? []
    }

    private static func readRecord(
        directory: String, fileSystem: any FileSystem
    ) throws(StorageError) -> (clusterID: UInt64, reason: String, members: [(name: String, peerAddress: String)])? {
        let path = directory.appendingPathComponent(fileName)
        guard try fileSystem.status(path) != nil else { return nil }
        let bytes = try fileSystem.readFile(path, limit: 64 * 1024)
        guard bytes.count >= 20 else { throw .corrupt(path: path, offset: bytes.count, reason: "cluster assignment is truncated") }
        let bodyEnd = bytes.count - 4
        let stored = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[bodyEnd + $1]) << (8 * $1) }
        guard CRC32C.checksum(bytes[0..<bodyEnd]) == stored else {
            throw .corrupt(path: path, offset: bodyEnd, reason: "cluster assignment checksum mismatch")
        }
        var reader = ByteReader(bytes, range: 0..<bodyEnd)
        do {
            guard try reader.readFixed64("magic") == magic else {
                throw StorageError.corrupt(path: path, offset: 0, reason: "not a Roster cluster assignment")
            }
            let clusterID = try reader.readFixed64("cluster")
            let reason = try reader.readString("reason", limit: bodyEnd)
            var members: [(name: String, peerAddress: String)] = []
            if reader.remaining > 0 {
                let count = try reader.readCount("members", limit: reader.remaining / 2)
                for _ in 0..<count {
                    members.append((try reader.readString("name", limit: bodyEnd), try reader.readString("peer address", limit: bodyEnd)))
                }
            }
            try reader.expectEnd()
            return (clusterID, reason, members)
        } catch let error as StorageError {
            throw error
        } catch {
            throw .corrupt(path: path, offset: reader.offset, reason: "undecodable cluster assignment: \(error)")
        }
    }

    /// Writes the assignment atomically (temporary file, fsync, rename, fsync of the directory).
    public static func write(
        clusterID: UInt64, reason: String, members: [(name: String, peerAddress: String)] = [], directory: String,
        fileSystem: any FileSystem
    ) throws(StorageError) {
        var writer = ByteWriter()
        writer.writeFixed(magic)
        writer.writeFixed(clusterID)
        writer.writeString(reason)
        if !members.isEmpty {
            writer.writeVarint(UInt64(members.count))
            for member in members {
                writer.writeString(member.name)
                writer.writeString(member.peerAddress)
            }
        }
        writer.writeFixed(CRC32C.checksum(writer.bytes))
        try DurableLog.writeAtomically(
            writer.bytes, to: directory.appendingPathComponent(fileName), directory: directory, fileSystem: fileSystem)
    }
}
