import Posix
import Raft
import RosterNode

/// The sending side of the transport toward one peer: one outbound TCP connection, its overflow queue, and the
/// reconnect schedule. Loop-thread owned, like the transport.
///
/// States: *dialing* (a connect is in progress), *connected*, *waiting* (a reconnect timer is armed), and
/// *stopped* (the peer was removed or the transport closed). Frames are written only while connected; a frame
/// for a peer in any other state is dropped, because Raft retransmits and a stale queue replayed after a
/// reconnect would only delay fresh messages.
final class PeerLink: ConnectionDelegate {
    let member: Member
    let address: SocketAddress?
    private weak var transport: PeerTransport?
    private let loop: EventLoop
    private let options: PeerTransportOptions

    /// The current connection, dialing or connected; nil while waiting or stopped.
    private var connection: Connection?
    private var isDialing = false
    private(set) var isConnected = false
    private var isStopped = false
    private var reconnectTimer: TimerID?
    /// Consecutive failures since the last connection that stayed up; drives the backoff exponent.
    private var failures = 0
    private var connectedAt: UInt64 = 0
    private var queue: PeerOutboundQueue
    /// True from the first overflow drop until the queue drains, so an overload logs one line, not thousands.
    private var overflowLogged = false
    /// The last TLS refusal logged, so a peer refused for the same reason on every redial logs once per 30.
    private var loggedRefusal: String?
    private(set) var statistics = PeerLinkStatistics()

    init(member: Member, transport: PeerTransport, loop: EventLoop, options: PeerTransportOptions) {
        self.member = member
        self.address = SocketAddress(member.peerAddress)
        self.transport = transport
        self.loop = loop
        self.options = options
        self.queue = PeerOutboundQueue(limitBytes: options.outboundQueueBytes)
    }

    var queuedBytes: Int { queue.bytes }

    // MARK: - Sending

    /// Writes `frame` now, or queues it behind the connection's send window.
    func send(_ frame: PeerOutboundQueue.Frame) {
        guard isConnected, let connection else {
            statistics.droppedWhileDisconnected += 1
            return
        }
        statistics.framesSent += 1
        if queue.isEmpty && !connection.isOverLimit {
            connection.write(frame.bytes)
            return
        }
        switch queue.enqueue(frame) {
        case .queued(let dropped) where dropped > 0:
            statistics.droppedOnOverflow += dropped
            logOverflowOnce(dropped: dropped)
        case .queued:
            break
        case .refused:
            statistics.droppedOnOverflow += 1
            logOverflowOnce(dropped: 1)
        }
    }

    private func logOverflowOnce(dropped: Int) {
        guard !overflowLogged else { return }
        overflowLogged = true
        transport?.logger.warning("peer send queue full, dropping oldest messages", [
            "peer": member.name, "queued_bytes": queue.bytes, "dropped": dropped,
        ])
    }

    /// Records a frame dropped before encoding because the peer is not connected.
    func countDropWhileDisconnected() {
        statistics.droppedWhileDisconnected += 1
    }

    /// Moves queued frames into the connection until its window fills again.
    private func drainQueue() {
        while let connection, isConnected, !connection.isOverLimit, let frame = queue.dequeue() {
            connection.write(frame.bytes)
        }
        if queue.isEmpty { overflowLogged = false }
    }

    // MARK: - Connecting

    /// Starts a connection attempt now; failures schedule the next one.
    func dial() {
        guard !isStopped, connection == nil, reconnectTimer == nil else { return }
        guard let address else {
            transport?.logger.error("peer address is not IPv4 ip:port; not dialing", [
                "peer": member.name, "address": member.peerAddress,
            ])
            return
        }
        isDialing = true
        do {
            let security = try transport?.outboundSecurity(to: address, member: member)
            let started = try Connection.connect(to: address, on: loop, limits: options.outboundConnectionLimits,
                                                 security: security ?? nil, delegate: self)
            isDialing = false
            if connection == nil && !started.isClosed { connection = started }
        } catch {
            isDialing = false
            transport?.logger.debug("peer dial failed", ["peer": member.name, "error": error])
            scheduleReconnect()
        }
    }

    /// The peer just reached us on its own connection, so it is up: skip the rest of the backoff and
    /// dial now. Without this a restarted node waits up to the maximum backoff to hear from its leader.
    func peerIsBack() {
        guard !isStopped, connection == nil, let timer = reconnectTimer else { return }
        loop.cancel(timer)
        reconnectTimer = nil
        failures = 0
        dial()
    }

    /// Stops for good: cancels the reconnect timer and closes the connection without reporting it.
    func stop() {
        isStopped = true
        if let reconnectTimer { loop.cancel(reconnectTimer) }
        reconnectTimer = nil
        let closing = connection
        connection = nil
        isConnected = false
        queue.removeAll()
        closing?.close()
    }

    private func scheduleReconnect() {
        guard !isStopped, reconnectTimer == nil else { return }
        let delay = Self.backoff(failures: failures, initial: options.reconnectInitialDelay,
                                 maximum: options.reconnectMaxDelay, jitter: Double.random(in: 0.5...1.0))
        failures += 1
        reconnectTimer = loop.schedule(after: delay) { [weak self] in
            guard let self else { return }
            self.reconnectTimer = nil
            self.dial()
        }
    }

    /// `initial × 2^failures`, capped at `maximum`, scaled by `jitter` (0.5…1) so members that lost a peer at
    /// the same moment do not all redial it in lockstep.
    static func backoff(failures: Int, initial: Duration, maximum: Duration, jitter: Double) -> Duration {
        let exponential = initial * (1 << min(failures, 20))
        return min(exponential, maximum) * jitter
    }

    // MARK: - ConnectionDelegate

    func connectionDidConnect(_ connection: Connection) {
        guard connection === self.connection || (self.connection == nil && isDialing) else { return }
        self.connection = connection
        isConnected = true
        connectedAt = loop.now
        statistics.connects += 1
        transport?.logger.info("peer connected", ["peer": member.name, "address": connection.peer])
        transport?.peerDidConnect(member.id)
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        // Outbound connections are send-only; the peer has no reason to write, and its bytes are ignored.
    }

    func connection(_ connection: Connection, didChangeBackPressure isOverLimit: Bool) {
        guard connection === self.connection, !isOverLimit else { return }
        drainQueue()
    }

    func connection(_ connection: Connection, didCloseWith reason: Connection.CloseReason) {
        guard connection === self.connection || (self.connection == nil && isDialing) else { return }
        let wasConnected = isConnected
        self.connection = nil
        isConnected = false
        queue.removeAll()
        overflowLogged = false
        if wasConnected {
            // A connection that stayed up a while resets the backoff; one that breaks at once does not, so a
            // peer that accepts and immediately drops us is not redialed in a tight loop.
            let stayedUp = loop.now - connectedAt > options.reconnectMaxDelay.nanosecondsForTimers
            if stayedUp { failures = 0 }
            transport?.logger.warning("peer connection lost", ["peer": member.name, "reason": reason])
            transport?.peerDidDisconnect(member.id)
        } else if case .securityFailure(let refusal) = reason, refusal != loggedRefusal || failures.isMultiple(of: 30) {
            loggedRefusal = refusal
            transport?.logger.warning("peer refused our TLS connection, or its certificate did not verify", [
                "peer": member.name, "reason": reason, "attempts": failures + 1,
            ])
        } else {
            transport?.logger.debug("peer connect failed", ["peer": member.name, "reason": reason])
        }
        scheduleReconnect()
    }
}

/// Counters for one peer link, for tests and the status endpoint.
public struct PeerLinkStatistics: Sendable, Equatable {
    /// Frames accepted for sending while connected (written or queued).
    public var framesSent = 0
    /// Frames dropped because the peer was not connected.
    public var droppedWhileDisconnected = 0
    /// Frames dropped because the send queue was full.
    public var droppedOnOverflow = 0
    /// Successful connects so far.
    public var connects = 0
}

extension Duration {
    /// Whole nanoseconds, for comparing with `EventLoop.now`.
    var nanosecondsForTimers: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}
