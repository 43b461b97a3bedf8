import HTTP2
import Posix

/// What a client session needs of its connection, wherever the socket lives: a `Connection` on the
/// session's own loop (`--io-threads 0`), or a `RelayedConnection` whose socket an I/O loop carries.
///
/// Every member is called on the session's loop (the Raft loop). `loop` is that loop, for the session's
/// timers, not necessarily the one the socket is registered with.
protocol ClientLink: AnyObject {
    /// The client's address.
    var peer: SocketAddress { get }
    /// The CN of the client's TLS certificate, once the handshake is done (nil without TLS or certificate).
    var peerCommonName: String? { get }
    /// The connection's buffer bounds.
    var limits: ConnectionLimits { get }
    /// The loop the session runs on.
    var loop: EventLoop { get }
    /// True once closed; writes are then ignored.
    var isClosed: Bool { get }
    /// True while the bytes written and not yet sent are over the high-water mark.
    var isOverLimit: Bool { get }
    /// Bytes written and not yet taken by the kernel (for a relayed connection: as last reported).
    var outboundBytes: Int { get }
    /// Queues bytes to send.
    func write(_ bytes: [UInt8])
    /// Closes once every queued byte is sent.
    func closeAfterFlush()
    /// Closes now, dropping queued bytes; the delegate hears `.local` before this returns.
    func closeNow()
    /// The session is idle: it answered every request it read and holds no partial one. Returns true when the
    /// link took the connection over until the next request it passes on (an I/O loop answering serializable
    /// reads itself, `LocalReadServer`), timing its silence meanwhile; false when the session keeps timing it.
    func handOverIdle() -> Bool
}

/// Receives a `ClientLink`'s events on the session's loop; mirrors `ConnectionDelegate`.
protocol ClientLinkDelegate: AnyObject {
    func linkDidConnect(_ link: any ClientLink)
    func link(_ link: any ClientLink, didRead bytes: UnsafeRawBufferPointer)
    /// HTTP/2 events of a connection whose HTTP/2 layer runs on its I/O loop (`GRPCFront`); only relayed links.
    func link(_ link: any ClientLink, didReceiveHTTP2 events: [HTTP2Event], progress: [StreamProgress])
    func link(_ link: any ClientLink, didChangeBackPressure isOverLimit: Bool)
    func link(_ link: any ClientLink, didCloseWith reason: Connection.CloseReason)
}

extension Connection: ClientLink {
    func closeNow() { close(.local) }
    func handOverIdle() -> Bool { false }
    var peerCommonName: String? { (security as? TLSConnectionSecurity)?.engine.peerCommonName }
}

/// A `ClientLinkDelegate` as the `ConnectionDelegate` of a connection on its own loop.
final class DirectLink: ConnectionDelegate {
    private let delegate: any ClientLinkDelegate

    init(_ delegate: any ClientLinkDelegate) {
        self.delegate = delegate
    }

    func connectionDidConnect(_ connection: Connection) {
        delegate.linkDidConnect(connection)
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        delegate.link(connection, didRead: bytes)
    }

    func connection(_ connection: Connection, didChangeBackPressure isOverLimit: Bool) {
        delegate.link(connection, didChangeBackPressure: isOverLimit)
    }

    func connection(_ connection: Connection, didCloseWith reason: Connection.CloseReason) {
        delegate.link(connection, didCloseWith: reason)
    }
}
