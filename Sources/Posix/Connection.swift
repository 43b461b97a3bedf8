import Glibc

/// One TCP connection on an `EventLoop`, with bounded buffers and back-pressure.
///
/// Reading: one chunk of at most `limits.readChunkBytes` per readiness event into the loop's shared scratch
/// buffer, handed straight to the delegate (no per-connection read buffer). Writing: `write` tries the socket
/// at once when nothing is queued; the rest is queued and flushed on writability. When the queue exceeds
/// `outboundHighWaterBytes` reading pauses (a peer that does not read our responses gets no more requests
/// served) and the delegate is told; when it drains to `outboundLowWaterBytes` reading resumes. A write past
/// `outboundMaxBytes` closes the connection.
///
/// Lifecycle: the loop's registration keeps the connection alive while open. Every path to closed (EOF, error,
/// overflow, `close()`, loop shutdown) goes through `close(_:)`, which deregisters, closes the descriptor and
/// tells the delegate exactly once. A peer half-close (EOF) closes the whole connection: our protocols never
/// need to keep sending after the peer stops.
///
/// Security: with a `ConnectionSecurity` (TLS) the socket carries its wire bytes and the delegate sees only
/// plaintext; `connectionDidConnect` waits for the handshake, which must finish within
/// `limits.handshakeTimeout` (slowloris handshakes are closed with `.handshakeTimeout`), and a failed handshake
/// closes with `.securityFailure` after sending the layer's alert.
///
/// All methods must be called on the loop thread.
public final class Connection {
    /// Why a connection closed.
    public enum CloseReason: Equatable, Sendable, CustomStringConvertible {
        /// The peer closed its side (read returned 0) or hung up.
        case endOfFile
        /// Our side called `close()`, or `closeAfterFlush()` finished.
        case local
        /// A system call failed: ECONNREFUSED on connect, ECONNRESET, EPIPE, ...
        case error(SystemError)
        /// More than `outboundMaxBytes` were queued for a peer that is not reading.
        case outboundOverflow
        /// The event loop shut down.
        case loopClosing
        /// The security layer refused the connection (TLS handshake or record failure).
        case securityFailure(String)
        /// The security handshake did not finish within `limits.handshakeTimeout`.
        case handshakeTimeout

        public var description: String {
            switch self {
            case .endOfFile: "end of file"
            case .local: "closed locally"
            case .error(let error): error.description
            case .outboundOverflow: "outbound buffer overflow"
            case .loopClosing: "event loop closing"
            case .securityFailure(let reason): reason
            case .handshakeTimeout: "TLS handshake timed out"
            }
        }
    }

    /// The socket; owned by this connection, closed by `close(_:)`.
    public let socket: Socket
    /// The peer's address.
    public let peer: SocketAddress
    /// The buffer bounds.
    public let limits: ConnectionLimits
    /// The loop this connection lives on.
    public let loop: EventLoop

    /// False until an outbound connect completes; accepted connections start connected.
    public private(set) var isConnected: Bool
    /// True once closed; later calls are no-ops.
    public private(set) var isClosed = false
    /// Bytes queued and not yet accepted by the kernel.
    public private(set) var outboundBytes = 0
    /// True between crossing the high-water mark and draining to the low-water mark.
    public private(set) var isOverLimit = false

    private var delegate: (any ConnectionDelegate)?
    /// The TLS layer, if any; nil for plaintext connections.
    public let security: (any ConnectionSecurity)?
    private var handshakeTimer: TimerID?
    /// The reason given to the delegate when `closeWhenFlushed` completes.
    private var flushedCloseReason = CloseReason.local
    private var outbound: [[UInt8]] = []
    /// Invariant: `outboundHead <= outbound.count`; chunks before it are fully sent.
    private var outboundHead = 0
    /// Bytes of `outbound[outboundHead]` already sent.
    private var headOffset = 0
    private var readingPausedByOwner = false
    private var closeWhenFlushed = false

    private init(socket: Socket, peer: SocketAddress, isConnected: Bool, loop: EventLoop, limits: ConnectionLimits,
                 security: (any ConnectionSecurity)?, delegate: any ConnectionDelegate) {
        self.socket = socket
        self.security = security
        self.peer = peer
        self.isConnected = isConnected
        self.loop = loop
        self.limits = limits
        self.delegate = delegate
    }

    /// Wraps an accepted socket, starts reading and calls `connectionDidConnect` before returning (with
    /// `security`, once its handshake completes instead). On failure the socket is closed.
    public static func adopt(_ socket: Socket, peer: SocketAddress, on loop: EventLoop,
                             limits: ConnectionLimits = ConnectionLimits(),
                             security: (any ConnectionSecurity)? = nil,
                             delegate: any ConnectionDelegate) throws(SystemError) -> Connection {
        let connection = Connection(socket: socket, peer: peer, isConnected: true, loop: loop, limits: limits,
                                    security: security, delegate: delegate)
        try connection.registerOrClose()
        if security == nil {
            delegate.connectionDidConnect(connection)
        } else {
            connection.armHandshakeTimer()
        }
        return connection
    }

    /// Starts connecting to `address`; the delegate gets `connectionDidConnect` or a close with the
    /// `SystemError` (e.g. ECONNREFUSED). Writes may be queued before the connect completes. When the kernel
    /// connects at once (common on loopback), `connectionDidConnect` runs before this method returns.
    /// - Throws: `SystemError` if the socket cannot be created or the refusal is immediate.
    /// With `security`, `connectionDidConnect` waits for its handshake, started once TCP connects.
    public static func connect(to address: SocketAddress, on loop: EventLoop,
                               limits: ConnectionLimits = ConnectionLimits(),
                               security: (any ConnectionSecurity)? = nil,
                               delegate: any ConnectionDelegate) throws(SystemError) -> Connection {
        let (socket, connected) = try Socket.connect(to: address)
        let connection = Connection(socket: socket, peer: address, isConnected: connected, loop: loop,
                                    limits: limits, security: security, delegate: delegate)
        try connection.registerOrClose()
        if security != nil {
            connection.armHandshakeTimer()
        }
        if connected {
            connection.didConnectSocket()
        }
        return connection
    }

    private func registerOrClose() throws(SystemError) {
        do {
            try loop.register(socket.descriptor, interest: desiredInterest) { [self] readiness in
                handle(readiness)
            }
        } catch {
            isClosed = true
            delegate = nil
            socket.close()
            throw error
        }
    }

    // MARK: - Owner API

    /// Queues `bytes` for sending, trying the socket immediately when nothing else is queued.
    /// Ignored after close. May close the connection (`.outboundOverflow`, or `.error` from the send).
    public func write(_ bytes: [UInt8]) {
        precondition(loop.isOnLoopThread, "Connection.write off the loop thread")
        guard !isClosed, !bytes.isEmpty else { return }
        guard let security else { return enqueueWire(bytes) }
        guard outboundBytes + security.bufferedPlaintextBytes + bytes.count <= limits.outboundMaxBytes else {
            close(.outboundOverflow)
            return
        }
        do {
            try security.send(bytes)
        } catch {
            return refuse(error)
        }
        enqueueWire(security.takeWireBytes())
    }

    /// Queues bytes exactly as they go on the wire.
    private func enqueueWire(_ bytes: [UInt8]) {
        guard !isClosed, !bytes.isEmpty else { return }
        guard outboundBytes + bytes.count <= limits.outboundMaxBytes else {
            close(.outboundOverflow)
            return
        }
        if outboundBytes == 0 && isConnected {
            return sendUnqueued(bytes)
        }
        outbound.append(bytes)
        outboundBytes += bytes.count
        afterOutboundChange()
    }

    /// Sends `bytes` straight from the caller's array when nothing is queued (the usual case: one answer per
    /// request), queueing only what the kernel did not take.
    ///
    /// Why: queueing first and then flushing cost an append to the queue, a removal, a reset and the
    /// back-pressure bookkeeping on every write, each a dynamically checked access to this class's state. When
    /// the kernel takes everything, nothing was queued before or after, so neither a mark nor the epoll
    /// interest can change (a close-after-flush with an empty queue closed when it was asked for, and an
    /// over-limit connection has bytes queued), and the bookkeeping is skipped.
    /// Precondition: nothing is queued (`outboundBytes == 0`, so `outbound` is empty) and the socket is connected.
    private func sendUnqueued(_ bytes: [UInt8]) {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(SystemError) -> IOResult in try socket.write(from: buffer) }
        }
        var sent = 0
        switch result {
        case .failure(let error):
            close(.error(error))
            return
        case .success(.bytes(let count)):
            if count == bytes.count { return }
            sent = count
        case .success(.wouldBlock), .success(.endOfFile):
            break
        }
        outbound.append(bytes)
        headOffset = sent
        outboundBytes = bytes.count - sent
        if sent > 0 { flush() }  // The rest at once, as the queued path does; usually the kernel is full.
        afterOutboundChange()
    }

    /// Closes once every queued byte is sent (for `Connection: close` responses). Reading stops now.
    public func closeAfterFlush() {
        guard !isClosed else { return }
        closeWhenFlushed = true
        afterOutboundChange()
    }

    /// Stops reading until `resumeReading()`, e.g. while a request is being processed.
    public func pauseReading() {
        readingPausedByOwner = true
        updateInterest()
    }

    /// Resumes reading after `pauseReading()` (back-pressure may still hold it paused).
    public func resumeReading() {
        readingPausedByOwner = false
        updateInterest()
    }

    /// Gives up the socket without closing it, for another loop to carry: deregisters it and drops the delegate, which
    /// hears nothing more. Only a plaintext, connected connection with nothing queued can move (queued bytes and a TLS
    /// session's state would stay behind); otherwise returns nil and changes nothing. Bytes the peer sends meanwhile
    /// wait in the kernel for the new owner.
    public func detach() -> Socket? {
        precondition(loop.isOnLoopThread, "Connection.detach off the loop thread")
        guard !isClosed, isConnected, security == nil, outboundBytes == 0, !closeWhenFlushed else { return nil }
        isClosed = true
        loop.deregister(socket.descriptor)
        delegate = nil
        return socket
    }

    /// Closes now, dropping queued bytes; the delegate hears `reason`. Idempotent.
    public func close(_ reason: CloseReason = .local) {
        guard !isClosed else { return }
        if reason == .local, let security, security.isEstablished, outboundBytes == 0 {
            // A clean TLS end (close_notify), best effort: one non-blocking write, never waited for.
            security.shutdown()
            let alert = security.takeWireBytes()
            _ = alert.withUnsafeBytes { bytes in Result { () throws(SystemError) in try socket.write(from: bytes) } }
        }
        isClosed = true
        if let handshakeTimer { loop.cancel(handshakeTimer) }
        handshakeTimer = nil
        loop.deregister(socket.descriptor)
        socket.close()
        outbound = []
        outboundHead = 0
        headOffset = 0
        outboundBytes = 0
        let delegate = self.delegate
        self.delegate = nil
        delegate?.connection(self, didCloseWith: reason)
    }

    // MARK: - Events

    private func handle(_ readiness: Readiness) {
        if readiness.contains(.loopClosing) {
            close(.loopClosing)
            return
        }
        if !isConnected {
            completeConnect()
        } else if readiness.contains(.writable) {
            let before = outboundBytes
            flush()
            afterOutboundChange()
            if !isClosed && outboundBytes != before { delegate?.connectionDidFlushQueued(self) }
        }
        if !isClosed && readiness.contains(.readable) {
            readOnce()
        }
        guard !isClosed else { return }
        if readiness.contains(.error) {
            close(.error(pendingError()))
        } else if readiness.contains(.hangup) && !readiness.contains(.readable) {
            close(.endOfFile)
        }
    }

    private func completeConnect() {
        do {
            try socket.finishConnect()
        } catch {
            close(.error(error))
            return
        }
        isConnected = true
        didConnectSocket()
        guard !isClosed else { return }
        flush()
        afterOutboundChange()
    }

    /// TCP is up: tell the delegate, or with security start the handshake (the delegate hears once it ends).
    private func didConnectSocket() {
        guard let security else {
            delegate?.connectionDidConnect(self)
            return
        }
        do {
            try security.start()
        } catch {
            return refuse(error)
        }
        enqueueWire(security.takeWireBytes())
        if !isClosed && security.isEstablished { didEstablish() }
    }

    /// The handshake just completed: stop its timer and tell the delegate.
    private func didEstablish() {
        if let handshakeTimer { loop.cancel(handshakeTimer) }
        handshakeTimer = nil
        delegate?.connectionDidConnect(self)
    }

    // MARK: - Security

    private func armHandshakeTimer() {
        handshakeTimer = loop.schedule(after: limits.handshakeTimeout) { [weak self] in
            guard let self else { return }
            self.handshakeTimer = nil
            if !self.isClosed && self.security?.isEstablished == false { self.close(.handshakeTimeout) }
        }
    }

    /// Wire bytes arrived on a secured connection: feed them in, send what the layer answers, and pass the
    /// plaintext on once (and only once) the handshake has completed.
    private func receiveSecured(_ wire: UnsafeRawBufferPointer, through security: any ConnectionSecurity) {
        let wasEstablished = security.isEstablished
        var plaintext: [UInt8] = []
        let isOpen: Bool
        do {
            isOpen = try security.receive(wire, into: &plaintext)
        } catch {
            return refuse(error)
        }
        enqueueWire(security.takeWireBytes())
        guard !isClosed else { return }
        if !wasEstablished && security.isEstablished {
            didEstablish()
            guard !isClosed else { return }
        }
        if !plaintext.isEmpty {
            plaintext.withUnsafeBytes { delegate?.connection(self, didRead: $0) }
        }
        if !isOpen && !isClosed { close(.endOfFile) }
    }

    /// Sends the layer's alert and the failure's reply, then closes with `.securityFailure`.
    private func refuse(_ failure: ConnectionSecurityFailure) {
        guard !isClosed else { return }
        var last = security?.takeWireBytes() ?? []
        last.append(contentsOf: failure.reply)
        enqueueWire(last)
        guard !isClosed else { return }
        flushedCloseReason = .securityFailure(failure.description)
        closeWhenFlushed = true
        afterOutboundChange()
    }

    private func readOnce() {
        let scratch = loop.readScratch
        let chunk = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<min(limits.readChunkBytes, scratch.count)])
        do {
            switch try socket.read(into: chunk) {
            case .bytes(let count):
                let bytes = UnsafeRawBufferPointer(rebasing: chunk[0..<count])
                if let security {
                    receiveSecured(bytes, through: security)
                } else {
                    delegate?.connection(self, didRead: bytes)
                }
            case .endOfFile:
                close(.endOfFile)
            case .wouldBlock:
                break
            }
        } catch {
            close(.error(error))
        }
    }

    /// Sends queued chunks until the kernel would block or the queue is empty; closes on a send error.
    private func flush() {
        while outboundHead < outbound.count {
            let chunk = outbound[outboundHead]
            let offset = headOffset
            let result = chunk.withUnsafeBytes { bytes in
                Result { () throws(SystemError) -> IOResult in
                    try socket.write(from: UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                }
            }
            switch result {
            case .failure(let error):
                close(.error(error))
                return
            case .success(.bytes(let count)):
                headOffset += count
                outboundBytes -= count
                if headOffset == chunk.count {
                    outbound[outboundHead] = []
                    outboundHead += 1
                    headOffset = 0
                }
            case .success(.wouldBlock), .success(.endOfFile):
                compactQueue()
                return
            }
        }
        outbound.removeAll(keepingCapacity: true)
        outboundHead = 0
    }

    private func compactQueue() {
        if outboundHead > 32 && outboundHead * 2 > outbound.count {
            outbound.removeFirst(outboundHead)
            outboundHead = 0
        }
    }

    /// Applies the back-pressure thresholds, the close-after-flush rule, and the epoll interest.
    private func afterOutboundChange() {
        guard !isClosed else { return }
        if closeWhenFlushed && outboundBytes == 0 {
            close(flushedCloseReason)
            return
        }
        if !isOverLimit && outboundBytes > limits.outboundHighWaterBytes {
            isOverLimit = true
            updateInterest()
            delegate?.connection(self, didChangeBackPressure: true)
        } else if isOverLimit && outboundBytes <= limits.outboundLowWaterBytes {
            isOverLimit = false
            updateInterest()
            delegate?.connection(self, didChangeBackPressure: false)
        } else {
            updateInterest()
        }
    }

    private var desiredInterest: Interest {
        var interest: Interest = []
        if isConnected && !readingPausedByOwner && !isOverLimit && !closeWhenFlushed { interest.insert(.readable) }
        if !isConnected || outboundBytes > 0 { interest.insert(.writable) }
        return interest
    }

    private func updateInterest() {
        guard !isClosed else { return }
        do {
            try loop.modify(socket.descriptor, interest: desiredInterest)
        } catch {
            close(.error(error))
        }
    }

    private func pendingError() -> SystemError {
        do {
            let code = try socket.pendingError()
            return SystemError(errno: code == 0 ? EIO : code, operation: "socket")
        } catch {
            return error
        }
    }
}
