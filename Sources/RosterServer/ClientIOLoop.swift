import Posix

/// The I/O thread's side of the client relay: the connections this thread carries (socket reads and writes,
/// TLS), whose plaintext goes to the Raft loop as `RelayEvent`s and whose answers come back as `RelayCommand`s.
///
/// Owned by its I/O thread: created before the thread starts work and afterwards touched only by jobs that
/// run on that thread. Events of one loop turn go to the Raft loop as one job, so a burst of requests from
/// many connections costs the Raft loop one wake-up and reaches its driver in one Ready.
final class ClientIOLoop {
    /// Where events go: the Raft loop's side of the relay.
    private let raft: EventLoopHandle
    private let receiver: LoopConfined<ClientIOLoops>
    private let index: Int
    private var endpoints: [UInt64: RelayEndpoint] = [:]
    private var events: [RelayEvent] = []
    /// The connections with bytes written and not yet reported `sent` (each endpoint counts its own bytes). A
    /// small answer the kernel took at once is reported with the next events this loop sends anyway, so a request
    /// costs the Raft loop one wake-up, not two; a queue the kernel did not take, or
    /// `urgentAcknowledgementBytes`, is reported this turn. A list of endpoints rather than a dictionary by ID:
    /// two hashed updates per write and a lookup per report cost about 800 instructions of an etcd read.
    private var unreportedEndpoints: [RelayEndpoint] = []
    private var isFlushScheduled = false
    private var loop: EventLoop?
    /// Answers serializable reads on this loop; nil when the node has none (`--io-threads 0` has no I/O loops).
    let localReads: LocalReadServer?
    /// The published view and this loop's statistics, for the etcd reads its HTTP/2 connections answer (`GRPCFront`).
    let views: LocalReads?
    let viewStatistics: LocalReads.Statistics?
    /// The linearizable reads this loop answers after a read barrier.
    let readBarriers = ReadBarriers()
    /// How long a connection this loop serves may stay silent (the session's idle timeout, which it hands over
    /// with the connection's requests).
    let idleTimeoutMilliseconds: UInt64

    /// Unreported sent bytes of one connection past which they are reported this turn. Far below the high-water
    /// mark, so a session never waits for a drain that only an unreported acknowledgement would show.
    static let urgentAcknowledgementBytes = 64 * 1024

    init(
        index: Int, raft: EventLoopHandle, receiver: LoopConfined<ClientIOLoops>, localReads: LocalReadServer?,
        views: LocalReads?, idleTimeout: Duration
    ) {
        self.index = index
        self.raft = raft
        self.receiver = receiver
        self.localReads = localReads
        self.views = views
        self.viewStatistics = views?.statistics[index]
        self.idleTimeoutMilliseconds = UInt64(idleTimeout.components.seconds) * 1_000
            + UInt64(idleTimeout.components.attoseconds / 1_000_000_000_000_000)
    }

    /// Carries out the Raft loop's commands, in order.
    func perform(_ commands: [RelayCommand], on loop: EventLoop) {
        self.loop = loop
        for command in commands {
            switch command {
            case .adopt(let id, let socket, let peer, let security, let unread):
                adopt(id: id, socket: socket, peer: peer, security: security.security, unread: unread, on: loop)
            case .write(let id, let bytes):
                guard let endpoint = endpoints[id], let connection = endpoint.connection else { continue }
                connection.write(bytes)
                if !connection.isClosed { acknowledge(bytes.count, of: endpoint, outboundBytes: connection.outboundBytes) }
            case .closeAfterFlush(let id):
                endpoints[id]?.connection?.closeAfterFlush()
            case .close(let id):
                // The Raft side already told its session; the close event that follows is ignored there.
                endpoints[id]?.connection?.close()
            case .consumed(let id, let bytes):
                endpoints[id]?.consumed(bytes)
            case .idle(let id, let readsConsumed):
                endpoints[id]?.sessionIsIdle(readsConsumed: readsConsumed, on: loop)
            case .http2(let id, let operations):
                endpoints[id]?.front?.perform(operations)
            case .readBarrierPassed(let token, let appliedIndex):
                readBarriers.passed(token, appliedIndex: appliedIndex)
            }
        }
    }

    private func adopt(
        id: UInt64, socket: Socket, peer: SocketAddress, security: (any ConnectionSecurity)?, unread: [UInt8], on loop: EventLoop
    ) {
        let endpoint = RelayEndpoint(id: id, relay: self)
        endpoints[id] = endpoint
        do {
            let connection = try Connection.adopt(socket, peer: peer, on: loop, security: security, delegate: endpoint)
            endpoint.connection = connection
            if !unread.isEmpty, !connection.isClosed {
                unread.withUnsafeBytes { endpoint.connection(connection, didRead: $0) }
            }
        } catch {
            endpoints[id] = nil
            report(.closed(id: id, reason: .error(error)))
        }
    }

    private func acknowledge(_ count: Int, of endpoint: RelayEndpoint, outboundBytes: Int) {
        guard count > 0 else { return }
        if endpoint.unreportedSentBytes == 0 { unreportedEndpoints.append(endpoint) }
        endpoint.unreportedSentBytes += count
        if outboundBytes > 0 || endpoint.unreportedSentBytes >= Self.urgentAcknowledgementBytes { scheduleFlush() }
    }

    /// Queues an event for the Raft loop, sent at the end of this loop turn with the others.
    func report(_ event: RelayEvent) {
        if case .closed(let id, _) = event {
            endpoints.removeValue(forKey: id)?.unreportedSentBytes = 0
        }
        events.append(event)
        scheduleFlush()
    }

    /// Queues a linearizable read for the read barrier asked at the end of this loop turn (`ReadBarriers`).
    func waitForReadBarrier(_ waiter: @escaping ReadBarriers.Waiter) {
        readBarriers.wait(waiter)
        scheduleFlush()
    }

    private func scheduleFlush() {
        guard !isFlushScheduled, let loop else { return }
        isFlushScheduled = true
        _ = loop.schedule(after: .zero) { [unowned self] in self.flush() }
    }

    /// Hands this turn's events to the Raft loop, unreported sends last with each connection's queue as it is
    /// now (newer than any event before them).
    func flush() {
        isFlushScheduled = false
        for endpoint in unreportedEndpoints {
            let bytes = endpoint.unreportedSentBytes
            endpoint.unreportedSentBytes = 0
            // Zero: the connection closed after its writes, and its unreported bytes went with it.
            guard bytes > 0, let connection = endpoint.connection else { continue }
            events.append(.sent(id: endpoint.id, acknowledgedBytes: bytes, outboundBytes: connection.outboundBytes))
        }
        unreportedEndpoints.removeAll(keepingCapacity: true)
        if let token = readBarriers.ask() { events.append(.readBarrier(token: token)) }
        guard !events.isEmpty else { return }
        let batch = events
        events = []
        let receiver = self.receiver
        let index = self.index
        raft.execute { receiver.value.receive(batch, from: index) }
    }
}

/// One client connection on an I/O loop: passes what happens to it on to the Raft loop.
final class RelayEndpoint: ConnectionDelegate {
    /// Bytes read and not yet taken by the session above which reading pauses, so a client that sends faster
    /// than the Raft loop parses cannot grow the relay's queue without bound.
    static let inboundBoundBytes = 1 << 20

    let id: UInt64
    private unowned let relay: ClientIOLoop
    var connection: Connection?
    /// Bytes written and not yet reported `sent` to the Raft loop; above zero only while this endpoint is listed in
    /// its loop's `unreportedEndpoints` (a closed endpoint may stay listed with zero until that list is flushed).
    var unreportedSentBytes = 0
    /// Bytes passed to the Raft loop that its session has not reported taken.
    private var inboundInFlight = 0
    private var isReadingPaused = false
    /// Reads passed to the Raft loop, to match against the session's `idle` report.
    private var readsRelayed: UInt64 = 0
    /// True while the session is idle and every read it was sent is answered: this loop may then answer the next
    /// request itself, and until it passes one on, it also times the connection's silence (`idleTimeout`).
    private var servesLocally = false
    private var lastLocalActivity: UInt64 = 0
    private var idleTimer: TimerID?
    /// A linearizable read this loop holds for a read barrier (`ReadBarriers`), with its bytes, and what the client
    /// sent after it.
    private var held: (read: LocalReadServer.HeldRead, bytes: [UInt8])?
    private var arrivedWhileHeld: [UInt8] = []
    /// Tells HTTP/1.1 from h2c by the connection's first bytes.
    private var prefaceProbe = PrefaceProbe()
    /// The connection's HTTP/2 layer, once the client sent the HTTP/2 preface: etcd's gRPC API.
    private(set) var front: GRPCFront?

    init(id: UInt64, relay: ClientIOLoop) {
        self.id = id
        self.relay = relay
    }

    func consumed(_ bytes: Int) {
        inboundInFlight -= bytes
        if isReadingPaused && inboundInFlight <= Self.inboundBoundBytes {
            isReadingPaused = false
            connection?.resumeReading()
        }
    }

    func connectionDidConnect(_ connection: Connection) {
        relay.report(.connected(id: id, peerCommonName: connection.peerCommonName))
    }

    /// The session reported itself idle after `readsConsumed` reads. Reads still on their way to it keep the
    /// connection with the session (their answers come first); it reports idle again once they are answered.
    func sessionIsIdle(readsConsumed: UInt64, on loop: EventLoop) {
        guard readsConsumed == readsRelayed, relay.localReads != nil, connection != nil else { return }
        servesLocally = true
        lastLocalActivity = MonotonicClock.milliseconds()
        if idleTimer == nil { armIdleTimer(on: loop, afterMilliseconds: relay.idleTimeoutMilliseconds) }
    }

    private func armIdleTimer(on loop: EventLoop, afterMilliseconds delay: UInt64) {
        idleTimer = loop.schedule(after: .milliseconds(delay)) { [weak self] in self?.idleTimerFired(on: loop) }
    }

    /// Closes a connection this loop serves that stayed silent for the idle timeout, as its session would.
    private func idleTimerFired(on loop: EventLoop) {
        idleTimer = nil
        guard servesLocally, let connection else { return }
        let silentFor = MonotonicClock.milliseconds() &- lastLocalActivity
        let timeout = relay.idleTimeoutMilliseconds
        guard silentFor >= timeout else { return armIdleTimer(on: loop, afterMilliseconds: timeout - silentFor) }
        connection.close()
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        if let front {
            return noteInbound(front.receive(bytes), on: connection)
        }
        switch prefaceProbe.inspect(bytes) {
        case .undecided:
            return
        case .http2(let early):
            let front = GRPCFront(
                relay: relay, endpoint: self, id: id, connection: connection, reads: relay.views, statistics: relay.viewStatistics)
            self.front = front
            var passed = 0
            if !early.isEmpty { passed += early.withUnsafeBytes { front.receive($0) } }
            passed += front.receive(bytes)
            noteInbound(passed, on: connection)
        case .http1(let early) where !early.isEmpty:
            (early + Array(bytes)).withUnsafeBytes { relayRead($0, on: connection) }
        case .http1, .alreadyDecided:
            relayRead(bytes, on: connection)
        }
    }

    private func relayRead(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        if held != nil {
            // Answered, or passed on, after the held read: answers leave in the order requests came.
            arrivedWhileHeld.append(contentsOf: bytes)
            if !isReadingPaused && arrivedWhileHeld.count > Self.inboundBoundBytes {
                isReadingPaused = true
                connection.pauseReading()
            }
            return
        }
        if servesLocally {
            if connection.outboundBytes == 0, let localReads = relay.localReads {
                switch localReads.serve(bytes) {
                case .answered(let answer):
                    lastLocalActivity = MonotonicClock.milliseconds()
                    connection.write(answer)
                    return
                case .afterBarrier(let read):
                    lastLocalActivity = MonotonicClock.milliseconds()
                    held = (read, Array(bytes))
                    relay.waitForReadBarrier { [weak self] appliedIndex in self?.barrierPassed(appliedIndex: appliedIndex) }
                    return
                case .passOn:
                    break
                }
            }
            servesLocally = false
        }
        passOn(bytes, on: connection)
    }

    private func passOn(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        readsRelayed += 1
        relay.report(.read(id: id, bytes: Array(bytes)))
        noteInbound(bytes.count, on: connection)
    }

    /// The read barrier the held read waited for passed at `appliedIndex` (nil: it failed): the read is answered from
    /// the newest view, or passed on to the session as it arrived when that view cannot answer it; then what arrived
    /// meanwhile is served as if it arrived now.
    private func barrierPassed(appliedIndex: UInt64?) {
        guard let (read, bytes) = held, let connection else { return }
        held = nil
        let rest = arrivedWhileHeld
        arrivedWhileHeld = []
        if isReadingPaused && inboundInFlight <= Self.inboundBoundBytes {
            isReadingPaused = false
            connection.resumeReading()
        }
        if let appliedIndex, let answer = relay.localReads?.answer(read, afterBarrierAt: appliedIndex) {
            lastLocalActivity = MonotonicClock.milliseconds()
            connection.write(answer)
            if !rest.isEmpty { rest.withUnsafeBytes { relayRead($0, on: connection) } }
        } else {
            servesLocally = false
            (bytes + rest).withUnsafeBytes { passOn($0, on: connection) }
        }
    }

    /// Counts octets the connection's HTTP/2 layer passed to the Raft loop outside a read (a call it held for a read
    /// barrier that failed).
    func passedOn(_ count: Int) {
        guard let connection else { return }
        noteInbound(count, on: connection)
    }

    /// Counts octets passed to the Raft loop, pausing reads while too many are not yet taken there.
    private func noteInbound(_ count: Int, on connection: Connection) {
        inboundInFlight += count
        if !isReadingPaused && inboundInFlight > Self.inboundBoundBytes {
            isReadingPaused = true
            connection.pauseReading()
        }
    }

    func connectionDidFlushQueued(_ connection: Connection) {
        if let front { return front.drained() }
        relay.report(.sent(id: id, acknowledgedBytes: 0, outboundBytes: connection.outboundBytes))
    }

    func connection(_ connection: Connection, didChangeBackPressure isOverLimit: Bool) {
        if let front {
            if !isOverLimit { front.drained() }
            return
        }
        relay.report(.backPressure(id: id, isOverLimit: isOverLimit, outboundBytes: connection.outboundBytes))
    }

    func connection(_ connection: Connection, didCloseWith reason: Connection.CloseReason) {
        self.connection = nil
        servesLocally = false
        held = nil
        arrivedWhileHeld = []
        front?.closed()
        front = nil
        if let idleTimer { connection.loop.cancel(idleTimer) }
        idleTimer = nil
        relay.report(.closed(id: id, reason: reason))
    }
}
