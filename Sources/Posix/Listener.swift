import Glibc

/// A listening socket on an `EventLoop` that accepts connections and hands them to a closure.
///
/// Accepting is bounded per wake-up (`acceptBatch`), so a connection storm cannot starve established
/// connections. When the process or system runs out of descriptors or memory (EMFILE, ENFILE, ENOBUFS,
/// ENOMEM), accepting pauses for `retryDelay`: with level-triggered epoll the pending connection would
/// otherwise wake the loop in a tight spin.
public final class Listener {
    /// The bound address, with the kernel-chosen port when bound to port 0.
    public let localAddress: SocketAddress
    /// The listening socket; closed by `close()`.
    public let socket: Socket
    private let loop: EventLoop
    private let onAccept: (Socket, SocketAddress) -> Void
    private let onError: (SystemError) -> Void
    private var isClosed = false
    private var retryTimer: TimerID?

    /// Most connections accepted per readiness event.
    public static let acceptBatch = 64
    /// How long accepting pauses after a resource-exhaustion error.
    public static let retryDelay: Duration = .milliseconds(100)

    /// Binds, listens and starts accepting on `loop`.
    /// - Parameters:
    ///   - address: Where to listen; port 0 picks a free port (see `localAddress`).
    ///   - backlog: The kernel accept queue length.
    ///   - onError: Told about accept errors that do not stop the listener.
    ///   - onAccept: Receives each accepted non-blocking socket; it owns (and must close) the socket.
    public init(on address: SocketAddress, backlog: Int32 = 1024, loop: EventLoop,
                onError: @escaping (SystemError) -> Void = { _ in },
                onAccept: @escaping (Socket, SocketAddress) -> Void) throws(SystemError) {
        let socket = try Socket.listen(on: address, backlog: backlog)
        do {
            localAddress = try socket.localAddress()
        } catch {
            socket.close()
            throw error
        }
        self.socket = socket
        self.loop = loop
        self.onAccept = onAccept
        self.onError = onError
        do {
            try loop.register(socket.descriptor, interest: .readable) { [self] readiness in
                if readiness.contains(.loopClosing) { close() } else { acceptPending() }
            }
        } catch {
            socket.close()
            throw error
        }
    }

    /// Stops accepting and closes the socket. Idempotent.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        if let retryTimer { loop.cancel(retryTimer) }
        loop.deregister(socket.descriptor)
        socket.close()
    }

    private func acceptPending() {
        for _ in 0..<Self.acceptBatch {
            guard !isClosed else { return }
            do {
                guard let (accepted, peer) = try socket.accept() else { return }
                onAccept(accepted, peer)
            } catch {
                switch error.errno {
                case ECONNABORTED, EPROTO, EPERM:
                    continue  // that one connection failed; others may be waiting
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    pauseAccepting()
                    onError(error)
                    return
                default:
                    onError(error)
                    return
                }
            }
        }
    }

    private func pauseAccepting() {
        do {
            try loop.modify(socket.descriptor, interest: .none)
        } catch {
            onError(error)
        }
        retryTimer = loop.schedule(after: Self.retryDelay) { [weak self] in
            self?.resumeAccepting()
        }
    }

    private func resumeAccepting() {
        retryTimer = nil
        guard !isClosed else { return }
        do {
            try loop.modify(socket.descriptor, interest: .readable)
        } catch {
            onError(error)
        }
    }
}
