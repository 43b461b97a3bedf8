import HPACK

/// Something the application asked to send on a stream, kept in order until windows allow it out.
enum OutboundItem: Sendable {
    /// Body octets from `offset` on; the frames before it already carried `bytes[..<offset]`.
    case data([UInt8], offset: Int, endStream: Bool)
    /// Response headers or trailers; encoded only when written, so HPACK sees blocks in wire order.
    case headers([HeaderField], endStream: Bool)
}

/// One client-initiated stream from HEADERS until both sides have ended (RFC 9113 §5.1). Streams in the
/// connection's table are open, half-closed (remote) or half-closed (local); closed streams are removed.
struct StreamState: Sendable {
    /// The client sent END_STREAM (half-closed remote).
    var remoteEnded: Bool
    /// The application queued response headers.
    var headersQueued = false
    /// The application queued END_STREAM.
    var localEndQueued = false
    /// END_STREAM was actually written (half-closed local, or closed with `remoteEnded`).
    var localEndWritten = false
    /// Octets the client may still send before our next WINDOW_UPDATE for this stream.
    var receiveWindow: Int
    /// Octets delivered since our last stream WINDOW_UPDATE.
    var receivedSinceUpdate = 0
    /// Octets we may still send; may go negative after the client lowers SETTINGS_INITIAL_WINDOW_SIZE.
    var sendWindow: Int
    /// Items waiting to be written, oldest first.
    var queue: [OutboundItem] = []
    /// Body octets in `queue`.
    var queuedBytes = 0

    /// True once both sides ended and everything queued was written.
    var isFinished: Bool { remoteEnded && localEndWritten && queue.isEmpty }

    /// Appends to `queue`, making room for a few items the first time: a gRPC answer queues its message and then
    /// its trailers, which would otherwise allocate the queue and then grow it at once.
    mutating func enqueue(_ item: OutboundItem) {
        if queue.capacity == 0 { queue.reserveCapacity(4) }
        queue.append(item)
    }
}
