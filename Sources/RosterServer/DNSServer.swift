import DNS
import Posix

#if canImport(Glibc)
    import Glibc
#endif

/// Bounds on the DNS listeners, so no client can make a node hold more than a fixed amount for DNS.
struct DNSServerLimits {
    /// Datagrams answered per readiness event, so a flood of queries cannot starve Raft and HTTP.
    var datagramsPerWakeUp = 64
    /// TCP connections held at once; more are closed as they are accepted.
    var tcpConnections = 128
    /// A TCP connection that completes no query for this long is closed (RFC 7766 §6.2.3 asks servers to
    /// time idle connections out in seconds, not minutes).
    var tcpIdleTimeout: Duration = .seconds(10)
    /// Answer bytes queued for one TCP client: reading pauses above the high mark (a client that does not
    /// read its answers gets no more served), and the connection is cut past the maximum.
    var tcpOutbound = ConnectionLimits(
        readChunkBytes: 16 * 1024, outboundHighWaterBytes: 256 * 1024, outboundLowWaterBytes: 64 * 1024,
        outboundMaxBytes: 1 << 20)
}

/// The DNS interface of a node: one UDP socket and one TCP listener on the same address, on the node's
/// event loop. Every query goes to `answer` (the node's answerer over its applied registry state); this
/// class only moves bytes and enforces `DNSServerLimits`.
final class DNSServer {
    typealias Answer = (_ query: [UInt8], _ transport: DNSTransport) -> [UInt8]?

    let address: SocketAddress
    let limits: DNSServerLimits
    let logger: Logger
    private let loop: EventLoop
    private let socket: DatagramSocket
    private var listener: Listener?
    private let answer: Answer
    /// One receive buffer for every datagram: a UDP payload is at most 65,507 bytes.
    private let receiveBuffer: UnsafeMutableRawBufferPointer
    private var sessions: [ObjectIdentifier: DNSTCPSession] = [:]
    private var isClosed = false

    /// Binds UDP and TCP on `address` (port 0: a free UDP port, and TCP on the same number).
    init(address: SocketAddress, loop: EventLoop, limits: DNSServerLimits = DNSServerLimits(), logger: Logger,
         answer: @escaping Answer) throws(SystemError) {
        self.loop = loop
        self.limits = limits
        self.logger = logger
        self.answer = answer
        socket = try DatagramSocket.bind(to: address)
        do {
            self.address = try socket.localAddress()
        } catch {
            socket.close()
            throw error
        }
        // Allocated once nothing before it can throw; from here on a failed start frees it in deinit.
        receiveBuffer = .allocate(byteCount: 65_536, alignment: 16)
        do {
            try loop.register(socket.descriptor, interest: .readable) { [unowned self] readiness in
                if readiness.contains(.loopClosing) { close() } else { receiveDatagrams() }
            }
        } catch {
            isClosed = true
            socket.close()
            throw error
        }
        do {
            listener = try Listener(
                on: self.address, backlog: 128, loop: loop,
                onError: { [unowned self] error in self.logger.warning("DNS accept failed", ["error": "\(error)"]) },
                onAccept: { [unowned self] socket, peer in self.accept(socket, peer: peer) })
        } catch {
            close()
            throw error
        }
    }

    deinit {
        receiveBuffer.deallocate()
    }

    /// Closes the socket, the listener and every TCP connection. Idempotent.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        loop.deregister(socket.descriptor)
        socket.close()
        listener?.close()
        for session in Array(sessions.values) { session.connection?.close() }
    }

    private func receiveDatagrams() {
        for _ in 0..<limits.datagramsPerWakeUp {
            let received: DatagramSocket.Received?
            do {
                received = try socket.receive(into: receiveBuffer)
            } catch {
                // An ICMP error for an earlier answer (ECONNREFUSED and the like): that client left.
                continue
            }
            guard let received else { return }
            guard !received.wasCut else { continue }  // over 64 KiB: no DNS message is that long
            let query = Array(UnsafeRawBufferPointer(rebasing: receiveBuffer[0..<received.count]))
            guard let response = answer(query, .udp) else { continue }
            do {
                _ = try socket.send(response, to: received.sender)
            } catch {
                logger.debug("DNS answer not sent", ["to": "\(received.sender)", "error": "\(error)"])
            }
        }
    }

    private func accept(_ accepted: Socket, peer: SocketAddress) {
        guard sessions.count < limits.tcpConnections else {
            logger.debug("DNS TCP connection refused: too many", ["peer": "\(peer)", "limit": "\(limits.tcpConnections)"])
            accepted.close()
            return
        }
        let session = DNSTCPSession(server: self, answer: answer)
        do {
            session.connection = try Connection.adopt(accepted, peer: peer, on: loop, limits: limits.tcpOutbound, delegate: session)
        } catch {
            logger.debug("DNS TCP connection failed", ["peer": "\(peer)", "error": "\(error)"])
            return
        }
        if session.connection?.isClosed == false { sessions[ObjectIdentifier(session)] = session }
    }

    func sessionClosed(_ session: DNSTCPSession) {
        sessions[ObjectIdentifier(session)] = nil
    }

    var tcpSessionCount: Int { sessions.count }
}
