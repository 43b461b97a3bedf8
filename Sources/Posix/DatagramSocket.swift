import CLinuxShim
import Glibc

/// A non-blocking IPv4 UDP socket bound to one address: what the DNS listener receives queries on.
///
/// A plain value like `Socket`: its owner closes it exactly once. Opened with `O_NONBLOCK` and `O_CLOEXEC`
/// in the same call.
public struct DatagramSocket: Hashable, Sendable {
    public let descriptor: Int32

    /// One received datagram.
    public struct Received: Sendable {
        /// Bytes stored in the buffer.
        public var count: Int
        /// The sender, where an answer goes.
        public var sender: SocketAddress
        /// The datagram was longer than the buffer and its tail was discarded (`MSG_TRUNC`).
        public var wasCut: Bool
    }

    /// A UDP socket bound to `address` (port 0 picks a free one; read it back with `localAddress()`).
    public static func bind(to address: SocketAddress) throws(SystemError) -> DatagramSocket {
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let socket = DatagramSocket(descriptor: try syscallCompleted("socket") { Glibc.socket(AF_INET, type, 0) })
        do {
            _ = try syscallCompleted("bind") { address.withSockAddr { Glibc.bind(socket.descriptor, $0, $1) } }
        } catch {
            socket.close()
            throw error
        }
        return socket
    }

    /// Receives one datagram into `buffer`, or nil when none is waiting.
    /// - Throws: `SystemError`; on UDP that includes ECONNREFUSED left by an ICMP error for an earlier send,
    ///   which concerns that send only, so callers go on receiving.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Received? {
        var storage = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = try syscall("recvfrom") {
            withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_TRUNC), $0, &length)
                }
            }
        }
        guard case .completed(let size) = result else { return nil }
        let sender = SocketAddress(storage) ?? SocketAddress(address: 0, port: 0)
        return Received(count: min(size, buffer.count), sender: sender, wasCut: size > buffer.count)
    }

    /// Sends one datagram to `address`; false when the socket buffer is full (the datagram is not sent:
    /// UDP answers are best effort, and the client retries).
    public func send(_ bytes: [UInt8], to address: SocketAddress) throws(SystemError) -> Bool {
        let result = try syscall("sendto") {
            bytes.withUnsafeBytes { payload in
                address.withSockAddr { Glibc.sendto(descriptor, payload.baseAddress, payload.count, Int32(MSG_NOSIGNAL), $0, $1) }
            }
        }
        guard case .completed = result else { return false }
        return true
    }

    /// The locally bound address (the real port after binding port 0).
    public func localAddress() throws(SystemError) -> SocketAddress {
        try Socket(descriptor: descriptor).localAddress()
    }

    /// Closes the descriptor. Call once.
    public func close() {
        closeDescriptor(descriptor)
    }
}
