import Codec
import Raft
import Wire

/// One record of the write-ahead log, before framing.
///
/// Entries are logged before the hard state of the same `append` so that a torn batch can never
/// leave a commit index pointing past the entries that survived.
enum WALRecord: Hashable, Sendable {
    /// First record of every segment: who wrote it, its place in the sequence, and the index the
    /// next entry must have. Each segment starts with it so it can be replayed without its
    /// (possibly compacted) predecessors.
    case segmentHeader(SegmentHeader)
    case hardState(HardState)
    case entry(Entry)
    /// Entries from `index` on are discarded: a follower's log conflicted with its leader's.
    case truncate(from: LogIndex)
    /// A snapshot through `index` at `term` is durable: the log now starts after it (Raft §7).
    case snapshotBase(index: LogIndex, term: Term)
    /// Last record of a full segment, written only once segment `successor` is durable: a sealed
    /// segment without its successor means the successor was lost, which recovery refuses.
    case sealed(successor: UInt64)

    enum Kind: UInt8 {
        case segmentHeader = 1
        case hardState = 2
        case entry = 3
        case truncate = 4
        case snapshotBase = 5
        case sealed = 6
    }

    var kind: Kind {
        switch self {
        case .segmentHeader: .segmentHeader
        case .hardState: .hardState
        case .entry: .entry
        case .truncate: .truncate
        case .snapshotBase: .snapshotBase
        case .sealed: .sealed
        }
    }

    /// The record's body bytes (without the frame).
    var body: [UInt8] {
        var writer = ByteWriter()
        switch self {
        case .segmentHeader(let header):
            writer.writeFixed(SegmentHeader.magic)
            writer.writeFixed(header.formatVersion)
            writer.writeFixed(header.identity.clusterID)
            writer.writeFixed(header.identity.memberID)
            writer.writeVarint(header.sequence)
            writer.writeVarint(header.firstIndex.rawValue)
        case .hardState(let hardState):
            writer.write(hardState)
        case .entry(let entry):
            writer.write(entry)
        case .truncate(let index):
            writer.writeVarint(index.rawValue)
        case .snapshotBase(let index, let term):
            writer.writeVarint(index.rawValue)
            writer.writeVarint(term.rawValue)
        case .sealed(let successor):
            writer.writeVarint(successor)
        }
        return writer.bytes
    }

    /// Decodes a body whose frame already passed its checksums.
    static func decode(kind: Kind, body: [UInt8], limits: RaftDecodingLimits) throws(CodecError) -> WALRecord {
        var reader = ByteReader(body)
        let record: WALRecord
        switch kind {
        case .segmentHeader:
            let magic = try reader.readFixed64("segment.magic")
            guard magic == SegmentHeader.magic else {
                throw .invalidValue(field: "segment.magic", reason: "not a Roster WAL segment")
            }
            let version = try reader.readFixed32("segment.version")
            let cluster = try reader.readFixed64("segment.cluster")
            let member = try reader.readFixed64("segment.member")
            let sequence = try reader.readVarint("segment.sequence")
            let firstIndex = try reader.readLogIndex("segment.firstIndex")
            record = .segmentHeader(
                SegmentHeader(
                    formatVersion: version, identity: StorageIdentity(clusterID: cluster, memberID: member),
                    sequence: sequence, firstIndex: firstIndex))
        case .hardState:
            record = .hardState(try reader.readHardState())
        case .entry:
            record = .entry(try reader.readEntry(limits: limits))
        case .truncate:
            record = .truncate(from: try reader.readLogIndex("truncate.index"))
        case .snapshotBase:
            let index = try reader.readLogIndex("snapshotBase.index")
            record = .snapshotBase(index: index, term: try reader.readTerm("snapshotBase.term"))
        case .sealed:
            record = .sealed(successor: try reader.readVarint("sealed.successor"))
        }
        try reader.expectEnd()
        return record
    }
}

/// The body of a `.segmentHeader` record.
struct SegmentHeader: Hashable, Sendable {
    /// "RSTRWAL1" read as a little-endian integer.
    static let magic: UInt64 = 0x314C_4157_5254_5352
    var formatVersion: UInt32
    var identity: StorageIdentity
    var sequence: UInt64
    /// The index the segment's first entry must have: the log's last index plus one when the
    /// segment was created.
    var firstIndex: LogIndex
}

/// The frame around every record:
///
///     u32 body length | u8 kind | u32 CRC-32C of body | u32 CRC-32C of the 9 bytes before it | body
///
/// The header has its own checksum so that a damaged length is recognised as damage, never trusted
/// as "the record runs past the end of the file" (which would look like a torn tail and be cut).
enum RecordFrame {
    static let headerBytes = 13

    static func encode(_ record: WALRecord) -> [UInt8] {
        let body = record.body
        var writer = ByteWriter(reservingCapacity: headerBytes + body.count)
        writer.writeFixed(UInt32(body.count))
        writer.write(record.kind.rawValue)
        writer.writeFixed(CRC32C.checksum(body))
        writer.writeFixed(CRC32C.checksum(writer.bytes))
        writer.writeRaw(body)
        return writer.bytes
    }
}
