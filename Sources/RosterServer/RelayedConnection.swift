import HTTP2
import Posix

/// A client connection whose socket an I/O loop carries, as its session on the Raft loop sees it.
///
/// Writes and closes go to the I/O loop as `RelayCommand`s; what happens there comes back through
/// `ClientIOLoops.receive` and reaches the delegate exactly as a `Connection`'s events would: connected,
/// reads in order, back-pressure changes, and one close.
///
/// Back-pressure: the bytes written here and not yet acknowledged by the I/O loop count as queued, so a
/// burst of writes in one turn sees the high-water mark at once, as it would on a local `Connection`;
/// the I/O loop's own mark (its kernel queue filling) is reported and counts too. The connection is over
/// its limit while either says so, and drains when both are at or below the low-water mark.
final class RelayedConnection: ClientLink {
    let id: UInt64
    let peer: SocketAddress
    let limits = ConnectionLimits()
    unowned let relay: ClientIOLoops
    /// The index of the I/O loop that carries the socket.
    let ioLoop: Int
    private(set) var isClosed = false
    /// Set when the I/O loop reports the connection up (the TLS engine stays on that loop).
    private(set) var peerCommonName: String?
    private(set) var isOverLimit = false
    /// Held strongly until closed, as a `Connection` holds its delegate.
    private var delegate: (any ClientLinkDelegate)?
    /// Bytes written here that the I/O loop has not reported taken yet.
    private var unacknowledgedBytes = 0
    /// The I/O loop's queue, as last reported.
    private var reportedOutboundBytes = 0
    private var isRemoteOverLimit = false
    /// Bytes read and handed to the session since the I/O loop was last told (see `RelayEndpoint`).
    private var unreportedConsumedBytes = 0
    /// Reads handed to the session, for `handOverIdle`.
    private var readsDelivered: UInt64 = 0

    init(id: UInt64, ioLoop: Int, peer: SocketAddress, relay: ClientIOLoops, delegate: any ClientLinkDelegate) {
        self.id = id
        self.ioLoop = ioLoop
        self.peer = peer
        self.relay = relay
        self.delegate = delegate
    }

    var loop: EventLoop { relay.loop }

    var outboundBytes: Int { unacknowledgedBytes + reportedOutboundBytes }

    // MARK: - ClientLink

    func write(_ bytes: [UInt8]) {
        guard !isClosed, !bytes.isEmpty else { return }
        guard outboundBytes + bytes.count <= limits.outboundMaxBytes else {
            // As a local `Connection` does: a client that reads nothing cannot grow our memory without bound.
            relay.send(.close(id: id), to: ioLoop)
            didClose(.outboundOverflow)
            return
        }
        unacknowledgedBytes += bytes.count
        relay.send(.write(id: id, bytes: bytes), to: ioLoop)
        updateBackPressure()
    }

    func closeAfterFlush() {
        guard !isClosed else { return }
        relay.send(.closeAfterFlush(id: id), to: ioLoop)
    }

    func closeNow() {
        guard !isClosed else { return }
        relay.send(.close(id: id), to: ioLoop)
        didClose(.local)
    }

    /// Sends the gateway's operations to the connection's HTTP/2 layer on the I/O loop (`GRPCFront`).
    func sendHTTP2(_ operations: [HTTP2Operation]) {
        guard !isClosed, !operations.isEmpty else { return }
        relay.send(.http2(id: id, operations: operations), to: ioLoop)
    }

    /// Lets the I/O loop answer the next requests itself (`RelayCommand.idle`); it also times the silence.
    func handOverIdle() -> Bool {
        guard !isClosed else { return false }
        relay.send(.idle(id: id, readsConsumed: readsDelivered), to: ioLoop)
        return true
    }

    // MARK: - Events from the I/O loop

    func didConnect(peerCommonName: String?) {
        guard !isClosed else { return }
        self.peerCommonName = peerCommonName
        delegate?.linkDidConnect(self)
    }

    func didRead(_ bytes: [UInt8]) {
        guard !isClosed else { return }
        readsDelivered += 1
        bytes.withUnsafeBytes { delegate?.link(self, didRead: $0) }
        noteConsumed(bytes.count)
    }

    /// Counts octets the session took, telling the I/O loop in batches so it may read on (`RelayEndpoint`).
    private func noteConsumed(_ count: Int) {
        unreportedConsumedBytes += count
        if unreportedConsumedBytes >= RelayEndpoint.inboundBoundBytes / 4 && !isClosed {
            relay.send(.consumed(id: id, bytes: unreportedConsumedBytes), to: ioLoop)
            unreportedConsumedBytes = 0
        }
    }

    func didReceiveHTTP2(_ events: [HTTP2Event], progress: [StreamProgress]) {
        guard !isClosed else { return }
        delegate?.link(self, didReceiveHTTP2: events, progress: progress)
        var dataBytes = 0
        for case .data(_, let bytes, _) in events { dataBytes += bytes.count }
        noteConsumed(dataBytes)
    }

    func didSend(acknowledged: Int, outboundBytes: Int) {
        unacknowledgedBytes -= acknowledged
        reportedOutboundBytes = outboundBytes
        updateBackPressure()
    }

    func didChangeRemoteBackPressure(_ isOverLimit: Bool, outboundBytes: Int) {
        isRemoteOverLimit = isOverLimit
        reportedOutboundBytes = outboundBytes
        updateBackPressure()
    }

    func didClose(_ reason: Connection.CloseReason) {
        guard !isClosed else { return }
        isClosed = true
        relay.remove(id)
        let delegate = self.delegate
        self.delegate = nil
        delegate?.link(self, didCloseWith: reason)
    }

    /// Tells the delegate when the combined queue crosses a mark, as `Connection` does.
    private func updateBackPressure() {
        guard !isClosed else { return }
        if !isOverLimit && (isRemoteOverLimit || outboundBytes > limits.outboundHighWaterBytes) {
            isOverLimit = true
            delegate?.link(self, didChangeBackPressure: true)
        } else if isOverLimit && !isRemoteOverLimit && outboundBytes <= limits.outboundLowWaterBytes {
            isOverLimit = false
            delegate?.link(self, didChangeBackPressure: false)
        }
    }
}
