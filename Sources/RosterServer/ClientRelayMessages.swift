import Posix

/// What the Raft loop tells an I/O loop about the client connections that loop carries; see `ClientIOLoops`.
enum RelayCommand: Sendable {
    /// Take over an accepted socket: register it, start TLS if `security` has a layer, and report `connected`.
    case adopt(id: UInt64, socket: Socket, peer: SocketAddress, security: SecurityTransfer)
    /// Send these bytes (one answer, stream line or batch of HTTP/2 frames).
    case write(id: UInt64, bytes: [UInt8])
    /// Close once every byte written so far is sent.
    case closeAfterFlush(id: UInt64)
    /// Close now, dropping what is queued.
    case close(id: UInt64)
    /// The session has taken this many of the bytes read for it, so reading may go on (see
    /// `RelayEndpoint.inboundBoundBytes`).
    case consumed(id: UInt64, bytes: Int)
    /// The session has answered everything it read (`readsConsumed` reads so far) and holds no partial request:
    /// the I/O loop may answer the connection's next requests itself (`LocalReadServer`) until it hands one on.
    case idle(id: UInt64, readsConsumed: UInt64)
}

/// What an I/O loop tells the Raft loop about a client connection it carries.
enum RelayEvent: Sendable {
    /// The connection is up (with TLS: its handshake finished, and the CN of the client's certificate if any).
    case connected(id: UInt64, peerCommonName: String?)
    /// Plaintext bytes arrived, in order.
    case read(id: UInt64, bytes: [UInt8])
    /// The kernel took or queued the bytes of writes (`acknowledgedBytes` of them since the last report);
    /// `outboundBytes` are still queued on the I/O loop.
    case sent(id: UInt64, acknowledgedBytes: Int, outboundBytes: Int)
    /// The connection's queue crossed its high-water mark (`true`) or drained to its low-water mark.
    case backPressure(id: UInt64, isOverLimit: Bool, outboundBytes: Int)
    /// The connection closed; no event for `id` follows.
    case closed(id: UInt64, reason: Connection.CloseReason)
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
