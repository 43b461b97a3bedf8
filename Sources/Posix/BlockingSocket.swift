import Glibc

/// A connected TCP client socket in blocking mode, for tests and tools that talk to a node byte by byte: each call
/// waits in the kernel, bounded by the receive timeout given at connect time.
///
/// The server never uses it (its sockets are non-blocking, driven by the event loop); it exists so that test
/// support and tools reach the network through this module, the only one that makes system calls.
public struct BlockingSocket: Sendable {
    /// The descriptor, for callers that pass it to other helpers of this module's style.
    public let descriptor: Int32

    /// Connects to `address`.
    /// - Parameters:
    ///   - receiveBufferBytes: A small kernel receive buffer, so that not reading backs the server up quickly.
    ///   - receiveTimeout: How long one `receive` may block before it gives up (returns 0 bytes).
    /// - Throws: `SystemError` when the socket cannot be made or the connect is refused.
    public static func connect(
        to address: SocketAddress, receiveBufferBytes: Int32? = nil, receiveTimeout: Duration? = nil
    ) throws(SystemError) -> BlockingSocket {
        let descriptor = try syscallCompleted("socket") { Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        let socket = BlockingSocket(descriptor: descriptor)
        do {
            if var size = receiveBufferBytes {
                _ = try syscallCompleted("setsockopt(SO_RCVBUF)") {
                    setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
                }
            }
            if let receiveTimeout {
                let microseconds = Int(receiveTimeout.clampedNanoseconds / 1_000)
                var timeout = timeval(tv_sec: microseconds / 1_000_000, tv_usec: microseconds % 1_000_000)
                _ = try syscallCompleted("setsockopt(SO_RCVTIMEO)") {
                    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                }
            }
            _ = try syscallCompleted("connect") { address.withSockAddr { Glibc.connect(descriptor, $0, $1) } }
        } catch {
            socket.close()
            throw error
        }
        return socket
    }

    /// Sends all of `bytes` (no SIGPIPE when the peer is gone); false when the connection broke first.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            sent += written
        }
        return true
    }

    /// Receives what has arrived into `buffer`; the count, or 0 when the peer closed, the receive timed out or
    /// the connection broke (callers of a blocking exchange treat all three as "no more").
    public func receive(into buffer: inout [UInt8]) -> Int {
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            return max(count, 0)
        }
    }

    /// Shuts both directions down, which also wakes a thread blocked in `receive`; errors (already closed by the
    /// peer) are ignored.
    public func shutdown() {
        _ = Glibc.shutdown(descriptor, Int32(SHUT_RDWR))
    }

    /// Closes the descriptor; call once.
    public func close() {
        closeDescriptor(descriptor)
    }
}
