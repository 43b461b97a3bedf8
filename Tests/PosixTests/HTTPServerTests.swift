// Goal: end-to-end check that HTTP/1.1 over the event loop behaves: keep-alive with pipelining, close after
// `Connection: close`, typed error statuses, 413 before the body, slowloris timeout; plus a throughput
// measurement with 16 keep-alive connections. Method: the `HTTPServerConnection` glue on one loop thread, raw
// byte clients on another; responses are compared as text after polling for them against a deadline.
// Benchmark: `ROSTER_BENCH_REQUESTS=200000 swift test --skip-build --filter HTTPServerTests` prints requests/s.
import Glibc
import HTTP
import Posix
import Testing

@Suite("HTTP over the event loop")
struct HTTPServerTests {
    static func echoPath(_ request: HTTPRequest) -> (status: HTTPStatus, headers: HTTPHeaders, body: [UInt8]) {
        var body: [UInt8] = []
        JSONText.appendQuoted(request.pathSegments.joined(separator: "/"), to: &body)
        return (.ok, HTTPHeaders([("Content-Type", "application/json")]), body)
    }

    /// Starts the HTTP server and returns its port; `requestTimeout` bounds how long a request may take to arrive.
    func startHTTPServer(on thread: EventLoopThread, requestTimeout: Duration = .seconds(10)) throws -> UInt16 {
        try startServer(on: thread) {
            HTTPServerConnection(limits: HTTPParserLimits(bodyBytes: 1024), requestTimeout: requestTimeout,
                                 handler: Self.echoPath)
        }
    }

    /// Connects a raw client that sends `request` and records the reply and how the connection ended.
    func exchange(_ request: String, port: UInt16, on thread: EventLoopThread)
        throws -> (received: Recorder<[UInt8]>, closed: Recorder<Connection.CloseReason?>)
    {
        let received = Recorder<[UInt8]>([])
        let closed = Recorder<Connection.CloseReason?>(nil)
        try onLoop(thread) { loop in
            _ = try Connection.connect(to: .loopback(port: port), on: loop,
                                       delegate: ClientDelegate(payload: Array(request.utf8), received: received,
                                                                closed: closed))
        }
        return (received, closed)
    }

    @Test("pipelined keep-alive requests get ordered responses, and Connection: close ends the connection")
    func keepAliveAndClose() throws {
        let server = try EventLoopThread()
        let clients = try EventLoopThread()
        defer {
            clients.shutdown()
            server.shutdown()
        }
        let port = try startHTTPServer(on: server)
        let request = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b/c%20d HTTP/1.1\r\nHost: h\r\n\r\n"
            + "GET /last HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        let (received, closed) = try exchange(request, port: port, on: clients)
        #expect(waitUntil { closed.value != nil })
        let expected = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n\"a\""
            + "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n\"b/c d\""
            + "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + "Content-Length: 6\r\n\r\n\"last\""
        #expect(String(decoding: received.value, as: UTF8.self) == expected)
        #expect(closed.value == .endOfFile)
    }

    @Test("bad requests get their typed status and the connection closes", arguments: [
        ("GET / HTTP/1.1\r\n\r\n", "400 Bad Request"),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n", "413 Content Too Large"),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", "501 Not Implemented"),
        ("GET / HTTP/3.0\r\nHost: h\r\n\r\n", "505 HTTP Version Not Supported"),
    ])
    func badRequests(request: String, statusLine: String) throws {
        let server = try EventLoopThread()
        let clients = try EventLoopThread()
        defer {
            clients.shutdown()
            server.shutdown()
        }
        let port = try startHTTPServer(on: server)
        let (received, closed) = try exchange(request, port: port, on: clients)
        #expect(waitUntil { closed.value != nil })
        #expect(String(decoding: received.value, as: UTF8.self)
                == "HTTP/1.1 \(statusLine)\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    }

    @Test("a client that sends nothing or never finishes its request is answered 408 and closed",
          arguments: ["", "GET / HTTP/1.1\r\nHost:"])
    func slowlorisTimeout(partialRequest: String) throws {
        let server = try EventLoopThread()
        let clients = try EventLoopThread()
        defer {
            clients.shutdown()
            server.shutdown()
        }
        let port = try startHTTPServer(on: server, requestTimeout: .milliseconds(100))
        let (received, closed) = try exchange(partialRequest, port: port, on: clients)
        #expect(waitUntil { closed.value != nil })
        #expect(String(decoding: received.value, as: UTF8.self).hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
    }

    @Test("16 keep-alive connections sustain request/response traffic (throughput measurement)")
    func throughput() throws {
        let requests = Int(getenv("ROSTER_BENCH_REQUESTS").map { String(cString: $0) } ?? "") ?? 2_000
        let server = try EventLoopThread()
        let clients = try EventLoopThread()
        defer {
            clients.shutdown()
            server.shutdown()
        }
        let port = try startHTTPServer(on: server)
        let request = Array("GET /v1/services/web HTTP/1.1\r\nHost: bench\r\n\r\n".utf8)
        var sample: [UInt8] = []
        let response = Self.echoPath(try #require(parseAll(request)))
        HTTPResponseWriter.writeResponse(status: response.status, headers: response.headers, body: response.body,
                                         into: &sample)
        let responseBytes = sample.count
        let completed = Recorder<Int>(0)
        let running = Recorder<Bool>(true)
        try onLoop(clients) { loop in
            for _ in 0..<16 {
                _ = try Connection.connect(to: .loopback(port: port), on: loop,
                                           delegate: BenchClient(request: request, responseBytes: responseBytes,
                                                                 completed: completed, running: running))
            }
        }
        #expect(waitUntil { completed.value > 0 })
        // Measure how long a fixed number of requests takes after warm-up: the count, not a sleep, ends the
        // window, and the time is printed, never asserted.
        let startCount = completed.value
        let start = MonotonicClock.nanoseconds()
        #expect(waitUntil(seconds: 120) { completed.value >= startCount + requests })
        running.update { $0 = false }
        let elapsed = Double(MonotonicClock.nanoseconds() - start) / 1e9
        let total = completed.value - startCount
        print("HTTP keep-alive throughput: \(total) requests in \(elapsed) s over 16 connections = "
              + "\(Int(Double(total) / elapsed)) requests/s")
        #expect(total > 0)
    }

    private func parseAll(_ bytes: [UInt8]) -> HTTPRequest? {
        var parser = HTTPRequestParser()
        parser.append(bytes)
        do {
            return try parser.nextRequest()
        } catch {
            Issue.record("benchmark request failed to parse: \(error)")
            return nil
        }
    }
}

/// A closed-loop client: sends the request, waits for one full fixed-size response, repeats while running.
final class BenchClient: ConnectionDelegate {
    let request: [UInt8]
    let responseBytes: Int
    let completed: Recorder<Int>
    let running: Recorder<Bool>
    private var pending = 0

    init(request: [UInt8], responseBytes: Int, completed: Recorder<Int>, running: Recorder<Bool>) {
        self.request = request
        self.responseBytes = responseBytes
        self.completed = completed
        self.running = running
    }

    func connectionDidConnect(_ connection: Connection) {
        connection.write(request)
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        pending += bytes.count
        while pending >= responseBytes {
            pending -= responseBytes
            completed.update { $0 += 1 }
            if running.value { connection.write(request) } else { connection.close() }
        }
    }

    func connection(_ connection: Connection, didCloseWith reason: Connection.CloseReason) {}
}
