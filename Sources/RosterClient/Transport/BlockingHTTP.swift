import Foundation
import Synchronization
import TLS

#if canImport(Glibc)
    import Glibc
#endif

/// A cancellation flag shared between an async caller and the thread doing its blocking I/O.
///
/// The I/O thread never blocks longer than `BlockingHTTP.pollSliceMilliseconds` at a time and checks the flag
/// between slices, so cancelling a task ends its socket work within that slice without closing a descriptor
/// another thread may be using.
final class CancelFlag: Sendable {
    private let state = Atomic<Bool>(false)
    func cancel() { state.store(true, ordering: .relaxed) }
    var isCancelled: Bool { state.load(ordering: .relaxed) }
}

/// Why one HTTP exchange failed before a complete response arrived.
enum TransportFailure: Error, Sendable {
    /// Nothing was sent: the request cannot have had any effect.
    case connectFailed(String)
    /// The deadline passed; `sent` says whether the request may have reached the node.
    case timedOut(sent: Bool)
    /// The peer closed or broke the connection mid-exchange.
    case connectionLost(String)
    /// The bytes were not an HTTP/1.1 response.
    case malformed(String)
    case cancelled
}

/// The head and body of an HTTP response; header names are lowercased.
public struct HTTPResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Header values by lowercased name.
    public var headers: [String: String]
    /// The whole body (empty for a stream, whose lines go to a callback instead).
    public var body: [UInt8]

    /// The body as text.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A small blocking HTTP/1.1 client: one request per connection, `poll(2)` for every wait.
///
/// Why not URLSession: on Linux `FoundationNetworking` goes through libcurl, whose timeouts, connection reuse and
/// chunked streaming (watches are endless NDJSON bodies) are hard to bound and to cancel predictably. A plain
/// socket that waits in `poll` slices gives exact per-attempt deadlines, prompt cancellation and no hidden pool.
/// Every function here blocks; callers run them on a dedicated thread (see `Transport`), never on the
/// cooperative pool.
enum BlockingHTTP {
    /// The longest single `poll` wait, which bounds how late a cancellation is noticed.
    static let pollSliceMilliseconds: Int32 = 50
    /// Refuse response heads larger than this: no Roster node sends one.
    static let maximumHeadBytes = 64 * 1024
    /// Refuse bodies larger than this (the server's own request limit is 1.5 MiB; lists can be larger).
    static let maximumBodyBytes = 256 * 1024 * 1024

    /// Sends one request and reads the whole response, on an idle keep-alive socket from `pool` when one
    /// is ready, and gives the socket back when the exchange ended cleanly.
    /// - Parameters:
    ///   - deadline: When the response head must have arrived (and, without `bodyDeadline`, the whole body).
    ///   - bodyDeadline: When the body must have arrived, if later: once the head is in the node is answering, and
    ///     a large answer from a busy node may outlive the head's budget (a 20 MiB listing did, under load).
    ///   - bodyIdleLimit: With `bodyDeadline`, the longest silence allowed while the body arrives.
    static func exchange(
        _ endpoint: Endpoint, method: String, path: String, body: [UInt8]?, deadline: ContinuousClock.Instant,
        bodyDeadline: ContinuousClock.Instant? = nil, bodyIdleLimit: Duration? = nil,
        cancel: CancelFlag, pool: ConnectionPool = .shared, headers: [String] = []
    ) throws(TransportFailure) -> HTTPResponse {
        let connection: Connection
        // TLS sessions are not pooled: a pooled descriptor would need its TLS state kept with it.
        if endpoint.tls == nil, let descriptor = pool.take(endpoint) {
            connection = Connection(reusing: descriptor, cancel: cancel)
        } else {
            connection = try Connection.open(endpoint, deadline: deadline, cancel: cancel)
        }
        var reusable = false
        defer { if reusable { pool.give(connection.descriptor, to: endpoint) } else { connection.close() } }
        try connection.send(
            requestBytes(endpoint, method: method, path: path, body: body, keepAlive: true, headers: headers), deadline: deadline)
        var reader = ResponseReader(connection: connection)
        var response = try reader.readHead(deadline: deadline)
        if let bodyDeadline, bodyDeadline > deadline { reader.idleLimit = bodyIdleLimit }
        response.body = try reader.readBody(
            headers: response.headers, method: method, deadline: max(deadline, bodyDeadline ?? deadline))
        reusable = endpoint.tls == nil && reader.endedCleanly && response.headers["connection"]?.lowercased() != "close"
        return response
    }

    /// Sends a GET whose answer is a stream of lines; `onLine` gets each line (without the newline) and returns
    /// false to stop. A non-200 answer is returned whole, with its body, without calling `onLine`.
    /// - Parameters:
    ///   - headDeadline: When the response head must have arrived.
    ///   - idleTimeout: The longest silence allowed between lines; the server sends progress lines while idle,
    ///     so a longer silence means the node is gone or cut off.
    static func stream(
        _ endpoint: Endpoint, path: String, headDeadline: ContinuousClock.Instant, idleTimeout: Duration,
        cancel: CancelFlag, headers: [String] = [], onHead: (HTTPResponse) -> Void, onLine: ([UInt8]) -> Bool
    ) throws(TransportFailure) -> HTTPResponse {
        let connection = try Connection.open(endpoint, deadline: headDeadline, cancel: cancel)
        defer { connection.close() }
        try connection.send(requestBytes(endpoint, method: "GET", path: path, body: nil, headers: headers), deadline: headDeadline)
        var reader = ResponseReader(connection: connection)
        var response = try reader.readHead(deadline: headDeadline)
        guard response.status == 200 else {
            response.body = try reader.readBody(headers: response.headers, method: "GET", deadline: headDeadline)
            return response
        }
        onHead(response)
        var pending: [UInt8] = []
        while true {
            let chunk: [UInt8]?
            if response.headers["transfer-encoding"]?.lowercased() == "chunked" {
                chunk = try reader.readChunk(deadline: .now + idleTimeout)
            } else {
                chunk = try reader.readAvailable(deadline: .now + idleTimeout)
            }
            guard let chunk else { return response }
            pending.append(contentsOf: chunk)
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = Array(pending[..<newline])
                pending.removeFirst(newline + 1)
                if !line.isEmpty, !onLine(line) { return response }
            }
        }
    }

    /// - Parameter headers: Extra header lines (`Authorization: Bearer …`).
    static func requestBytes(
        _ endpoint: Endpoint, method: String, path: String, body: [UInt8]?, keepAlive: Bool = false, headers: [String] = []
    ) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(endpoint.description)\r\n"
        if !keepAlive { head += "Connection: close\r\n" }
        for header in headers { head += header + "\r\n" }
        head += "User-Agent: RosterClient\r\n"
        if let body {
            head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        } else if method != "GET" && method != "DELETE" {
            head += "Content-Length: 0\r\n"
        }
        return Array((head + "\r\n").utf8) + (body ?? [])
    }
}

/// One non-blocking TCP socket whose every wait is a `poll` slice that checks the cancel flag.
final class Connection {
    let descriptor: Int32
    let cancel: CancelFlag
    private(set) var sentAnything = false
    /// TLS over this socket for `https` endpoints (see `Connection+TLS.swift`); nil for plain HTTP.
    var engine: TLSEngine?
    /// Plaintext that arrived with the end of the handshake, returned by the next `receive`.
    var pendingPlaintext: [UInt8] = []

    /// Handshake bytes are not the request: a failure after them still means nothing reached the node's API.
    func resetSentAnything() { sentAnything = false }

    private init(descriptor: Int32, cancel: CancelFlag) {
        self.descriptor = descriptor
        self.cancel = cancel
    }

    /// An open socket from the pool, for a new exchange.
    convenience init(reusing descriptor: Int32, cancel: CancelFlag) {
        self.init(descriptor: descriptor, cancel: cancel)
    }

    func close() { _ = Glibc.close(descriptor) }

    /// Resolves `endpoint` and connects to its first address that answers before `deadline`, then runs the TLS
    /// handshake when the endpoint has TLS settings.
    static func open(_ endpoint: Endpoint, deadline: ContinuousClock.Instant, cancel: CancelFlag)
        throws(TransportFailure) -> Connection
    {
        let connection = try openTCP(endpoint, deadline: deadline, cancel: cancel)
        guard let tls = endpoint.tls else { return connection }
        do {
            try connection.secure(tls, host: endpoint.host, deadline: deadline)
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    private static func openTCP(_ endpoint: Endpoint, deadline: ContinuousClock.Instant, cancel: CancelFlag)
        throws(TransportFailure) -> Connection
    {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        guard status == 0, let first = list else {
            throw .connectFailed("cannot resolve \(endpoint.host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var current: UnsafeMutablePointer<addrinfo>? = first
        while let info = current {
            current = info.pointee.ai_next
            let descriptor = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue), 0)
            if descriptor < 0 { lastError = String(cString: strerror(errno)); continue }
            var one: Int32 = 1
            _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let connection = Connection(descriptor: descriptor, cancel: cancel)
            if Glibc.connect(descriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return connection }
            guard errno == EINPROGRESS else {
                lastError = String(cString: strerror(errno))
                connection.close()
                continue
            }
            do {
                try connection.wait(for: Int16(POLLOUT), deadline: deadline, sent: false)
            } catch {
                connection.close()
                if case .connectFailed(let text) = error { lastError = text; continue }
                throw error
            }
            var socketError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &socketError, &length)
            if socketError == 0 { return connection }
            lastError = String(cString: strerror(socketError))
            connection.close()
        }
        throw .connectFailed("cannot connect to \(endpoint): \(lastError)")
    }

    /// Waits until the socket is ready for `events`, in slices, until `deadline` or cancellation.
    func wait(for events: Int16, deadline: ContinuousClock.Instant, sent: Bool) throws(TransportFailure) {
        while true {
            if cancel.isCancelled { throw .cancelled }
            let remaining = ContinuousClock.now.duration(to: deadline)
            if remaining <= .zero { throw .timedOut(sent: sent) }
            let milliseconds =
                remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000
            let slice = Int32(min(Int64(BlockingHTTP.pollSliceMilliseconds), max(1, milliseconds)))
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let ready = poll(&entry, 1, slice)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw .connectionLost(String(cString: strerror(errno))) }
        }
    }

    func sendRaw(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(TransportFailure) {
        var offset = 0
        while offset < bytes.count {
            try wait(for: Int16(POLLOUT), deadline: deadline, sent: sentAnything)
            let written = bytes[offset...].withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                // Refused before anything left: nothing reached the node.
                if !sentAnything { throw .connectFailed(String(cString: strerror(errno))) }
                throw .connectionLost(String(cString: strerror(errno)))
            }
            sentAnything = true
            offset += written
        }
    }

    /// Reads what the socket has (at least one byte), or nil at end of stream.
    func receiveRaw(deadline: ContinuousClock.Instant) throws(TransportFailure) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            try wait(for: Int16(POLLIN), deadline: deadline, sent: true)
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 { return Array(buffer[0..<count]) }
            if count == 0 { return nil }
            if errno == EAGAIN || errno == EINTR { continue }
            throw .connectionLost(String(cString: strerror(errno)))
        }
    }
}

/// Buffers a connection's bytes and cuts them into a response head, a body, chunks and lines.
struct ResponseReader {
    let connection: Connection
    private var buffer: [UInt8] = []

    init(connection: Connection) { self.connection = connection }

    /// Whether the last body was framed (length or chunked) and nothing followed it, so the socket is at a
    /// request boundary and can carry another exchange.
    private(set) var endedCleanly = false
    private var sawLastChunk = false
    /// When set, no wait for bytes lasts longer than this, whatever the deadline (a body read after the head).
    var idleLimit: Duration?

    private mutating func fill(deadline: ContinuousClock.Instant) throws(TransportFailure) -> Bool {
        let bounded = idleLimit.map { min(deadline, .now + $0) } ?? deadline
        guard let bytes = try connection.receive(deadline: bounded) else { return false }
        buffer.append(contentsOf: bytes)
        return true
    }

    mutating func readHead(deadline: ContinuousClock.Instant) throws(TransportFailure) -> HTTPResponse {
        while true {
            if let end = Self.find([13, 10, 13, 10], in: buffer) {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 4)
                return try Self.parseHead(head)
            }
            if buffer.count > BlockingHTTP.maximumHeadBytes { throw .malformed("response head too large") }
            guard try fill(deadline: deadline) else {
                throw .connectionLost("the node closed the connection before answering")
            }
        }
    }

    static func parseHead(_ head: String) throws(TransportFailure) -> HTTPResponse {
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = (lines.first ?? "").split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw .malformed("bad status line \(String(lines.first ?? "").debugDescription)")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return HTTPResponse(status: status, headers: headers, body: [])
    }

    mutating func readBody(headers: [String: String], method: String, deadline: ContinuousClock.Instant)
        throws(TransportFailure) -> [UInt8]
    {
        if method == "HEAD" { return [] }
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            var body: [UInt8] = []
            while let chunk = try readChunk(deadline: deadline) {
                body.append(contentsOf: chunk)
                if body.count > BlockingHTTP.maximumBodyBytes { throw .malformed("response body too large") }
            }
            endedCleanly = buffer.isEmpty && sawLastChunk
            return body
        }
        if let lengthText = headers["content-length"] {
            guard let length = Int(lengthText), length >= 0, length <= BlockingHTTP.maximumBodyBytes else {
                throw .malformed("bad Content-Length \(lengthText)")
            }
            while buffer.count < length {
                guard try fill(deadline: deadline) else { throw .connectionLost("body cut short") }
            }
            endedCleanly = buffer.count == length
            return Array(buffer.prefix(length))
        }
        while try fill(deadline: deadline) {
            if buffer.count > BlockingHTTP.maximumBodyBytes { throw .malformed("response body too large") }
        }
        return buffer
    }

    /// The next chunk's data, or nil after the last (zero-size) chunk or at a clean end of stream.
    mutating func readChunk(deadline: ContinuousClock.Instant) throws(TransportFailure) -> [UInt8]? {
        var sizeEnd = Self.find([13, 10], in: buffer)
        while sizeEnd == nil {
            guard try fill(deadline: deadline) else {
                if buffer.isEmpty { return nil }
                throw .connectionLost("stream cut mid-chunk")
            }
            sizeEnd = Self.find([13, 10], in: buffer)
        }
        guard let sizeEnd else { return nil }
        let sizeText = String(decoding: buffer[..<sizeEnd], as: UTF8.self).split(separator: ";").first ?? ""
        guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else {
            throw .malformed("bad chunk size \(sizeText.debugDescription)")
        }
        while buffer.count < sizeEnd + 2 + size + 2 {
            guard try fill(deadline: deadline) else {
                if size == 0 { return nil }
                throw .connectionLost("stream cut mid-chunk")
            }
        }
        let data = Array(buffer[(sizeEnd + 2)..<(sizeEnd + 2 + size)])
        buffer.removeFirst(sizeEnd + 2 + size + 2)
        if size == 0 { sawLastChunk = true }
        return size == 0 ? nil : data
    }

    /// Whatever bytes come next (for a body without framing), or nil at end of stream.
    mutating func readAvailable(deadline: ContinuousClock.Instant) throws(TransportFailure) -> [UInt8]? {
        if !buffer.isEmpty {
            defer { buffer.removeAll() }
            return buffer
        }
        return try connection.receive(deadline: deadline)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }
}
