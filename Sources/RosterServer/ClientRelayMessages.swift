import HPACK
import HTTP2
import Posix

/// What the Raft loop tells an I/O loop about the client connections that loop carries; see `ClientIOLoops`.
enum RelayCommand: Sendable {
    /// Take over an accepted socket: register it, start TLS if `security` has a layer, and report `connected`; then
    /// take `unread` as if read from it (the bytes the Raft loop read before it handed a connection over).
    case adopt(id: UInt64, socket: Socket, peer: SocketAddress, security: SecurityTransfer, unread: [UInt8])
    /// Send these bytes (one answer, stream line or batch of HTTP/2 frames).
    case write(id: UInt64, bytes: [UInt8])
    /// Close once every byte written so far is sent.
    case closeAfterFlush(id: UInt64)
    /// Close now, dropping what is queued.
    case close(id: UInt64)
    /// The session has taken this many of the bytes read for it, so reading may go on (see
    /// `RelayEndpoint.inboundBoundBytes`).
    case consumed(id: UInt64, bytes: Int)
    /// What the gateway sends on a connection whose HTTP/2 layer runs on the I/O loop (`GRPCFront`), in order.
    case http2(id: UInt64, operations: [HTTP2Operation])
    /// The session has answered everything it read (`readsConsumed` reads so far) and holds no partial request:
    /// the I/O loop may answer the connection's next requests itself (`LocalReadServer`) until it hands one on.
    case idle(id: UInt64, readsConsumed: UInt64)
    /// The I/O loop's read barrier `token` passed with the node's applied index then (`NodeRequest.readBarrier`), or
    /// failed (nil: no leader, not confirmed, timed out, shutting down): the reads that waited for it are answered
    /// from a view at or after that index, or passed on to the session.
    case readBarrierPassed(token: UInt64, appliedIndex: UInt64?)
}

/// What an I/O loop tells the Raft loop about a client connection it carries.
enum RelayEvent: Sendable {
    /// The connection is up (with TLS: its handshake finished, and the CN of the client's certificate if any).
    case connected(id: UInt64, peerCommonName: String?)
    /// Plaintext bytes arrived, in order.
    case read(id: UInt64, bytes: [UInt8])
    /// HTTP/2 events of a connection whose HTTP/2 layer runs on the I/O loop (`GRPCFront`), in order, minus the
    /// calls that loop answered itself; and, per watch or snapshot stream, the body octets its queue has passed
    /// to the socket so far (`StreamProgress`). The first of these (possibly empty) tells the session that the
    /// connection speaks HTTP/2.
    case http2(id: UInt64, events: [HTTP2Event], progress: [StreamProgress])
    /// The kernel took or queued the bytes of writes (`acknowledgedBytes` of them since the last report);
    /// `outboundBytes` are still queued on the I/O loop.
    case sent(id: UInt64, acknowledgedBytes: Int, outboundBytes: Int)
    /// The connection's queue crossed its high-water mark (`true`) or drained to its low-water mark.
    case backPressure(id: UInt64, isOverLimit: Bool, outboundBytes: Int)
    /// The connection closed; no event for `id` follows.
    case closed(id: UInt64, reason: Connection.CloseReason)
    /// Linearizable reads arrived that the loop answers itself once this barrier passes (`ReadBarriers`).
    case readBarrier(token: UInt64)
}

/// A connection's security layer, created on the Raft loop (which owns the TLS credentials and their reload)
/// and used only on the I/O loop that adopts the socket.
final class SecurityTransfer: @unchecked Sendable {
    // Safety: the layer is created fresh for one accepted socket and never touched on the Raft loop after
    // this box is made; the I/O loop takes it out once, in `adopt`, after the inbox's mutex handed it over.
    let security: (any ConnectionSecurity)?

    init(_ security: (any ConnectionSecurity)?) {
        self.security = security
    }
}

/// One thing the gateway on the Raft loop asks of a relayed connection's HTTP/2 layer (`GRPCFront.perform`).
enum HTTP2Operation: Sendable {
    case headers(StreamID, [HeaderField])
    case data(StreamID, [UInt8])
    case trailers(StreamID, [HeaderField])
    case trailersOnly(StreamID, [HeaderField])
    case reset(StreamID, HTTP2ErrorCode)
    case gracefulShutdown
}

/// How far a relayed stream's queue has drained: the body octets of `HTTP2Operation.data` on `stream` that the I/O
/// loop's HTTP/2 layer has passed to the socket, in all. What the gateway sent minus this is the stream's queue, for
/// the watch lag bound and the snapshot's refill (`GRPCConnection.queuedBytes(on:)`).
struct StreamProgress: Sendable {
    let stream: StreamID
    let takenBytes: Int
}
