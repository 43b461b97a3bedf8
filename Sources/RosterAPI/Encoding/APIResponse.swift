import HTTP
import Raft
import Registry
import RosterNode

/// Encodes node answers, errors and node-local reports as HTTP responses.
///
/// Every response is JSON with a fixed key order and carries `X-Roster-Revision`, `X-Roster-Leader` and
/// `X-Roster-Term`; serializable reads add `X-Roster-Leader-Contact-Ms` so a client can judge staleness.
/// Successes are 200 (a leadership transfer, which only starts, is 202). Errors follow the status
/// policy documented on `APIError`.
public enum APIResponse {
    /// The response for a node's answer, encoding every instance afresh.
    public static func encode(_ response: NodeResponse, context: ResponseContext) -> EncodedResponse {
        var cache = InstanceJSONCache(byteLimit: 0)
        return encode(response, context: context, cache: &cache)
    }

    /// The response for a node's answer; instance listings take each instance's JSON from `cache`.
    public static func encode(_ response: NodeResponse, context: ResponseContext, cache: inout InstanceJSONCache)
        -> EncodedResponse
    {
        switch response {
        case .written(let applied):
            var writer = JSONWriter(reservingCapacity: 512)
            writer.beginObject()
            writer.field(static: "revision", applied.revision.rawValue)
            writeCommandResponse(applied.response, into: &writer)
            writer.endObject()
            return ok(writer, context: context, revision: applied.revision)
        case .rejected(let rejection, let revision):
            return encodeError(APIError(rejection: rejection), context: context, revision: revision)
        case .keptAlive(let id, let ttl):
            var writer = JSONWriter()
            writer.beginObject()
            writer.field("id", id.rawValue)
            writer.field("ttl_ms", ttl)
            writer.endObject()
            return ok(writer, context: context)
        case .read(let result, let readContext):
            return encodeRead(result, readContext: readContext, context: context, cache: &cache)
        case .admin(let result):
            return encodeAdmin(result, context: context)
        case .readBarrierPassed:
            // The I/O loops' own request (`NodeRequest.readBarrier`); no client route submits one.
            return encodeError(
                APIError(status: .internalServerError, code: "internal", message: "unexpected read barrier answer"),
                context: context)
        case .failed(let failure):
            return encodeError(APIError(failure: failure), context: context)
        }
    }

    /// The response for an error: `{"error": {"code": …, "message": …}}` plus `Retry-After` and `Allow`
    /// when the error carries them.
    /// - Parameter revision: The revision at which the registry refused the request, when it did: then the
    ///   body carries it as `"revision"` and `X-Roster-Revision` is that revision, not the node's.
    public static func encodeError(_ error: APIError, context: ResponseContext, revision: Revision? = nil)
        -> EncodedResponse
    {
        var headers = context.headers(revision: revision)
        if let seconds = error.retryAfterSeconds { headers.append(("Retry-After", String(seconds))) }
        if !error.allowedMethods.isEmpty { headers.append(("Allow", error.allowedMethods.joined(separator: ", "))) }
        return EncodedResponse(status: error.status, headers: headers, body: errorBody(error, revision: revision))
    }

    /// `{"error": {"code": …, "message": …}}` alone (with `"revision"` after `"error"` when the registry
    /// decided the refusal at a revision), also used as the last line of a failed stream.
    static func errorBody(_ error: APIError, revision: Revision? = nil) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 96 + error.message.utf8.count)
        writer.beginObject()
        writer.key("error")
        writer.beginObject()
        writer.field("code", error.code)
        writer.field("message", error.message)
        writer.endObject()
        if let revision { writer.field("revision", revision.rawValue) }
        writer.endObject()
        return writer.bytes
    }

    static func ok(_ writer: JSONWriter, context: ResponseContext, revision: Revision? = nil, status: HTTPStatus = .ok)
        -> EncodedResponse
    {
        EncodedResponse(status: status, headers: context.headers(revision: revision), body: writer.bytes)
    }

    // MARK: - Writes

    // Field names per command: see the README's API section; one object per answer, `revision` first.
    static func writeCommandResponse(_ response: CommandResponse, into writer: inout JSONWriter) {
        switch response {
        case .put(let previous):
            if let previous { writer.key("previous"); writer.keyValue(previous) }
        case .deleteRange(let deleted, let previous):
            writeDeleted(deleted, previous, into: &writer)
        case .transaction(let succeeded, let responses):
            writer.field("succeeded", succeeded)
            writer.key("responses")
            writer.beginArray()
            for response in responses { writeOperationResponse(response, into: &writer) }
            writer.endArray()
        case .leaseGranted(let id, let ttl):
            writer.key("lease")
            writer.beginObject()
            writer.field("id", id.rawValue)
            writer.field("ttl_ms", ttl)
            writer.endObject()
        case .leaseRevoked(let id, let deletedKeys):
            writer.field("lease", id.rawValue)
            writer.field("deleted_keys", deletedKeys)
        case .leasesCheckpointed(let count):
            writer.field("checkpointed", count)
        case .leasesExpired(let ids, let deletedKeys):
            writer.key("expired")
            writer.beginArray()
            for id in ids { writer.integer(id.rawValue) }
            writer.endArray()
            writer.field("deleted_keys", deletedKeys)
        case .instanceRegistered(let instance, let previous):
            writer.key(static: "instance")
            writer.instance(instance)
            writer.key(static: "created")
            writer.bool(previous == nil)
            if let previous { writer.key(static: "previous"); writer.instance(previous) }
        case .instanceUpdated(let instance), .instanceDeregistered(let instance):
            writer.key("instance")
            writer.instance(instance)
        case .compacted(let revision):
            writer.field("compacted", revision.rawValue)
        case .authChanged(let authRevision):
            writer.field("auth_revision", authRevision)
        }
    }

    private static func writeOperationResponse(_ response: OperationResponse, into writer: inout JSONWriter) {
        writer.beginObject()
        switch response {
        case .range(let result):
            writer.key("range")
            writer.beginObject()
            writeRange(result, into: &writer)
            writer.endObject()
        case .put(let previous):
            writer.key("put")
            writer.beginObject()
            if let previous { writer.key("previous"); writer.keyValue(previous) }
            writer.endObject()
        case .deleteRange(let deleted, let previous):
            writer.key("delete")
            writer.beginObject()
            writeDeleted(deleted, previous, into: &writer)
            writer.endObject()
        case .transaction(let succeeded, let responses):
            // Only etcd's API sends nested transactions; shaped like the outer answer should one appear here.
            writer.key("txn")
            writer.beginObject()
            writer.field("succeeded", succeeded)
            writer.key("responses")
            writer.beginArray()
            for response in responses { writeOperationResponse(response, into: &writer) }
            writer.endArray()
            writer.endObject()
        }
        writer.endObject()
    }

    private static func writeDeleted(_ deleted: Int, _ previous: [KeyValue], into writer: inout JSONWriter) {
        writer.field("deleted", deleted)
        if !previous.isEmpty {
            writer.key("previous")
            writer.keyValues(previous)
        }
    }

    static func writeRange(_ result: RangeResult, into writer: inout JSONWriter) {
        writer.field("count", result.count)
        writer.field("more", result.more)
        writer.key("kvs")
        writer.keyValues(result.keyValues)
    }
}
