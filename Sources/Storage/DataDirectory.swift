/// The names of the files in a data directory:
///
///     LOCK                                   flock target, empty
///     IDENTITY                               format version, cluster and member ID (IdentityFile)
///     wal-<sequence:16 hex>.log              write-ahead log segments, numbered without gaps
///     snapshot-<index:16 hex>-<term:16 hex>.snap   the newest two snapshots (SnapshotFile)
///     *.tmp                                  files being written; deleted at startup
///
/// Hexadecimal with a fixed width so that names sort in numeric order.
enum DataDirectory {
    static let identityName = "IDENTITY"
    static let temporarySuffix = ".tmp"

    static func segmentName(sequence: UInt64) -> String {
        "wal-\(hex16(sequence)).log"
    }

    static func segmentSequence(fromName name: String) -> UInt64? {
        guard name.hasPrefix("wal-"), name.hasSuffix(".log"), name.utf8.count == 4 + 16 + 4 else { return nil }
        return UInt64(name.dropFirst(4).prefix(16), radix: 16)
    }

    static func snapshotName(index: UInt64, term: UInt64) -> String {
        "snapshot-\(hex16(index))-\(hex16(term)).snap"
    }

    /// The (index, term) a snapshot file name claims; the file's content is checked against it.
    static func snapshotPosition(fromName name: String) -> (index: UInt64, term: UInt64)? {
        guard name.hasPrefix("snapshot-"), name.hasSuffix(".snap"), name.utf8.count == 9 + 16 + 1 + 16 + 5 else {
            return nil
        }
        let digits = name.dropFirst(9)
        guard let index = UInt64(digits.prefix(16), radix: 16),
            digits.dropFirst(16).first == "-",
            let term = UInt64(digits.dropFirst(17).prefix(16), radix: 16)
        else { return nil }
        return (index, term)
    }

    private static func hex16(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
