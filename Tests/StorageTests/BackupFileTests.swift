// Goal: a backup file round-trips, and any damage (a cut at every length, a flipped bit anywhere, a newer
// format version) is refused with a typed error naming the file and the offset, never a trap or a misread.
// Method: a small backup encoded once; every truncation and a seeded sample of bit flips decoded.
import Raft
@testable import Storage
import Testing

@Suite("Backup file")
struct BackupFileTests {
    static let backup = Backup(
        clusterID: 0xABCD, memberName: "n1", appliedIndex: 42, appliedTerm: 3, revision: 17, compactedRevision: 5,
        stateHash: 0x1234_5678_9ABC_DEF0,
        members: [
            BackupMember(id: 1, name: "n1", peerAddress: "10.0.0.1:2380", clientAddress: "10.0.0.1:2379", isLearner: false),
            BackupMember(id: 2, name: "n2", peerAddress: "10.0.0.2:2380", clientAddress: "", isLearner: true),
        ],
        registryData: Array(0..<200).map { UInt8($0) })

    @Test("encode then decode gives the same backup")
    func roundTrip() throws {
        #expect(try BackupFile.decode(BackupFile.encode(Self.backup), path: "b.snap") == Self.backup)
    }

    @Test("every truncation is refused as damaged, naming the file")
    func truncations() {
        let bytes = BackupFile.encode(Self.backup)
        for length in 0..<bytes.count {
            do {
                _ = try BackupFile.decode(Array(bytes.prefix(length)), path: "cut.snap")
                Issue.record("a file cut to \(length) of \(bytes.count) bytes decoded")
            } catch {
                #expect("\(error)".contains("cut.snap"))
            }
        }
    }

    @Test("a flipped bit anywhere is refused", arguments: [UInt64(1), 2, 3, 4, 5, 6, 7, 8])
    func bitFlips(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let bytes = BackupFile.encode(Self.backup)
        for _ in 0..<64 {
            var damaged = bytes
            let position = Int(random.next() % UInt64(bytes.count))
            damaged[position] ^= UInt8(1) << UInt8(random.next() % 8)
            #expect(throws: BackupFileError.self) { try BackupFile.decode(damaged, path: "flip.snap") }
        }
    }

    @Test("a newer format version is refused with a message saying a newer Roster wrote it")
    func newerVersion() {
        var bytes = BackupFile.encode(Self.backup)
        bytes[8] = 2
        #expect(throws: BackupFileError.newerFormat(path: "new.snap", version: 2, supported: 1)) {
            try BackupFile.decode(bytes, path: "new.snap")
        }
    }
}

/// Goal: a backup sent as etcd's snapshot stream (what `etcdctl snapshot save` writes) passes etcdctl's check
/// (length ≡ 32 mod 512) and decodes as the backup it carries; a damaged envelope is never misread.
@Suite("etcd snapshot envelope")
struct EtcdSnapshotEnvelopeTests {
    @Test("wrapped backups of every padding length keep etcdctl's shape and decode unchanged")
    func roundTrip() throws {
        for extra in [0, 1, 200, 291, 292, 293, 503, 504, 505, 1_000] {
            var backup = BackupFileTests.backup
            backup.registryData = Array(repeating: 7, count: extra)
            let wrapped = EtcdSnapshotEnvelope.wrap(BackupFile.encode(backup))
            #expect(wrapped.count % 512 == 32)
            #expect(EtcdSnapshotEnvelope.unwrap(wrapped) == BackupFile.encode(backup))
            #expect(try BackupFile.decode(wrapped, path: "etcdctl.db") == backup)
        }
    }

    @Test("a plain backup is not taken for an envelope")
    func plainFile() {
        #expect(EtcdSnapshotEnvelope.unwrap(BackupFile.encode(BackupFileTests.backup)) == nil)
    }

    @Test("a flipped bit or a cut in an envelope is refused, naming the file")
    func damage() {
        let wrapped = EtcdSnapshotEnvelope.wrap(BackupFile.encode(BackupFileTests.backup))
        for index in stride(from: 0, to: wrapped.count, by: 37) {
            var damaged = wrapped
            damaged[index] ^= 0x10
            #expect(EtcdSnapshotEnvelope.unwrap(damaged) == nil)
            #expect(throws: BackupFileError.self) { try BackupFile.decode(damaged, path: "bad.db") }
        }
        #expect(throws: BackupFileError.self) { try BackupFile.decode(Array(wrapped.dropLast(1)), path: "cut.db") }
    }
}
