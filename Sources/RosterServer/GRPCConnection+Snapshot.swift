import EtcdAPI
import GRPC
import HTTP2
import Registry
import Storage

/// etcd's `Maintenance.Snapshot` on Roster: the member's backup (`GET /v1/snapshot`'s bytes) in etcd's stream
/// shape (`EtcdSnapshotEnvelope`), so `etcdctl snapshot save` and clientv3's `Snapshot` work; the file restores
/// with `roster restore` and reads with `rosterctl snapshot status`.
///
/// The state is captured in O(1) and encoded on the backup worker (as for the HTTP backup, sharing its limit of
/// concurrent backups); the chunks then go out only while the stream's queue is short, so a slow reader holds
/// the encoded copy and at most `queuedChunkBytes` of frames, never the whole state twice.
struct SnapshotTransfer {
    var bytes: [UInt8]
    var offset = 0
    /// The revision the backup is at, for every message's header.
    var revision: Revision

    var remaining: Int { bytes.count - offset }
}

extension GRPCConnection {
    /// etcd sends 32 KiB per message.
    static let snapshotChunkBytes = 32 << 10
    /// A snapshot stream is refilled when its queue drops below this.
    static let queuedChunkBytes = 1 << 20

    var streamingSnapshots: Int {
        calls.values.reduce(0) { count, call in
            if case .snapshot = call.kind { count + 1 } else { count }
        }
    }

    func startSnapshot(_ payload: [UInt8], on stream: StreamID) {
        do {
            _ = try SnapshotRequest(decoding: payload)
        } catch {
            return fail(stream, GRPCStatus(code: .invalidArgument, message: "grpc: error unmarshalling request: \(error)"))
        }
        startResponse(stream)
        let refusal = server.encodeBackup(for: self) { connection, result in
            connection.snapshotEncoded(result, on: stream)
        }
        if let refusal {
            // etcd has no such limit; RESOURCE_EXHAUSTED is what a gRPC server says for "too many at once".
            fail(stream, GRPCStatus(code: .resourceExhausted, message: refusal.message))
        }
    }

    private func snapshotEncoded(_ result: Result<(bytes: [UInt8], backup: Backup), RegistryRejection>, on stream: StreamID) {
        guard let call = calls[stream], case .snapshot(nil) = call.kind else { return }
        switch result {
        case .success(let encoded):
            server.logger.info(
                "serving a backup as an etcd snapshot",
                ["revision": "\(encoded.backup.revision)", "bytes": "\(encoded.bytes.count)", "session": session.id])
            let transfer = SnapshotTransfer(
                bytes: EtcdSnapshotEnvelope.wrap(encoded.bytes), revision: Revision(encoded.backup.revision))
            calls[stream]?.kind = .snapshot(transfer)
            sendSnapshotChunks()
            flush()
        case .failure(let rejection):
            fail(stream, GRPCStatus(code: .internal, message: "could not capture the applied state: \(rejection)"))
            flush()
        }
    }

    /// Queues chunks on every snapshot stream whose queue is short; finishes a stream once all its bytes are queued.
    func sendSnapshotChunks() {
        for (stream, call) in calls {
            guard case .snapshot(var transfer?) = call.kind else { continue }
            while transfer.remaining > 0 && queuedBytes(on: stream) < Self.queuedChunkBytes {
                let end = transfer.offset + min(Self.snapshotChunkBytes, transfer.remaining)
                let message = SnapshotResponse(
                    header: server.etcdHeaderContext.header(revision: transfer.revision),
                    remainingBytes: UInt64(transfer.bytes.count - end), blob: Array(transfer.bytes[transfer.offset..<end]))
                transfer.offset = end
                send(message: message.encoded(), on: stream)
                guard calls[stream] != nil else { break }  // The send failed and ended the call.
            }
            guard calls[stream] != nil else { continue }
            if transfer.remaining == 0 {
                finish(stream, .ok)
            } else {
                calls[stream]?.kind = .snapshot(transfer)
            }
        }
    }
}
