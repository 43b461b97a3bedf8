import Codec

/// The shape etcd gives a snapshot stream, around a Roster backup file.
///
/// etcd's `Maintenance.Snapshot` sends its database padded to a multiple of 512 bytes followed by the SHA-256 of
/// those bytes, and `etcdctl snapshot save` refuses a stream whose length is not a multiple of 512 plus 32. So
/// Roster sends its own backup (`BackupFile`) as
///
///     backup file | zero padding | u64 backup length (little-endian) | SHA-256 of everything before
///
/// with the padding making the part before the digest a multiple of 512 bytes. The file etcdctl writes then
/// restores with Roster's tools (`roster restore`, `rosterctl snapshot status`), which unwrap it; it is not a
/// bbolt database, so `etcdutl snapshot restore` cannot read it.
public enum EtcdSnapshotEnvelope {
    static let blockBytes = 512

    public static func wrap(_ backup: [UInt8]) -> [UInt8] {
        var bytes = backup
        let unpadded = backup.count + 8
        let padded = (unpadded + blockBytes - 1) / blockBytes * blockBytes
        bytes.append(contentsOf: repeatElement(0, count: padded - unpadded))
        for shift in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: UInt64(backup.count) >> UInt64(8 * shift))) }
        bytes += SHA256.digest(bytes)
        return bytes
    }

    /// The backup inside an envelope, or nil when `bytes` is not one (a plain backup file, or a damaged envelope:
    /// either way the backup decoder then reports what it finds).
    public static func unwrap(_ bytes: [UInt8]) -> [UInt8]? {
        let digestStart = bytes.count - SHA256.digestBytes
        guard bytes.count % blockBytes == SHA256.digestBytes, digestStart >= blockBytes else { return nil }
        guard SHA256.digest(bytes[0..<digestStart]) == Array(bytes[digestStart...]) else { return nil }
        let lengthStart = digestStart - 8
        let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[lengthStart + $1]) << UInt64(8 * $1) }
        guard length <= UInt64(lengthStart), bytes[Int(length)..<lengthStart].allSatisfy({ $0 == 0 }) else { return nil }
        return Array(bytes[0..<Int(length)])
    }
}
