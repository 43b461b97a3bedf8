import Codec
import Wire

/// The records read from one segment file, and where its valid content ends.
///
/// What counts as a torn tail, to be cut, versus corruption, which stops the node:
/// - torn (last segment only): fewer bytes left than a record header; a valid header whose body
///   runs past the end of the file; or a record failing its header or body checksum when no valid
///   record can be found anywhere after it (a partly written record).
/// - corrupt: any of the above in a segment that is not the last (it was fsynced whole before the
///   next one was created); a damaged record followed by a valid one (the damage is not at the
///   end, so it hit bytes that may have been acknowledged); a length over the limit or an unknown
///   kind under a valid header checksum.
///
/// Only unsynced bytes can be torn and they are always at the end, so a valid record after the
/// damage proves the damage is not a torn write. Without one, cutting loses nothing that a crash
/// could not have lost, save for bit rot in the very last record, which the report then shows.
///
/// Zeros from the end of the last record to the end of the file, in any segment, are space the log
/// reserved and has not written yet (`DurableLog` preallocates its segments), or a crash that kept the
/// size but not the data: either way nothing is there, so the valid content ends at the last record and
/// nothing is reported. A segment that is not the last must still end with its seal (checked at replay).
struct SegmentScan {
    struct Record {
        var offset: Int
        var record: WALRecord
    }

    /// What was cut from the end of the segment, and why.
    struct Tail {
        var offset: Int
        var reason: String
    }

    var records: [Record] = []
    /// Bytes of complete, valid records from the start of the file.
    var validLength = 0
    var tornTail: Tail?
    /// The offset just after the last non-zero byte: past it is reserved, unwritten space.
    let dataEnd: Int

    init(bytes: [UInt8], path: String, isLast: Bool, maxRecordBytes: Int, limits: RaftDecodingLimits)
        throws(StorageError)
    {
        dataEnd = Self.endOfData(bytes)
        var offset = 0
        while offset < bytes.count {
            let remaining = bytes.count - offset
            func torn(_ reason: String) throws(StorageError) {
                guard isLast else {
                    throw .corrupt(path: path, offset: offset, reason: reason + " in a segment that is not the last")
                }
                tornTail = Tail(offset: offset, reason: reason)
            }
            guard offset < dataEnd else { return }
            guard remaining >= RecordFrame.headerBytes else {
                try torn("partial record header (\(remaining) bytes)")
                return
            }
            let length = Int(Self.littleEndian32(bytes, at: offset))
            let kindByte = bytes[offset + 4]
            let bodyChecksum = Self.littleEndian32(bytes, at: offset + 5)
            let headerChecksum = Self.littleEndian32(bytes, at: offset + 9)
            guard CRC32C.checksum(bytes[offset..<(offset + 9)]) == headerChecksum else {
                guard Self.validRecord(in: bytes, after: offset, before: dataEnd, maxRecordBytes: maxRecordBytes) != nil else {
                    try torn("damaged last record header, no valid record after it")
                    return
                }
                throw .corrupt(path: path, offset: offset, reason: "record header checksum mismatch")
            }
            guard length <= maxRecordBytes else {
                throw .corrupt(
                    path: path, offset: offset, reason: "record length \(length) over the \(maxRecordBytes)-byte limit")
            }
            guard let kind = WALRecord.Kind(rawValue: kindByte) else {
                throw .corrupt(path: path, offset: offset, reason: "unknown record kind \(kindByte)")
            }
            let bodyStart = offset + RecordFrame.headerBytes
            let end = bodyStart + length
            guard end <= bytes.count else {
                try torn("partial record: \(length)-byte body, \(bytes.count - bodyStart) bytes present")
                return
            }
            guard CRC32C.checksum(bytes[bodyStart..<end]) == bodyChecksum else {
                guard Self.validRecord(in: bytes, after: offset, before: dataEnd, maxRecordBytes: maxRecordBytes) != nil else {
                    try torn("last record's checksum mismatch")
                    return
                }
                throw .corrupt(path: path, offset: offset, reason: "record checksum mismatch")
            }
            do {
                let record = try WALRecord.decode(kind: kind, body: Array(bytes[bodyStart..<end]), limits: limits)
                records.append(Record(offset: offset, record: record))
            } catch {
                throw .corrupt(path: path, offset: offset, reason: "undecodable \(kind) record: \(error)")
            }
            offset = end
            validLength = end
        }
    }

    /// The u32 at `offset`; the caller has checked that four bytes are there.
    private static func littleEndian32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { value, position in value | UInt32(bytes[offset + position]) << (8 * position) }
    }

    /// The offset of the first complete record with valid checksums that starts after `offset`.
    /// - Complexity: O(n) checksums of 9 bytes; run only on a damaged segment.
    /// A record's header is never all zeros (its checksum is not), so none starts in the zeros at the end of a
    /// preallocated segment: the search stops at `end`, the last non-zero byte, rather than checksumming 64 MiB.
    static func validRecord(in bytes: [UInt8], after offset: Int, before end: Int, maxRecordBytes: Int) -> Int? {
        var start = offset + 1
        while start < end && start + RecordFrame.headerBytes <= bytes.count {
            defer { start += 1 }
            guard CRC32C.checksum(bytes[start..<(start + 9)]) == littleEndian32(bytes, at: start + 9) else { continue }
            let length = Int(littleEndian32(bytes, at: start))
            let bodyStart = start + RecordFrame.headerBytes
            guard length <= maxRecordBytes, WALRecord.Kind(rawValue: bytes[start + 4]) != nil,
                bodyStart + length <= bytes.count,
                CRC32C.checksum(bytes[bodyStart..<(bodyStart + length)]) == littleEndian32(bytes, at: start + 5)
            else { continue }
            return start
        }
        return nil
    }

    /// The offset just after the last non-zero byte.
    static func endOfData(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { buffer in
            var end = buffer.count
            while end >= 8 && buffer.loadUnaligned(fromByteOffset: end - 8, as: UInt64.self) == 0 { end -= 8 }
            while end > 0 && buffer[end - 1] == 0 { end -= 1 }
            return end
        }
    }
}
