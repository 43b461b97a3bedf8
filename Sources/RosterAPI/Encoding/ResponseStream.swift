import HTTP
import Registry

/// An answer too large to build whole, encoded piece by piece as the connection drains.
///
/// Why: a listing, a key range or a watch resync holds every matching record. Built whole, a large one
/// costs its full JSON per reader and can exceed the connection's outbound bound (8 MiB), which used to
/// drop the answer without a word. Here the records are captured at the read's revision (they share
/// storage with the registry state, so the array costs pointers, not bytes), and each `next` encodes only
/// the next few into one HTTP/1.1 chunk. The JSON is byte for byte what the one-shot encoder writes:
/// `prefix`, the records as array elements, `suffix`.
///
/// Framing: an HTTP answer (`.response`) starts with its chunked head and ends with the last-chunk; a
/// resync line inside a watch stream (`.streamLine`, whose head was written long ago) is only chunks, and
/// the stream goes on after it.
public struct ResponseStream: Sendable {
    /// How each record is written.
    public enum Element: Sendable {
        /// As an instance object (a service listing); records that are not instances are skipped.
        case instance
        /// As etcd's key-value object (a range, a resync).
        case keyValue
    }

    /// Answers whose estimated JSON is at most this many bytes are built whole and written at once: the
    /// fast path, one write per answer. Larger ones stream.
    public static let thresholdBytes = 256 * 1024
    /// The JSON bytes one `next` aims for (a piece ends after the record that reaches it).
    public static let pieceBytes = 64 * 1024

    private var head: [UInt8]?
    private var prefix: [UInt8]?
    private let records: [KeyValue]
    private let element: Element
    private let suffix: [UInt8]
    private let endsResponse: Bool
    private var position = 0
    /// Bytes sent as they are (a backup), instead of records encoded as JSON.
    private let raw: [UInt8]?
    /// True once the last bytes were handed out.
    public private(set) var isFinished = false

    /// A chunked HTTP answer: `head` (from `HTTPResponseWriter.writeChunkedHead`), then the body in chunks,
    /// then the last-chunk.
    public init(head: [UInt8], prefix: [UInt8], records: [KeyValue], element: Element, suffix: [UInt8]) {
        self.head = head
        self.prefix = prefix
        self.records = records
        self.element = element
        self.suffix = suffix
        self.endsResponse = true
        self.raw = nil
    }

    /// A chunked HTTP answer whose body is `body` as it is, `pieceBytes` per chunk: a backup is built
    /// once, but written as the connection drains, so neither the loop nor other clients wait for a slow
    /// reader.
    public init(head: [UInt8], rawBody body: [UInt8]) {
        self.head = head
        self.prefix = nil
        self.records = []
        self.element = .keyValue
        self.suffix = []
        self.endsResponse = true
        self.raw = body
    }

    /// One line of a chunked stream whose head was already written: chunks only.
    public init(linePrefix prefix: [UInt8], records: [KeyValue], element: Element, suffix: [UInt8]) {
        self.head = nil
        self.prefix = prefix
        self.records = records
        self.element = element
        self.suffix = suffix
        self.endsResponse = false
        self.raw = nil
    }

    /// The records not yet encoded.
    public var remainingRecords: Int { records.count - position }

    /// The next piece of a raw body: `position` counts bytes here.
    private mutating func nextRaw(_ body: [UInt8], maxBytes: Int) -> [UInt8] {
        let end = min(body.count, position + maxBytes)
        var output = head ?? []
        head = nil
        if end > position { HTTPResponseWriter.writeChunk(Array(body[position..<end]), into: &output) }
        position = end
        if position == body.count {
            isFinished = true
            HTTPResponseWriter.writeEnd(into: &output)
        }
        return output
    }

    /// The next bytes to write (head, chunks, last-chunk, already framed), or nil once finished.
    /// - Parameters:
    ///   - maxBytes: The JSON bytes to aim for; at least one record is encoded per call, so one record
    ///     larger than this still makes progress.
    ///   - cache: Instance JSON already encoded; consulted, never filled (see `InstanceJSONCache`).
    /// - Complexity: O(records encoded), about `maxBytes` of output.
    public mutating func next(maxBytes: Int = ResponseStream.pieceBytes, cache: inout InstanceJSONCache) -> [UInt8]? {
        guard !isFinished else { return nil }
        if let raw { return nextRaw(raw, maxBytes: maxBytes) }
        var writer = JSONWriter(
            continuingArray: position > 0, after: prefix ?? [], reservingCapacity: maxBytes + 4_096)
        prefix = nil
        let start = writer.bytes.count
        while position < records.count && (writer.bytes.count < maxBytes || writer.bytes.count == start) {
            switch element {
            case .instance: writer.instance(records[position], cache: &cache, remember: false)
            case .keyValue: writer.keyValue(records[position])
            }
            position += 1
        }
        var json = writer.bytes
        if position == records.count {
            json += suffix
            isFinished = true
        }
        var output = head ?? []
        head = nil
        output.reserveCapacity(output.count + json.count + 16)
        HTTPResponseWriter.writeChunk(json, into: &output)
        if isFinished && endsResponse { HTTPResponseWriter.writeEnd(into: &output) }
        return output
    }

    /// A cheap upper-bound-ish estimate of the JSON for `records`: their key and value bytes plus a fixed
    /// allowance for field names and revisions. Only decides between building whole and streaming, so it
    /// need not be exact: escaping can make the real JSON a few times larger, which for an answer under
    /// the threshold stays far below a connection's outbound bound.
    /// - Complexity: O(records).
    public static func estimatedBytes(_ records: [KeyValue]) -> Int {
        records.reduce(0) { $0 + $1.key.count + $1.value.count + 160 }
    }
}
