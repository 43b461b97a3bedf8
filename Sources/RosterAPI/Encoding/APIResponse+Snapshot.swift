import HTTP
import Registry

extension APIResponse {
    /// The answer to `GET /v1/snapshot`: the backup file's bytes as a chunked `application/octet-stream`,
    /// with the revision it holds in `X-Roster-Revision`.
    /// - Parameter backup: `BackupFile.encode` of this node's applied state.
    public static func snapshotStream(_ backup: [UInt8], revision: Revision, context: ResponseContext) -> ResponseStream {
        var headers = HTTPHeaders(context.headers(revision: revision, contentType: "application/octet-stream"))
        headers.add(name: "X-Roster-Backup-Bytes", value: String(backup.count))
        var head: [UInt8] = []
        HTTPResponseWriter.writeChunkedHead(status: .ok, headers: headers, keepAlive: true, into: &head)
        return ResponseStream(head: head, rawBody: backup)
    }
}
