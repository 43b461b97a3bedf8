import Foundation
import Registry
import RosterClient
import Storage

/// `snapshot save`, `snapshot status`: backups (etcdctl's `snapshot save` / `etcdutl snapshot status`).
enum SnapshotCommands {
    static let all: [Command] = [save, status]

    /// A backup is one whole state: give it longer than an ordinary call unless `--timeout` says otherwise.
    static let defaultTimeout = Duration.seconds(120)

    static let save = Command(
        path: ["snapshot", "save"], synopsis: "<file>",
        summary: "Save a backup of a member's applied state (GET /v1/snapshot) to a file.",
        details: """
            Asks the first endpoint that answers (use -e to pick a member), checks the file's checksum and its
            registry's state hash before writing it, then writes <file> atomically. The backup is the member's
            applied state at one revision: every write acknowledged at or below that revision is in it.
            Restore it with `roster restore <file> …` on every member of a new cluster.
            Default --timeout for this command: 120s.
            """, operands: 1...1
    ) { context in
        let path = try context.operand(0, "file")
        var configuration = context.client.configuration
        let timeout = context.arguments.option("timeout") == nil ? defaultTimeout : context.timeout
        configuration.attemptTimeout = timeout
        configuration.callTimeout = timeout
        let client = RosterClient(configuration: configuration)
        let response = try await client.send("GET", "/v1/snapshot", idempotent: true, timeout: timeout)
        let source = "the backup from \(response.headers["x-roster-leader"].map { "a member (leader \($0))" } ?? "a member")"
        let backup: Backup
        do {
            backup = try BackupFile.decode(response.body, path: source)
            try BackupVerification.verify(backup, path: source)
        } catch {
            Output.error("\(error)")
            return 3
        }
        do {
            try writeDurably(response.body, to: path)
        } catch {
            Output.error("cannot write \(path): \(error)")
            return 1
        }
        if context.format == .json {
            print(Output.json(BackupVerification.summary(backup, path: path, bytes: response.body.count)))
        } else {
            print(
                "saved \(path): revision \(backup.revision), applied index \(backup.appliedIndex), "
                    + "\(response.body.count) bytes, from member \(backup.memberName), state hash \(hex(backup.stateHash))")
        }
        return 0
    }

    static let status = Command(
        path: ["snapshot", "status"], synopsis: "<file>",
        summary: "Show what a backup file holds and verify it (checksum and state hash).",
        details: """
            Reads the file, verifies its checksum, decodes the registry state and recomputes its state hash.
            Exits 1 naming the file and the offset when the file is damaged. Contacts no node.
            """, operands: 1...1
    ) { context in
        let path = try context.operand(0, "file")
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            Output.error("cannot read \(path): \(error.localizedDescription)")
            return 1
        }
        let backup: Backup
        do {
            backup = try BackupFile.decode(bytes, path: path)
            try BackupVerification.verify(backup, path: path)
        } catch {
            Output.error("\(error)")
            return 1
        }
        let summary = BackupVerification.summary(backup, path: path, bytes: bytes.count)
        if context.format == .json {
            print(Output.json(summary))
            return 0
        }
        Output.pairs([
            ("FILE", path), ("BYTES", "\(bytes.count)"), ("CLUSTER_ID", hex(backup.clusterID)),
            ("FROM_MEMBER", backup.memberName), ("REVISION", "\(backup.revision)"),
            ("COMPACTED_REVISION", "\(backup.compactedRevision)"), ("APPLIED_INDEX", "\(backup.appliedIndex)"),
            ("APPLIED_TERM", "\(backup.appliedTerm)"), ("STATE_HASH", hex(backup.stateHash)),
            ("INSTANCES", "\(summary["instances"] ?? 0)"), ("LEASES", "\(summary["leases"] ?? 0)"), ("VERIFIED", "checksum ok, state hash ok"),
        ])
        print("")
        Output.table(
            ["MEMBER", "ID", "ROLE", "PEER_ADDRESS", "CLIENT_ADDRESS"],
            backup.members.map { member in
                [member.name, hex(member.id), member.isLearner ? "learner" : "voter", member.peerAddress,
                 member.clientAddress.isEmpty ? "-" : member.clientAddress]
            })
        return 0
    }

    /// Writes `bytes` to a temporary file beside `path`, fsyncs it, then renames it over `path`: a crash leaves
    /// either the old file or the whole new one, never a torn backup under the final name.
    static func writeDurably(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp"
        // 0600: a backup holds the auth state too (password hashes, the token signing key).
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary])
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        try handle.write(contentsOf: Data(bytes))
        try handle.synchronize()
        try handle.close()
        guard rename(temporary, path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    /// 16 hex digits, as `/v1/cluster/hash` writes hashes.
    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// Checks a decoded backup beyond its checksum: its registry data decodes and hashes to what it records.
enum BackupVerification {
    struct Mismatch: Error, CustomStringConvertible {
        var description: String
    }

    static func registry(of backup: Backup, path: String) throws -> RegistryState {
        do {
            var limits = RegistryLimits.standard
            limits.historyRevisions = Int64.max
            limits.historyEvents = Int.max
            limits.historyBytes = Int.max
            return try RegistryState.restore(from: backup.registryData, limits: limits)
        } catch {
            throw Mismatch(description: "\(path): the registry state in the backup does not decode: \(error)")
        }
    }

    static func verify(_ backup: Backup, path: String) throws {
        let state = try registry(of: backup, path: path)
        let hash = try state.stateHash()
        guard hash.hash == backup.stateHash, hash.revision.rawValue == backup.revision else {
            throw Mismatch(
                description: "\(path): the registry state hashes to \(String(hash.hash, radix: 16)) at revision "
                    + "\(hash.revision), but the backup records \(String(backup.stateHash, radix: 16)) at \(backup.revision)")
        }
    }

    static func summary(_ backup: Backup, path: String, bytes: Int) -> JSONObject {
        let state = try? registry(of: backup, path: path)
        return [
            "file": path, "bytes": bytes, "cluster_id": SnapshotCommands.hex(backup.clusterID),
            "member": backup.memberName, "revision": backup.revision, "compacted_revision": backup.compactedRevision,
            "applied_index": backup.appliedIndex, "applied_term": backup.appliedTerm,
            "state_hash": SnapshotCommands.hex(backup.stateHash), "instances": state?.instanceCount ?? 0,
            "leases": state?.leaseCount ?? 0, "verified": true,
            "members": backup.members.map { member in
                ["name": member.name, "id": SnapshotCommands.hex(member.id), "learner": member.isLearner,
                 "peer_address": member.peerAddress, "client_address": member.clientAddress] as JSONObject
            },
        ]
    }
}
