// Goal: show the UDP socket's contracts: binding port 0, a datagram and its sender arriving whole, nil
// when nothing waits, a datagram longer than the buffer reported as cut, and a port already bound refused.
// Method: two real loopback UDP sockets; the receiver polls until the datagram it was sent is there.
import Glibc
import Posix
import Testing

@Suite("UDP datagram sockets")
struct DatagramSocketTests {
    /// Receives on `socket`, polling (non-blocking) until a datagram arrives or 5 s pass.
    static func receive(_ socket: DatagramSocket, capacity: Int) throws -> ([UInt8], DatagramSocket.Received)? {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 1)
        defer { buffer.deallocate() }
        let deadline = MonotonicClock.nanoseconds() + 5_000_000_000
        while MonotonicClock.nanoseconds() < deadline {
            if let received = try socket.receive(into: buffer) {
                return (Array(UnsafeRawBufferPointer(rebasing: buffer[0..<received.count])), received)
            }
            usleep(1_000)
        }
        return nil
    }

    @Test("a datagram arrives whole with its sender; nothing waiting is nil")
    func roundTrip() throws {
        let receiver = try DatagramSocket.bind(to: .loopback(port: 0))
        defer { receiver.close() }
        let sender = try DatagramSocket.bind(to: .loopback(port: 0))
        defer { sender.close() }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 1)
        defer { buffer.deallocate() }
        #expect(try receiver.receive(into: buffer) == nil)
        let address = try receiver.localAddress()
        #expect(address.port != 0)
        #expect(try sender.send([1, 2, 3], to: address))
        let (bytes, received) = try #require(try Self.receive(receiver, capacity: 512))
        #expect(bytes == [1, 2, 3] && !received.wasCut)
        #expect(received.sender == (try sender.localAddress()))
    }

    @Test("a datagram longer than the buffer is reported as cut")
    func cut() throws {
        let receiver = try DatagramSocket.bind(to: .loopback(port: 0))
        defer { receiver.close() }
        let sender = try DatagramSocket.bind(to: .loopback(port: 0))
        defer { sender.close() }
        #expect(try sender.send([UInt8](repeating: 7, count: 100), to: receiver.localAddress()))
        let (bytes, received) = try #require(try Self.receive(receiver, capacity: 10))
        #expect(bytes.count == 10 && received.wasCut)
    }

    @Test("binding a port already bound is refused with EADDRINUSE")
    func addressInUse() throws {
        let first = try DatagramSocket.bind(to: .loopback(port: 0))
        defer { first.close() }
        #expect(throws: SystemError(errno: EADDRINUSE, operation: "bind")) {
            _ = try DatagramSocket.bind(to: first.localAddress())
        }
    }
}
