// Goal: show the event loop, listener and connections move bytes correctly on real loopback sockets, for one
// connection and for thousands at once. Method: an echo server and clients on event loop threads; the test
// thread waits for recorded results by polling against a deadline. Manual mode: set ROSTER_CONNECTIONS=10000
// to run the many-connections test at full scale (raises RLIMIT_NOFILE to the hard limit first; both ends
// live in this process, so it needs 2 descriptors per client: 10,000 needs a hard limit of at least 20,064).
import Glibc
import Posix
import Testing

@Suite("Loopback echo")
struct EchoTests {
    @Test("an echo server returns every byte a client sends")
    func echoRoundTrip() throws {
        let server = try EventLoopThread()
        defer { server.shutdown() }
        let closes = Recorder<[Connection.CloseReason]>([])
        let port = try startServer(on: server) { EchoDelegate(closes: closes) }
        let payload = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let received = Recorder<[UInt8]>([])
        try onLoop(server) { loop in
            _ = try Connection.connect(to: .loopback(port: port), on: loop,
                                       delegate: ClientDelegate(payload: payload, received: received))
        }
        #expect(waitUntil { received.value.count >= payload.count })
        #expect(received.value == payload)
    }

    @Test("thousands of concurrent connections each get their own echo")
    func manyConnections() throws {
        let descriptorLimit = try ResourceLimits.raiseOpenFilesToHardLimit()
        let requested = Int(getenv("ROSTER_CONNECTIONS").map { String(cString: $0) } ?? "") ?? 2000
        // Both ends live in this process: two descriptors per client plus a few for the loops and the runner.
        let needed = UInt64(requested * 2 + 64)
        try #require(descriptorLimit >= needed, "RLIMIT_NOFILE hard limit \(descriptorLimit) < \(needed) needed")
        let server = try EventLoopThread()
        let clients = try EventLoopThread()
        defer {
            clients.shutdown()
            server.shutdown()
        }
        let closes = Recorder<[Connection.CloseReason]>([])
        let errors = Recorder<[String]>([])
        let port = try startServer(on: server, errors: errors) { EchoDelegate(closes: closes) }
        let received = (0..<requested).map { _ in Recorder<[UInt8]>([]) }
        let payloads = (0..<requested).map { Array("client-\($0)-payload".utf8) }
        let batch = 250
        for start in stride(from: 0, to: requested, by: batch) {
            let range = start..<min(start + batch, requested)
            try onLoop(clients) { loop in
                for index in range {
                    _ = try Connection.connect(to: .loopback(port: port), on: loop,
                                               delegate: ClientDelegate(payload: payloads[index],
                                                                        received: received[index]))
                }
            }
            // Let the server drain the accept queue before the next batch, so the backlog never overflows.
            #expect(waitUntil(seconds: 30) { received[range].allSatisfy { !$0.value.isEmpty } })
        }
        #expect(waitUntil(seconds: 30) {
            zip(received, payloads).allSatisfy { $0.value.count == $1.count }
        })
        #expect(zip(received, payloads).allSatisfy { $0.value == $1 })
        #expect(errors.value.isEmpty)
        let serverConnections = try onLoop(server) { $0.registrationCount }
        #expect(serverConnections == requested + 1)
    }

    @Test("shutting a loop down closes its connections with loopClosing")
    func loopClosingClosesConnections() throws {
        let server = try EventLoopThread()
        let closes = Recorder<[Connection.CloseReason]>([])
        let port = try startServer(on: server) { EchoDelegate(closes: closes) }
        let received = Recorder<[UInt8]>([])
        let clientClosed = Recorder<Connection.CloseReason?>(nil)
        let clients = try EventLoopThread()
        defer { clients.shutdown() }
        try onLoop(clients) { loop in
            _ = try Connection.connect(to: .loopback(port: port), on: loop,
                                       delegate: ClientDelegate(payload: [1], received: received,
                                                                closed: clientClosed))
        }
        #expect(waitUntil { received.value == [1] })
        server.shutdown()
        #expect(closes.value == [.loopClosing])
        #expect(!server.handle.isOpen)
        #expect(!server.execute {})
        #expect(waitUntil { clientClosed.value == .endOfFile })
    }
}
