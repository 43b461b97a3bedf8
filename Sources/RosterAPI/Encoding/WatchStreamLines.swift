import Registry

/// Encoders for the lines of a watch stream (`POST /v1/watch`), where many watches share one connection.
///
/// Line kinds (NDJSON in a chunked response, like `WatchLines`):
/// - created: `{"created":{"id":7,"revision":R}}`: watch 7 is active; R is the node's revision when it
///   started (without `from_revision`, its events are those after R).
/// - event: a `WatchLines` event line with `"watch":7` first: `{"watch":7,"revision":R,"type":…,…}`.
/// - resync: `{"resync":{"watch":7,"revision":R,"items":[…]}}`: watch 7's start was compacted; here is
///   its full matching state at R, and its events after R follow.
/// - canceled: `{"canceled":{"id":7}}` after a cancel, or `{"canceled":{"id":7,"error":{"code","message"}}}`
///   for a refused create or cancel, or a watch the node had to end; `id` is absent when the refused line
///   had no readable id. Nothing more is written about watch 7 after it.
/// - progress: `{"progress":{"revision":R}}`: every watch of the stream has received everything it
///   matches up to R; written when the stream has been silent for its progress interval.
/// - error: `{"error":{"code","message"}}`: the last line before the stream ends (leader lost, a line that
///   is not JSON or is too long).
public enum WatchStreamLines {
    /// What a tagged event line starts with, `{"watch":7,`: followed by an event line without its `{`.
    public static func eventPrefix(watch id: UInt64) -> [UInt8] {
        Array("{\"watch\":\(id),".utf8)
    }

    /// Appends the event line `line` (a `WatchLines.event`, newline included) tagged with `prefix`.
    ///
    /// Why splice instead of encoding: with thousands of watches, encoding each event once and copying it
    /// per watch is what keeps fan-out cheap.
    public static func appendEvent(_ line: [UInt8], prefix: [UInt8], to output: inout [UInt8]) {
        precondition(line.first == UInt8(ascii: "{"), "an event line is a JSON object")
        output.append(contentsOf: prefix)
        output.append(contentsOf: line[1...])
    }

    /// The line that confirms a create.
    public static func created(watch id: UInt64, revision: Revision) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 48)
        writer.beginObject()
        writer.key("created")
        writer.beginObject()
        writer.field("id", id)
        writer.field("revision", revision.rawValue)
        writer.endObject()
        writer.endObject()
        return writer.bytes + [0x0A]
    }

    /// The line that ends one watch: after a cancel (no error), or with the reason it was refused or ended.
    public static func canceled(watch id: UInt64?, error: APIError?) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 64 + (error?.message.utf8.count ?? 0))
        writer.beginObject()
        writer.key("canceled")
        writer.beginObject()
        if let id { writer.field("id", id) }
        if let error {
            writer.key("error")
            writer.beginObject()
            writer.field("code", error.code)
            writer.field("message", error.message)
            writer.endObject()
        }
        writer.endObject()
        writer.endObject()
        return writer.bytes + [0x0A]
    }

    /// A resync line of one watch, with every record it matches at `revision`.
    public static func resync(watch id: UInt64, items: [KeyValue], revision: Revision) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 64 + items.count * 128)
        writer.beginObject()
        writer.key("resync")
        writer.beginObject()
        writer.field("watch", id)
        writer.field("revision", revision.rawValue)
        writer.key("items")
        writer.keyValues(items)
        writer.endObject()
        writer.endObject()
        return writer.bytes + [0x0A]
    }
}
