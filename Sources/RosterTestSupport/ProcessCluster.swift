// Test support (a library so every test target can use it): real `roster` processes on loopback, each with its own data directory and free
// ports, driven over HTTP. Waits poll against a deadline; nothing asserts after a bare sleep.
import Foundation
import Posix
import Synchronization
import TLS

public enum TestFailure: Error, CustomStringConvertible {
    case timedOut(String)
    case unexpected(String)
    public var description: String {
        switch self {
        case .timedOut(let what): "timed out waiting for \(what)"
        case .unexpected(let what): what
        }
    }
}

/// A minimal blocking HTTP/1.1 client: one request per connection, for tests only.
public struct HTTPResult: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]
    public var text: String { String(decoding: body, as: UTF8.self) }
    public var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
}

public enum TestHTTP {
    /// - Parameter tls: A client TLS context for a node whose client port is TLS (see `TestTLS`).
    /// - Parameter headers: Extra header lines ("Authorization: Bearer …").
    public static func request(
        _ method: String, port: UInt16, path: String, body: String? = nil, timeoutSeconds: Int = 5, raw: [UInt8]? = nil,
        tls: TLSContext? = nil, headers: [String] = []
    ) -> HTTPResult? {
        guard let socket = try? BlockingSocket.connect(to: .loopback(port: port), receiveTimeout: .seconds(timeoutSeconds))
        else { return nil }
        defer { socket.close() }
        var bytes: [UInt8]
        if let raw {
            bytes = raw
        } else {
            let payload = Array((body ?? "").utf8)
            var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            for header in headers { head += header + "\r\n" }
            if body != nil { head += "Content-Type: application/json\r\nContent-Length: \(payload.count)\r\n" }
            bytes = Array((head + "\r\n").utf8) + payload
        }
        if let tls {
            let reply = TestTLS.exchange(socket, context: tls, bytes: bytes) { received in
                guard let head = head(of: received), head.mayBeComplete(received) else { return false }
                return parse(received)?.complete == true
            }
            return reply.flatMap { parse($0)?.result }
        }
        guard socket.send(bytes) else { return nil }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = socket.receive(into: &buffer)
            if count <= 0 { break }
            response += buffer[0..<count]
            // The whole response is parsed only once it may be complete: parsing after every piece was quadratic,
            // and a 12 MiB answer kept this reader off its socket for so long (debug build, loaded machine) that
            // a node with a short --client-stall-ms cut it as a stalled reader.
            if let head = head(of: response), head.mayBeComplete(response), let parsed = parse(response), parsed.complete {
                return parsed.result
            }
        }
        return parse(response)?.result
    }

    /// A response's status line and headers, and where its body starts.
    struct Head {
        var status: Int
        var headers: [String: String]
        var bodyStart: Int

        /// False when the body is surely not whole yet: shorter than its Content-Length, or chunked and not
        /// ending with the last chunk. Cheap (no look at the body), unlike `parse`.
        func mayBeComplete(_ bytes: [UInt8]) -> Bool {
            if let length = headers["content-length"].flatMap(Int.init) { return bytes.count - bodyStart >= length }
            guard headers["transfer-encoding"] == "chunked" else { return false }
            return bytes.count >= bodyStart + 5 && bytes.suffix(5).elementsEqual([0x30, 13, 10, 13, 10])
        }
    }

    /// The head of a response, once all of it has arrived.
    static func head(of bytes: [UInt8]) -> Head? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let headEnd = (0..<max(0, bytes.count - 3)).first(where: { bytes[$0..<$0 + 4].elementsEqual(separator) }) else { return nil }
        let head = String(decoding: bytes[0..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        guard let statusLine = head.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else { return nil }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Head(status: status, headers: headers, bodyStart: headEnd + 4)
    }

    /// Parses a response with Content-Length or chunked body; `complete` says whether it is whole.
    public static func parse(_ bytes: [UInt8]) -> (result: HTTPResult, complete: Bool)? {
        guard let head = head(of: bytes) else { return nil }
        let status = head.status, headers = head.headers
        let body = Array(bytes[head.bodyStart...])
        if let length = headers["content-length"].flatMap(Int.init) {
            return (HTTPResult(status: status, headers: headers, body: Array(body.prefix(length))), body.count >= length)
        }
        if headers["transfer-encoding"] == "chunked" {
            let (decoded, complete) = decodeChunks(body)
            return (HTTPResult(status: status, headers: headers, body: decoded), complete)
        }
        return (HTTPResult(status: status, headers: headers, body: body), false)
    }

    /// The payload of a chunked body (RFC 9112 §7.1; extensions and trailers skipped) and whether its last chunk
    /// arrived. A large listing is streamed chunked, so its JSON is only readable once the framing is removed
    /// (reading the raw framing made `json` nil as soon as a test registered enough instances).
    static func decodeChunks(_ body: [UInt8]) -> (payload: [UInt8], complete: Bool) {
        var payload: [UInt8] = []
        var offset = 0
        while let lineEnd = (offset..<max(offset, body.count - 1)).first(where: { body[$0] == 13 && body[$0 + 1] == 10 }) {
            let sizeText = String(decoding: body[offset..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { break }
            if size == 0 { return (payload, true) }
            let start = lineEnd + 2
            guard body.count >= start + size + 2 else {
                payload += body[start..<min(body.count, start + size)]
                break
            }
            payload += body[start..<start + size]
            offset = start + size + 2
        }
        return (payload, false)
    }
}

/// Reads a chunked NDJSON stream (a watch) on a background thread, collecting decoded lines.
public final class StreamReader: @unchecked Sendable {
    // Safety: `collected`, `open` and `paused` are only touched under `lock`.
    private let lock = NSLock()
    private var collected: [[String: Any]] = []
    private var open = true
    private let socket: BlockingSocket
    private var paused = false

    /// Opens `method path` (a watch, a watch stream, a streamed keepalive) and collects its NDJSON lines.
    /// - Parameter receiveBufferBytes: A small kernel receive buffer, so that pausing reading backs up the
    ///   server's side of the connection quickly.
    /// - Parameter headers: Extra header lines ("Authorization: Bearer …").
    public init?(port: UInt16, method: String = "GET", path: String, receiveBufferBytes: Int32? = nil, headers: [String] = []) {
        guard let socket = try? BlockingSocket.connect(to: .loopback(port: port), receiveBufferBytes: receiveBufferBytes)
        else { return nil }
        self.socket = socket
        let extra = headers.map { $0 + "\r\n" }.joined()
        socket.send(Array("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(extra)\r\n".utf8))
        let thread = Thread { [self] in self.run() }
        thread.start()
    }

    private func run() {
        var pending: [UInt8] = []
        var partialLine: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var headerDone = false
        while true {
            // Playing a reader that stopped reading (load shape on this reader's own thread, not synchronisation).
            while isPaused { CurrentThread.sleep(for: .milliseconds(10)) }
            let count = socket.receive(into: &buffer)
            if count <= 0 { break }
            pending += buffer[0..<count]
            if !headerDone {
                guard let end = (0..<max(0, pending.count - 3)).first(where: { pending[$0] == 13 && pending[$0 + 1] == 10 && pending[$0 + 2] == 13 && pending[$0 + 3] == 10 }) else { continue }
                pending.removeFirst(end + 4)
                headerDone = true
            }
            // Chunk framing: size CRLF data CRLF. Lines inside chunks are NDJSON.
            while let sizeEnd = (0..<max(0, pending.count - 1)).first(where: { pending[$0] == 13 && pending[$0 + 1] == 10 }) {
                guard let size = Int(String(decoding: pending[0..<sizeEnd], as: UTF8.self), radix: 16) else { break }
                guard pending.count >= sizeEnd + 2 + size + 2 else { break }
                partialLine += pending[(sizeEnd + 2)..<(sizeEnd + 2 + size)]
                pending.removeFirst(sizeEnd + 2 + size + 2)
                // A line may span chunks (a large resync is streamed in pieces): only complete lines parse.
                while let newline = partialLine.firstIndex(of: 10) {
                    let line = partialLine[..<newline]
                    if let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] {
                        lock.lock()
                        collected.append(object)
                        lock.unlock()
                    }
                    partialLine.removeFirst(newline + 1)
                }
                if size == 0 { break }
            }
        }
        lock.lock()
        open = false
        lock.unlock()
    }

    public var lines: [[String: Any]] {
        lock.lock()
        defer { lock.unlock() }
        return collected
    }

    /// Sends client lines (control lines of a watch stream), each followed by a newline.
    public func send(_ lines: String...) {
        socket.send(Array(lines.map { $0 + "\n" }.joined().utf8))
    }

    /// Stops reading from the socket (the server's side backs up) until `resume()`.
    public func pause() { setPaused(true) }

    public func resume() { setPaused(false) }

    private var isPaused: Bool {
        lock.lock()
        defer { lock.unlock() }
        return paused
    }

    private func setPaused(_ value: Bool) {
        lock.lock()
        paused = value
        lock.unlock()
    }

    public var isOpen: Bool {
        lock.lock()
        defer { lock.unlock() }
        return open
    }

    public func close() {
        socket.shutdown()
        socket.close()
    }
}

/// Real `roster` processes forming one cluster.
public final class ProcessCluster {
    public struct Node {
        public var name: String
        public var clientPort: UInt16
        public var peerPort: UInt16
        public var dataDirectory: String
        public var process: ChildProcess?
        public var logPath: String
    }

    public private(set) var nodes: [Node] = []
    public let root: String
    public let binary: String
    public let extraFlags: [String]
    /// Flags for one node only, by name (a per-node port such as `--dns-addr`), after `extraFlags`.
    public var nodeFlags: [String: [String]] = [:]
    /// Every node's `--election-ms` (heartbeats every 50 ms). Short, so tests elect and fail over quickly; a test
    /// that must see a leader keep its role while it can hear no follower raises it instead of racing it.
    public var electionMilliseconds = 500
    /// With `tls: true`: the throwaway PKI, every node's TLS flags, and the context `request` uses.
    public let tls: TestTLS?
    private let tlsContext: TLSContext?
    private let pki: TestPKI?

    public static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    public static func locateBinary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["ROSTER_BINARY"] { return path }
        for candidate in ["/.build/debug/roster", "/.build/x86_64-unknown-linux-gnu/debug/roster", "/.build/release/roster"] {
            let path = packageRoot + candidate
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw TestFailure.unexpected("roster binary not built; run `swift build` first or set ROSTER_BINARY")
    }

    /// `--io-threads N` when `ROSTER_IO_THREADS=N` is set, so the suites can run every node with client
    /// connections on the Raft loop (0) and on I/O threads alike; empty leaves the server's default.
    public static var ioThreadFlags: [String] {
        guard let count = ProcessInfo.processInfo.environment["ROSTER_IO_THREADS"], !count.isEmpty else { return [] }
        return ["--io-threads", count]
    }

    /// Ports this process has handed out, so that no two nodes of one test run are given the same port.
    private static let handedOut = Mutex<Set<UInt16>>([])

    /// The lowest port of the kernel's ephemeral range (`ip_local_port_range`), where port-0 binds and outgoing
    /// connections take their ports from.
    private static let ephemeralLow: Int = {
        let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
        return text.flatMap { $0.split(whereSeparator: \.isWhitespace).first }.flatMap { Int($0) } ?? 32_768
    }()

    /// A free loopback port below the ephemeral range, never one handed out before in this process. A port
    /// found by binding port 0 comes from the ephemeral range: the next probe may get it again, and a member's
    /// outgoing connection to its peers may take it as its source port before the node it was meant for binds
    /// it (both seen under load: a node refusing to start with "Address already in use"). Below that range
    /// only an explicit bind takes a port, and the probe here checks that none has.
    public static func freePort() -> UInt16 {
        let lowest = 10_000
        let highest = max(ephemeralLow, lowest + 1_000)
        for _ in 0..<10_000 {
            let port = UInt16(Int.random(in: lowest..<highest))
            guard !handedOut.withLock({ $0.contains(port) }) else { continue }
            guard let socket = try? Socket.listen(on: .loopback(port: port), backlog: 1) else { continue }
            socket.close()
            if handedOut.withLock({ $0.insert(port).inserted }) { return port }
        }
        preconditionFailure("no free loopback port in \(lowest)..<\(highest) after 10000 tries")
    }

    /// - Parameter tls: Start every node with TLS and mutual TLS (`TestTLS.flags(for:)`), from a throwaway CA.
    public init(size: Int, extraFlags: [String] = [], tls: Bool = false) throws {
        binary = try Self.locateBinary()
        root = NSTemporaryDirectory() + "roster-it-\(CurrentProcess.identifier)-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        self.extraFlags = extraFlags
        let names = (1...size).map { "n\($0)" }
        if tls {
            let pki = try TestPKI()
            let files = pki.makeClusterTLS(nodes: names + ["n\(size + 1)", "n\(size + 2)"])
            self.pki = pki
            self.tls = files
            self.tlsContext = try files.clientContext()
        } else {
            self.pki = nil
            self.tls = nil
            self.tlsContext = nil
        }
        for name in names {
            nodes.append(makeNode(name: name))
        }
    }

    private func makeNode(name: String) -> Node {
        Node(
            name: name, clientPort: Self.freePort(), peerPort: Self.freePort(), dataDirectory: "\(root)/\(name)",
            process: nil, logPath: "\(root)/\(name).log")
    }

    public var initialCluster: String {
        nodes.map { "\($0.name)=127.0.0.1:\($0.peerPort)" }.joined(separator: ",")
    }

    public func startAll() throws {
        let cluster = initialCluster
        for index in nodes.indices { try start(index, initialCluster: cluster) }
    }

    /// Starts node `index`; `initialCluster: ""` leaves `--initial-cluster` out (a `--join ADDR` member).
    public func start(_ index: Int, initialCluster: String? = nil, join: Bool = false, extraArguments: [String] = []) throws {
        let node = nodes[index]
        let arguments = [
            "--name", node.name, "--data-dir", node.dataDirectory,
            "--client-addr", "127.0.0.1:\(node.clientPort)", "--peer-addr", "127.0.0.1:\(node.peerPort)",
            "--heartbeat-ms", "50", "--election-ms", "\(electionMilliseconds)",
        ] + (initialCluster == "" ? [] : ["--initial-cluster", initialCluster ?? self.initialCluster])
            + (join ? ["--join"] : []) + (extraFlags.contains("--io-threads") ? [] : Self.ioThreadFlags) + extraFlags + (nodeFlags[node.name] ?? []) + extraArguments
            + (tls?.flags(for: node.name) ?? [])
        // Each start begins a fresh log (the previous run's lines would otherwise satisfy a later wait).
        _ = FileManager.default.createFile(atPath: node.logPath, contents: nil)
        let process = try ChildProcess.spawn(binary, arguments: arguments, outputPath: node.logPath)
        nodes[index].process = process
    }

    /// Adds a node to the process list (not yet started), for membership tests.
    public func addNode(name: String) -> Int {
        nodes.append(makeNode(name: name))
        return nodes.count - 1
    }

    /// How long a stopped node may take to exit: generous, since a loaded machine shuts down slowly; past it the
    /// node is killed outright, so no test waits without a bound.
    public static let exitTimeout: Duration = .seconds(60)

    /// Sends `signal` to node `index` and waits (blocking this thread, polling) until it exits; returns how it
    /// ended. A node still running after `exitTimeout` gets SIGKILL. Async tests get the overload below, which
    /// suspends instead of blocking a cooperative thread.
    @discardableResult
    public func kill(_ index: Int, signal: Int32 = SignalNumber.kill) -> ChildProcess.Termination? {
        guard let process = nodes[index].process else { return nil }
        process.send(signal: signal)
        var ended = process.waitForExitBlocking(timeout: Self.exitTimeout)
        if ended == nil {
            process.send(signal: SignalNumber.kill)
            ended = process.waitForExitBlocking(timeout: Self.exitTimeout)
        }
        nodes[index].process = nil
        return ended
    }

    /// As the blocking `kill`, suspending between polls.
    @discardableResult
    public func kill(_ index: Int, signal: Int32 = SignalNumber.kill) async -> ChildProcess.Termination? {
        guard let process = nodes[index].process else { return nil }
        process.send(signal: signal)
        var ended = await process.waitForExit(timeout: Self.exitTimeout)
        if ended == nil {
            process.send(signal: SignalNumber.kill)
            ended = await process.waitForExit(timeout: Self.exitTimeout)
        }
        nodes[index].process = nil
        return ended
    }

    /// Stops every node with SIGKILL (blocking, bounded).
    public func stopAll() {
        for index in nodes.indices { kill(index) }
    }

    /// - Parameter timeoutSeconds: How long to wait for the answer: only bounds a hang (a login waits for a password
    ///   derivation on a low-priority thread, slow on a saturated machine).
    public func request(
        _ method: String, _ path: String, on index: Int, body: String? = nil, token: String? = nil, timeoutSeconds: Int = 5
    ) -> HTTPResult? {
        TestHTTP.request(
            method, port: nodes[index].clientPort, path: path, body: body, timeoutSeconds: timeoutSeconds, tls: tlsContext,
            headers: token.map { ["Authorization: Bearer \($0)"] } ?? [])
    }

    public func status(of index: Int) -> [String: Any]? {
        request("GET", "/v1/cluster/status", on: index)?.json
    }

    /// Polls until `condition` holds or `seconds` pass.
    public func waitFor(_ what: String, seconds: Double = 15, _ condition: () -> Bool) throws {
        guard Self.poll(seconds: seconds, condition) else { throw TestFailure.timedOut(what + "\n" + logsTail()) }
    }

    /// Checks `condition` every 50 ms until it holds (true) or `seconds` pass (false): the deadline bounds a
    /// failure, it is never what a test passes on.
    public static func poll(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = MonotonicClock.nanoseconds() + UInt64(seconds * 1e9)
        while MonotonicClock.nanoseconds() < deadline {
            if condition() { return true }
            CurrentThread.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    public func role(of index: Int) -> String? { status(of: index)?["role"] as? String }

    /// The index of the leader, waiting until the live nodes agree on one.
    public func waitForLeader(among candidates: [Int]? = nil, seconds: Double = 15) throws -> Int {
        var found: Int?
        try waitFor("a leader", seconds: seconds) {
            found = (candidates ?? Array(nodes.indices)).first { nodes[$0].process != nil && role(of: $0) == "leader" }
            return found != nil
        }
        return found!
    }

    /// As the blocking `waitForLeader`, suspending between polls.
    public func waitForLeader(among candidates: [Int]? = nil, seconds: Double = 15) async throws -> Int {
        var found: Int?
        do {
            try await Waiting.until("a leader", seconds: seconds) {
                found = (candidates ?? Array(nodes.indices)).first { nodes[$0].process != nil && role(of: $0) == "leader" }
                return found != nil
            }
        } catch TestFailure.timedOut(let what) {
            throw TestFailure.timedOut(what + "\n" + logsTail())
        }
        return found!
    }

    public func logsTail() -> String {
        nodes.map { node in
            let text = (try? String(contentsOfFile: node.logPath, encoding: .utf8)) ?? ""
            return "--- \(node.name)\n" + text.split(separator: "\n").suffix(15).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    deinit {
        stopAll()
        try? FileManager.default.removeItem(atPath: root)
    }
}
