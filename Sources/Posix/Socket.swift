import CLinuxShim
import Glibc

/// The result of one non-blocking read or write.
public enum IOResult: Equatable, Sendable {
    /// This many bytes were transferred (more than zero).
    case bytes(Int)
    /// Nothing could be transferred now; wait for readiness.
    case wouldBlock
    /// The peer closed its sending side (reads only).
    case endOfFile
}

/// Which direction(s) `Socket.shutdown` closes.
public enum ShutdownDirection: Sendable {
    case read, write, both

    var rawValue: Int32 {
        switch self {
        case .read: Int32(SHUT_RD)
        case .write: Int32(SHUT_WR)
        case .both: Int32(SHUT_RDWR)
        }
    }
}

/// A non-blocking IPv4 TCP socket descriptor.
///
/// A plain value: whoever created it closes it exactly once (`Connection` and `Listener` do this for the sockets
/// they own). Every descriptor is opened with `O_NONBLOCK` and `O_CLOEXEC` in the same call, so no window exists
/// where a forked child could inherit it or a call could block the loop.
public struct Socket: Hashable, Sendable, CustomStringConvertible {
    /// The file descriptor.
    public let descriptor: Int32

    /// Wraps an existing descriptor; the caller vouches that it is a non-blocking TCP socket.
    public init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    public var description: String { "Socket(fd: \(descriptor))" }

    private static let socketFlags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)

    /// A new, unconnected non-blocking TCP socket.
    static func makeTCP() throws(SystemError) -> Socket {
        let type = Int32(SOCK_STREAM.rawValue) | socketFlags
        return Socket(descriptor: try syscallCompleted("socket") { Glibc.socket(AF_INET, type, 0) })
    }

    // MARK: - Listening

    /// A listening socket bound to `address` with `SO_REUSEADDR` (so a restarted node can rebind while old
    /// connections sit in TIME_WAIT). Port 0 picks a free port; read it back with `localAddress()`.
    /// - Parameter backlog: The kernel's accept queue length (capped by `net.core.somaxconn`).
    public static func listen(on address: SocketAddress, backlog: Int32 = 1024) throws(SystemError) -> Socket {
        let socket = try makeTCP()
        do {
            try socket.setOption(SOL_SOCKET, SO_REUSEADDR, 1, "setsockopt(SO_REUSEADDR)")
            _ = try syscallCompleted("bind") {
                address.withSockAddr { Glibc.bind(socket.descriptor, $0, $1) }
            }
            _ = try syscallCompleted("listen") { Glibc.listen(socket.descriptor, backlog) }
        } catch {
            socket.close()
            throw error
        }
        return socket
    }

    /// Accepts one pending connection, or nil if none is pending. The new socket is non-blocking, close-on-exec
    /// and has `TCP_NODELAY` set, because our request/response traffic is small messages that Nagle would delay.
    public func accept() throws(SystemError) -> (socket: Socket, peer: SocketAddress)? {
        var storage = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = try syscall("accept4") {
            withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept4(descriptor, $0, &length, Self.socketFlags)
                }
            }
        }
        guard case .completed(let descriptor) = result else { return nil }
        let accepted = Socket(descriptor: descriptor)
        do {
            try accepted.setOption(Int32(IPPROTO_TCP), TCP_NODELAY, 1, "setsockopt(TCP_NODELAY)")
        } catch {
            accepted.close()
            throw error
        }
        return (accepted, SocketAddress(storage) ?? SocketAddress(address: 0, port: 0))
    }

    // MARK: - Connecting

    /// Starts a non-blocking connect. Returns the socket and whether it already connected (loopback may);
    /// otherwise wait for writability and call `finishConnect()`.
    /// - Throws: `SystemError`, e.g. ECONNREFUSED when the refusal is immediate.
    public static func connect(to address: SocketAddress) throws(SystemError) -> (socket: Socket, isConnected: Bool) {
        let socket = try makeTCP()
        do {
            try socket.setOption(Int32(IPPROTO_TCP), TCP_NODELAY, 1, "setsockopt(TCP_NODELAY)")
            _ = try syscallCompleted("connect") {
                address.withSockAddr { Glibc.connect(socket.descriptor, $0, $1) }
            }
            return (socket, true)
        } catch where error.errno == EINPROGRESS {
            return (socket, false)
        } catch {
            socket.close()
            throw error
        }
    }

    /// Completes a connect after the socket became writable: reads `SO_ERROR` and throws it if non-zero.
    public func finishConnect() throws(SystemError) {
        let pending = try pendingError()
        if pending != 0 { throw SystemError(errno: pending, operation: "connect") }
    }

    /// The socket's pending error (`SO_ERROR`), clearing it; 0 if none.
    public func pendingError() throws(SystemError) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = try syscallCompleted("getsockopt(SO_ERROR)") {
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &value, &length)
        }
        return value
    }

    // MARK: - Data

    /// Reads at most `buffer.count` bytes.
    /// - Throws: `SystemError`, e.g. ECONNRESET.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult {
        switch try syscall("read", { Glibc.read(descriptor, buffer.baseAddress, buffer.count) }) {
        case .completed(0): .endOfFile
        case .completed(let count): .bytes(count)
        case .wouldBlock: .wouldBlock
        }
    }

    /// Writes at most `buffer.count` bytes. Uses `send` with `MSG_NOSIGNAL` so a peer that closed gives EPIPE
    /// here instead of a process-killing SIGPIPE.
    /// - Throws: `SystemError`, e.g. EPIPE or ECONNRESET when the peer went away.
    public func write(from buffer: UnsafeRawBufferPointer) throws(SystemError) -> IOResult {
        guard buffer.count > 0 else { return .bytes(0) }
        switch try syscall("send", { Glibc.send(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL)) }) {
        case .completed(let count): return .bytes(count)
        case .wouldBlock: return .wouldBlock
        }
    }

    /// Shuts down one or both directions (the peer reads EOF after `.write`).
    public func shutdown(_ direction: ShutdownDirection) throws(SystemError) {
        _ = try syscallCompleted("shutdown") { Glibc.shutdown(descriptor, direction.rawValue) }
    }

    /// Sends a short final answer on a socket that is not on a loop (a refused connection), then closes it.
    ///
    /// Writes what the kernel takes at once (a fresh socket takes a few KiB whole), half-closes, and discards
    /// input that already arrived, so the close sends FIN rather than the RST that unread input would cause
    /// (an RST can make the peer drop the answer unread). Errors only mean the peer left: they are returned,
    /// and the socket is closed either way.
    public func answerAndClose(_ answer: [UInt8]) -> SystemError? {
        defer { close() }
        do throws(SystemError) {
            _ = try answer.withUnsafeBytes { bytes in Result { () throws(SystemError) in try write(from: bytes) } }.get()
            try shutdown(.write)
            var scratch = [UInt8](repeating: 0, count: 4096)
            for _ in 0..<16 {
                let received = try scratch.withUnsafeMutableBytes { bytes in
                    Result { () throws(SystemError) in try read(into: bytes) }
                }.get()
                guard case .bytes = received else { break }
            }
            return nil
        } catch {
            return error
        }
    }

    /// Closes the descriptor. Call once; a second close traps (see `closeDescriptor`).
    public func close() {
        closeDescriptor(descriptor)
    }

    // MARK: - Addresses and options

    /// The locally bound address (the real port after binding port 0).
    public func localAddress() throws(SystemError) -> SocketAddress {
        try address("getsockname") { getsockname(descriptor, $0, $1) }
    }

    /// The connected peer's address.
    public func peerAddress() throws(SystemError) -> SocketAddress {
        try address("getpeername") { getpeername(descriptor, $0, $1) }
    }

    private func address(
        _ operation: StaticString, _ call: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) throws(SystemError) -> SocketAddress {
        var storage = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = try syscallCompleted(operation) {
            withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { call($0, &length) }
            }
        }
        guard let address = SocketAddress(storage) else {
            throw SystemError(errno: EAFNOSUPPORT, operation: "\(operation)")
        }
        return address
    }

    func setOption(_ level: Int32, _ name: Int32, _ value: Int32, _ operation: StaticString) throws(SystemError) {
        var value = value
        _ = try syscallCompleted(operation) {
            setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }
}
