import HTTP
import Registry
import RosterNode

extension APIResponse {
    /// The streamed form of a read whose answer is too large to build whole: a service listing or a key
    /// range estimated above `ResponseStream.thresholdBytes`; nil for every other answer, which the caller
    /// encodes whole with `encode` (the fast path, which this check costs one pass over the records'
    /// sizes). The head carries the same status and headers, the body the same JSON, as the whole answer
    /// would; only the framing differs (chunked).
    /// - Complexity: O(records) to estimate the size; nothing is encoded yet.
    public static func streamed(_ response: NodeResponse, context: ResponseContext) -> ResponseStream? {
        guard case .read(let result, let readContext) = response else { return nil }
        let records: [KeyValue]
        switch result {
        case .instances(let list): records = list.records
        case .range(let range): records = range.keyValues
        default: return nil
        }
        guard ResponseStream.estimatedBytes(records) > ResponseStream.thresholdBytes else { return nil }
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("revision", readContext.revision.rawValue)
        let element: ResponseStream.Element
        if case .range(let range) = result {
            element = .keyValue
            writer.field("count", range.count)
            writer.field("more", range.more)
            writer.key("kvs")
        } else {
            element = .instance
            writer.key("instances")
        }
        writer.beginArray()
        var head = EncodedResponse(status: .ok, headers: context.headers(), body: [])
        stamp(&head, readContext)
        var headBytes: [UInt8] = []
        HTTPResponseWriter.writeChunkedHead(
            status: head.status, headers: HTTPHeaders(head.headers), keepAlive: true, into: &headBytes)
        return ResponseStream(
            head: headBytes, prefix: writer.bytes, records: records, element: element, suffix: Array("]}".utf8))
    }
}
