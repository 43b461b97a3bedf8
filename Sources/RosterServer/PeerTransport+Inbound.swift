import Posix
import Raft
import Wire

/// The receiving side of one accepted peer connection: cuts bytes into frames and hands them to the transport.
///
/// The connection is anonymous until its first valid frame names the sender; from then on every frame must
/// name the same sender. A connection that sends nothing valid within the handshake timeout is closed, so idle
/// or hostile sockets cannot pile up.
final class PeerInboundSession: ConnectionDelegate {
    private weak var transport: PeerTransport?
    private var decoder: PeerFrameDecoder
    /// The member this connection speaks for, set by its first frame.
    private(set) var sender: NodeID?
    private(set) var connection: Connection?
    /// The address it came from, kept past close for logging.
    private(set) var remote: SocketAddress?
    private var handshakeTimer: TimerID?
    private let loop: EventLoop

    init(transport: PeerTransport, loop: EventLoop, clusterID: UInt64, maxFrameBytes: Int) {
        self.transport = transport
        self.loop = loop
        self.decoder = PeerFrameDecoder(clusterID: clusterID, maxPayloadBytes: maxFrameBytes)
    }

    /// Remembers the adopted connection and arms the handshake timer.
    func start(_ connection: Connection, handshakeTimeout: Duration) {
        self.connection = connection
        self.remote = connection.peer
        handshakeTimer = loop.schedule(after: handshakeTimeout) { [weak self] in
            guard let self, let connection = self.connection, self.sender == nil else { return }
            self.handshakeTimer = nil
            self.transport?.logger.warning("peer connection sent no frame in time; closing", [
                "remote": connection.peer,
            ])
            connection.close()
        }
    }

    /// Records the sender named by a frame; false if it differs from the one this connection already named.
    func identify(as id: NodeID) -> Bool {
        if let sender { return sender == id }
        sender = id
        if let handshakeTimer { loop.cancel(handshakeTimer) }
        handshakeTimer = nil
        return true
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        decoder.feed(bytes)
        while !connection.isClosed {
            let frame: PeerFrame?
            do {
                frame = try decoder.next()
            } catch {
                transport?.logger.warning("bad peer frame; closing connection", [
                    "remote": connection.peer, "error": error,
                ])
                transport?.countRejectedConnection()
                connection.close()
                return
            }
            guard let frame, let transport else { return }
            transport.receive(frame, on: self, connection: connection)
        }
    }

    func connection(_ connection: Connection, didCloseWith reason: Connection.CloseReason) {
        if let handshakeTimer { loop.cancel(handshakeTimer) }
        handshakeTimer = nil
        self.connection = nil
        transport?.inboundDidClose(self, reason: reason)
    }
}
