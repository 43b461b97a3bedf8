import Codec

/// One member as a backup recorded it.
public struct BackupMember: Hashable, Sendable {
    public var id: UInt64
    public var name: String
    public var peerAddress: String
    /// Empty when the member that made the backup did not know it.
    public var clientAddress: String
    /// A learner (non-voting) when the backup was made.
    public var isLearner: Bool

    public init(id: UInt64, name: String, peerAddress: String, clientAddress: String, isLearner: Bool) {
        self.id = id
        self.name = name
        self.peerAddress = peerAddress
        self.clientAddress = clientAddress
        self.isLearner = isLearner
    }
}

/// A backup: one member's applied registry state at one revision, with what is needed to check it and to
/// build a new cluster from it (`roster restore`).
public struct Backup: Equatable, Sendable {
    /// The cluster the backup was taken from (a restore builds a cluster with a different one).
    public var clusterID: UInt64
    /// The member that served it.
    public var memberName: String
    /// The Raft log index and term of the last entry applied into `registryData`.
    public var appliedIndex: UInt64
    public var appliedTerm: UInt64
    /// The registry revision `registryData` is at, and its compaction point.
    public var revision: Int64
    public var compactedRevision: Int64
    /// `RegistryState.stateHash()` at `revision` (etcd's HashKV), to check a restored cluster against.
    public var stateHash: UInt64
    /// The members and their roles when the backup was made.
    public var members: [BackupMember]
    /// `RegistryState.snapshotBytes()`: self-checksummed, restored with `RegistryState.restore(from:limits:)`.
    public var registryData: [UInt8]

    public init(
        clusterID: UInt64, memberName: String, appliedIndex: UInt64, appliedTerm: UInt64, revision: Int64,
        compactedRevision: Int64, stateHash: UInt64, members: [BackupMember], registryData: [UInt8]
    ) {
        self.clusterID = clusterID
        self.memberName = memberName
        self.appliedIndex = appliedIndex
        self.appliedTerm = appliedTerm
        self.revision = revision
        self.compactedRevision = compactedRevision
        self.stateHash = stateHash
        self.members = members
        self.registryData = registryData
    }
}

/// The backup file written by `rosterctl snapshot save` (served by `GET /v1/snapshot`):
///
///     u64 magic "RSTRBAK1" | u32 format version | u64 cluster ID | string member name
///     | varint applied index | varint applied term | signed varint revision | signed varint compacted revision
///     | u64 state hash | varint member count | members (varint id, string name, string peer address,
///       string client address, u8 learner) | varint data length | registry data | u32 CRC-32C of everything before
///
/// The whole file is checksummed before any field is trusted, so a flipped bit or a cut download is reported
/// (with the file and the offset) rather than misread.
public enum BackupFile {
    public static let magic: UInt64 = 0x3152_4B41_5254_5352
    /// The format this build writes and reads; a newer file is refused with a message saying so.
    public static let formatVersion: UInt32 = 1
    /// Bounds on decoded fields, so a corrupt length cannot make the reader allocate without limit.
    static let nameBytesLimit = 4_096
    static let membersLimit = 1_024

    public static func encode(_ backup: Backup) -> [UInt8] {
        var writer = ByteWriter(reservingCapacity: backup.registryData.count + 512)
        writer.writeFixed(magic)
        writer.writeFixed(formatVersion)
        writer.writeFixed(backup.clusterID)
        writer.writeString(backup.memberName)
        writer.writeVarint(backup.appliedIndex)
        writer.writeVarint(backup.appliedTerm)
        writer.writeSignedVarint(backup.revision)
        writer.writeSignedVarint(backup.compactedRevision)
        writer.writeFixed(backup.stateHash)
        writer.writeVarint(UInt64(backup.members.count))
        for member in backup.members {
            writer.writeVarint(member.id)
            writer.writeString(member.name)
            writer.writeString(member.peerAddress)
            writer.writeString(member.clientAddress)
            writer.write(member.isLearner)
        }
        writer.writeLengthPrefixed(backup.registryData)
        writer.writeFixed(CRC32C.checksum(writer.bytes))
        return writer.bytes
    }

    /// Decodes and verifies a backup file, plain or as `etcdctl snapshot save` wrote it (`EtcdSnapshotEnvelope`).
    /// - Throws: `BackupFileError.damaged` naming `path` and the offset of the damage (a checksum mismatch is
    ///   reported at the checksum's offset), `.notABackup`, or `.newerFormat` for a file from a newer Roster.
    public static func decode(_ file: [UInt8], path: String) throws(BackupFileError) -> Backup {
        let bytes = EtcdSnapshotEnvelope.unwrap(file) ?? file
        guard bytes.count >= 16 else {
            throw .damaged(path: path, offset: bytes.count, reason: "backup file of \(bytes.count) bytes is truncated")
        }
        var reader = ByteReader(bytes, range: 0..<bytes.count - 4)
        do {
            guard try reader.readFixed64("magic") == magic else {
                throw BackupFileError.notABackup(path: path)
            }
            let version = try reader.readFixed32("version")
            guard version <= formatVersion else { throw BackupFileError.newerFormat(path: path, version: version, supported: formatVersion) }
        } catch let error as BackupFileError {
            throw error
        } catch {
            throw .damaged(path: path, offset: reader.offset, reason: "unreadable header: \(error)")
        }
        let bodyEnd = bytes.count - 4
        let stored = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[bodyEnd + $1]) << (8 * $1) }
        guard CRC32C.checksum(bytes[0..<bodyEnd]) == stored else {
            throw .damaged(
                path: path, offset: bodyEnd,
                reason: "checksum mismatch: the file is damaged or incomplete (\(bytes.count) bytes)")
        }
        do {
            return try decodeBody(&reader)
        } catch {
            throw .damaged(path: path, offset: reader.offset, reason: "undecodable: \(error)")
        }
    }

    private static func decodeBody(_ reader: inout ByteReader) throws(CodecError) -> Backup {
        let clusterID = try reader.readFixed64("cluster")
        let memberName = try reader.readString("member name", limit: nameBytesLimit)
        let appliedIndex = try reader.readVarint("applied index")
        let appliedTerm = try reader.readVarint("applied term")
        let revision = try reader.readSignedVarint("revision")
        let compactedRevision = try reader.readSignedVarint("compacted revision")
        let stateHash = try reader.readFixed64("state hash")
        let count = try reader.readCount("members", limit: min(membersLimit, reader.remaining / 5))
        var members: [BackupMember] = []
        for _ in 0..<count {
            members.append(
                BackupMember(
                    id: try reader.readVarint("member id"), name: try reader.readString("name", limit: nameBytesLimit),
                    peerAddress: try reader.readString("peer address", limit: nameBytesLimit),
                    clientAddress: try reader.readString("client address", limit: nameBytesLimit),
                    isLearner: try reader.readBool("learner")))
        }
        let data = try reader.readLengthPrefixed("registry data", limit: reader.remaining)
        try reader.expectEnd()
        return Backup(
            clusterID: clusterID, memberName: memberName, appliedIndex: appliedIndex, appliedTerm: appliedTerm,
            revision: revision, compactedRevision: compactedRevision, stateHash: stateHash, members: members,
            registryData: data)
    }
}

/// Why a backup file cannot be used; every case names the file.
public enum BackupFileError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file does not start with a backup's magic number.
    case notABackup(path: String)
    /// Written by a newer Roster whose format this build does not know.
    case newerFormat(path: String, version: UInt32, supported: UInt32)
    /// Truncated, or its bytes do not match its checksum, or a field does not decode.
    case damaged(path: String, offset: Int, reason: String)

    public var description: String {
        switch self {
        case .notABackup(let path):
            "\(path) is not a Roster backup file (made by `rosterctl snapshot save`)"
        case .newerFormat(let path, let version, let supported):
            "\(path) has backup format version \(version), written by a newer Roster; this build reads versions "
                + "up to \(supported): use the newer roster/rosterctl"
        case .damaged(let path, let offset, let reason):
            "\(path) is damaged at offset \(offset): \(reason); take a new backup (`rosterctl snapshot save`)"
        }
    }
}
