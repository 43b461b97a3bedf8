import HTTP
import Registry

/// Encoders for watch streams: newline-delimited JSON, one object per line, in a chunked response.
///
/// Line kinds, told apart by their only top-level key or by `revision`+`type`:
/// - event: `{"revision":R,"type":"put"|"delete","cause":"registered"|…,"key":"…","instance":{…}|"value":"…",
///   "prev_instance"|"prev_value":…}`. Values follow `JSONWriter`'s rule (instance object, UTF-8
///   string, or `…_base64`); a delete has no value; the previous value appears only when asked for.
/// - progress: `{"progress":{"revision":R}}`: nothing matched up to R; resume after R.
/// - resync: `{"resync":{"revision":R,"items":[kv…]}}`: the start was compacted; here is the full matching
///   state at R, continue with events after R.
/// - error: `{"error":{"code":…,"message":…}}`: the last line before the stream ends.
public enum WatchLines {
    /// Content type of a watch stream.
    public static let contentType = "application/x-ndjson"

    /// Appends one event line.
    public static func appendEvent(_ event: RegistryEvent, includePrevious: Bool, to output: inout [UInt8]) {
        var writer = JSONWriter(reservingCapacity: 192)
        writeEvent(event, includePrevious: includePrevious, into: &writer)
        output.append(contentsOf: writer.bytes)
        output.append(0x0A)
    }

    /// One event line, newline included.
    public static func event(_ event: RegistryEvent, includePrevious: Bool) -> [UInt8] {
        var output: [UInt8] = []
        appendEvent(event, includePrevious: includePrevious, to: &output)
        return output
    }

    /// A progress line.
    public static func progress(_ revision: Revision) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 40)
        writer.beginObject()
        writer.key("progress")
        writer.beginObject()
        writer.field("revision", revision.rawValue)
        writer.endObject()
        writer.endObject()
        return writer.bytes + [0x0A]
    }

    /// A resync line with every matching record at `revision`.
    public static func resync(_ items: [KeyValue], revision: Revision) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 64 + items.count * 128)
        writer.beginObject()
        writer.key("resync")
        writer.beginObject()
        writer.field("revision", revision.rawValue)
        writer.key("items")
        writer.keyValues(items)
        writer.endObject()
        writer.endObject()
        return writer.bytes + [0x0A]
    }

    /// The error line that ends a stream.
    public static func error(_ error: APIError) -> [UInt8] {
        APIResponse.errorBody(error) + [0x0A]
    }

    /// The lines for one batch from the registry: events, a progress line when the batch has no events,
    /// or a resync.
    public static func batch(_ batch: WatchBatch, includePrevious: Bool) -> [UInt8] {
        switch batch {
        case .events(let events, let through):
            if events.isEmpty { return progress(through) }
            var output: [UInt8] = []
            for event in events { appendEvent(event, includePrevious: includePrevious, to: &output) }
            return output
        case .resync(let items, let revision):
            return resync(items, revision: revision)
        }
    }

    /// The head of a chunked watch response; follow with `HTTPResponseWriter.writeChunk` of lines.
    public static func streamHead(context: ResponseContext, keepAlive: Bool) -> [UInt8] {
        var output: [UInt8] = []
        HTTPResponseWriter.writeChunkedHead(
            status: .ok, headers: HTTPHeaders(context.headers(contentType: contentType)), keepAlive: keepAlive,
            into: &output)
        return output
    }

    /// A long poll's single answer: `{"revision":R,"events":[…]}`, or `{"resync":{…}}` after compaction.
    /// `revision` is the index to pass in the next poll.
    public static func longPollResponse(_ batch: WatchBatch, includePrevious: Bool, context: ResponseContext)
        -> EncodedResponse
    {
        var writer = JSONWriter()
        writer.beginObject()
        let revision: Revision
        switch batch {
        case .events(let events, let through):
            revision = through
            writer.field("revision", through.rawValue)
            writer.key("events")
            writer.beginArray()
            for event in events { writeEvent(event, includePrevious: includePrevious, into: &writer) }
            writer.endArray()
        case .resync(let items, let at):
            revision = at
            writer.key("resync")
            writer.beginObject()
            writer.field("revision", at.rawValue)
            writer.key("items")
            writer.keyValues(items)
            writer.endObject()
        }
        writer.endObject()
        return APIResponse.ok(writer, context: context, revision: revision)
    }

    /// A keepalive stream's answer line: `{"id":N,"ttl_ms":T}`, or an error line.
    public static func keptAlive(_ id: LeaseID, ttlMilliseconds: Int64) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 48)
        writer.beginObject()
        writer.field("id", id.rawValue)
        writer.field("ttl_ms", ttlMilliseconds)
        writer.endObject()
        return writer.bytes + [0x0A]
    }

    private static func writeEvent(_ event: RegistryEvent, includePrevious: Bool, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("revision", event.revision.rawValue)
        writer.field("type", event.kind == .put ? "put" : "delete")
        writer.field("cause", event.cause.name)
        writer.bytesField("key", event.key)
        if let current = event.current { writer.recordValue(current) }
        if includePrevious, let previous = event.previous { writer.recordValue(previous, prefix: "prev_") }
        writer.endObject()
    }
}

extension WatchLines {
    /// A resync line too large to build whole, as a stream of chunks for a watch stream whose head is
    /// written: `{"resync":{"revision":R,"items":[…]}}` (or, with `watch`, the tagged form of
    /// `WatchStreamLines.resync`); nil when the items are estimated under `ResponseStream.thresholdBytes`,
    /// which the caller writes whole as before.
    /// - Complexity: O(items) to estimate the size; nothing is encoded yet.
    public static func resyncStream(_ items: [KeyValue], revision: Revision, watch id: UInt64?) -> ResponseStream? {
        guard ResponseStream.estimatedBytes(items) > ResponseStream.thresholdBytes else { return nil }
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("resync")
        writer.beginObject()
        if let id { writer.field("watch", id) }
        writer.field("revision", revision.rawValue)
        writer.key("items")
        writer.beginArray()
        return ResponseStream(
            linePrefix: writer.bytes, records: items, element: .keyValue, suffix: Array("]}}\n".utf8))
    }
}
