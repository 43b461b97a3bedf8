// Goal: show how `Connection` drives a `ConnectionSecurity` (the seam TLS plugs into): the delegate hears
// `connectionDidConnect` and sees bytes only after the handshake, a refused handshake sends the layer's reply
// and closes with `.securityFailure` before the delegate sees anything, and a handshake that never finishes
// is closed by `limits.handshakeTimeout` (slowloris). Method: a toy layer (handshake: one 0x42 byte from the
// dialer; records: each byte XOR 0x5A) on real loopback sockets; the test thread polls recorded results.
import Glibc
import Posix
import Testing

/// A toy security layer: the dialer sends 0x42 as its "hello"; every later byte is XORed with 0x5A.
/// Any other first byte is refused with the reply "NO".
final class ToySecurity: ConnectionSecurity {
    private let isDialer: Bool
    private var wire: [UInt8] = []
    private(set) var isEstablished = false
    private var pending: [UInt8] = []

    init(isDialer: Bool) { self.isDialer = isDialer }

    var bufferedPlaintextBytes: Int { pending.count }

    func start() throws(ConnectionSecurityFailure) {
        guard isDialer else { return }
        wire.append(0x42)
        isEstablished = true
        flushPending()
    }

    func receive(_ bytes: UnsafeRawBufferPointer, into plaintext: inout [UInt8]) throws(ConnectionSecurityFailure) -> Bool {
        var rest = bytes[...]
        if !isEstablished {
            guard let first = rest.first else { return true }
            guard first == 0x42 else { throw ConnectionSecurityFailure("bad hello \(first)", reply: Array("NO".utf8)) }
            isEstablished = true
            rest = rest.dropFirst()
            flushPending()
        }
        plaintext.append(contentsOf: rest.map { $0 ^ 0x5A })
        return true
    }

    func send(_ plaintext: [UInt8]) throws(ConnectionSecurityFailure) {
        if isEstablished { wire.append(contentsOf: plaintext.map { $0 ^ 0x5A }) } else { pending += plaintext }
    }

    func takeWireBytes() -> [UInt8] {
        defer { wire = [] }
        return wire
    }

    func shutdown() {}

    private func flushPending() {
        wire.append(contentsOf: pending.map { $0 ^ 0x5A })
        pending = []
    }
}

/// Records the order of delegate events on a secured server connection.
final class RecordingDelegate: ConnectionDelegate {
    let events: Recorder<[String]>

    init(events: Recorder<[String]>) { self.events = events }

    func connectionDidConnect(_ connection: Connection) { events.append("connected") }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        events.append("read \(String(decoding: bytes, as: UTF8.self))")
        connection.write(Array(bytes))
    }

    func connection(_ connection: Connection, didCloseWith reason: Connection.CloseReason) {
        events.append("closed \(reason)")
    }
}

@Suite("Connection with a security layer")
struct ConnectionSecurityTests {
    private func startSecuredServer(on thread: EventLoopThread, handshakeTimeout: Duration = .seconds(10),
                                    events: Recorder<[String]>) throws -> UInt16 {
        try onLoop(thread) { loop in
            var limits = ConnectionLimits()
            limits.handshakeTimeout = handshakeTimeout
            let listener = try Listener(on: .loopback(port: 0), loop: loop) { socket, peer in
                _ = try? Connection.adopt(socket, peer: peer, on: loop, limits: limits,
                                          security: ToySecurity(isDialer: false),
                                          delegate: RecordingDelegate(events: events))
            }
            return listener.localAddress.port
        }
    }

    @Test("plaintext reaches the delegate only after the handshake, and flows both ways")
    func handshakeThenData() throws {
        let server = try EventLoopThread()
        defer { server.shutdown() }
        let events = Recorder<[String]>([])
        let port = try startSecuredServer(on: server, events: events)
        let received = Recorder<[UInt8]>([])
        try onLoop(server) { loop in
            _ = try Connection.connect(to: .loopback(port: port), on: loop, security: ToySecurity(isDialer: true),
                                       delegate: ClientDelegate(payload: Array("hello".utf8), received: received))
        }
        #expect(waitUntil { received.value == Array("hello".utf8) })
        #expect(events.value.prefix(2) == ["connected", "read hello"])
    }

    @Test("a refused handshake sends the layer's reply and closes before the delegate hears anything")
    func refusedHandshake() throws {
        let server = try EventLoopThread()
        defer { server.shutdown() }
        let events = Recorder<[String]>([])
        let port = try startSecuredServer(on: server, events: events)
        let received = Recorder<[UInt8]>([])
        let closed = Recorder<Connection.CloseReason?>(nil)
        try onLoop(server) { loop in
            _ = try Connection.connect(to: .loopback(port: port), on: loop,
                                       delegate: ClientDelegate(payload: Array("GET / HTTP/1.1\r\n\r\n".utf8),
                                                                received: received, closed: closed))
        }
        #expect(waitUntil { closed.value != nil && !events.value.isEmpty })
        #expect(received.value == Array("NO".utf8))
        #expect(events.value == ["closed bad hello 71"])
    }

    @Test("a handshake that never finishes is closed by the handshake timeout")
    func handshakeTimeout() throws {
        let server = try EventLoopThread()
        defer { server.shutdown() }
        let events = Recorder<[String]>([])
        let port = try startSecuredServer(on: server, handshakeTimeout: .milliseconds(100), events: events)
        let closed = Recorder<Connection.CloseReason?>(nil)
        try onLoop(server) { loop in
            // Connects and sends nothing: a stalled handshake.
            _ = try Connection.connect(to: .loopback(port: port), on: loop,
                                       delegate: ClientDelegate(payload: [], closed: closed))
        }
        #expect(waitUntil { events.value == ["closed TLS handshake timed out"] })
        #expect(waitUntil { closed.value == .endOfFile })
        let registrations = try onLoop(server) { $0.registrationCount }
        #expect(registrations == 1, "only the listener is left")
    }
}
