// A minimal blocking HTTP/1.1 client for the benchmark: one keep-alive connection, requests written whole,
// responses read by Content-Length (the load generator never reads a chunked body except through
// `WatchStream`). Every socket has send/receive timeouts, so no call blocks forever.
import Glibc
import Posix  // MonotonicClock: CLOCK_MONOTONIC, the clock Python's time.monotonic_ns() reads

struct ClientError: Error, CustomStringConvertible {
    var description: String
}

/// "127.0.0.1:2379" -> (host-order address, port).
func parseEndpoint(_ text: String) -> (address: UInt32, port: UInt16)? {
    let parts = text.split(separator: ":")
    guard parts.count == 2, let port = UInt16(parts[1]) else { return nil }
    let octets = parts[0].split(separator: ".").compactMap { UInt32($0) }
    guard octets.count == 4 else { return nil }
    return (octets.reduce(0) { $0 << 8 | $1 }, port)
}

/// Opens a blocking TCP connection with TCP_NODELAY and the given I/O timeout.
func connectTCP(_ endpoint: String, timeoutMilliseconds: Int) throws(ClientError) -> Int32 {
    guard let (address, port) = parseEndpoint(endpoint) else { throw ClientError(description: "bad endpoint \(endpoint)") }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw ClientError(description: "socket: errno \(errno)") }
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    var timeout = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var storage = sockaddr_in()
    storage.sin_family = sa_family_t(AF_INET)
    storage.sin_port = port.bigEndian
    storage.sin_addr = in_addr(s_addr: address.bigEndian)
    let result = withUnsafePointer(to: &storage) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    if result != 0 {
        let code = errno
        close(fd)
        throw ClientError(description: "connect \(endpoint): errno \(code)")
    }
    return fd
}

func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(ClientError) {
    var offset = 0
    while offset < bytes.count {
        let sent = bytes.withUnsafeBytes { raw in
            send(fd, raw.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
        }
        if sent < 0 {
            if errno == EINTR { continue }
            throw ClientError(description: "send: errno \(errno)")
        }
        offset += sent
    }
}

struct HTTPResponse {
    var status: Int
    var revision: Int64
    var body: [UInt8]
}

/// The load generator shares two cores with the servers it measures, so a request costs as little as it can:
/// the request is built in a reused buffer, the response head is parsed as bytes (no strings, no splitting),
/// and received bytes are consumed by moving an offset rather than shifting the buffer.
final class HTTPClient {
    let endpoint: String
    let timeoutMilliseconds: Int
    private var fd: Int32 = -1
    /// Received bytes; those before `start` are consumed.
    private var buffer: [UInt8] = []
    private var start = 0
    private var chunk = [UInt8](repeating: 0, count: 65536)
    private var outgoing: [UInt8] = []
    private let hostLine: [UInt8]

    init(endpoint: String, timeoutMilliseconds: Int = 5000) {
        self.endpoint = endpoint
        self.timeoutMilliseconds = timeoutMilliseconds
        self.hostLine = Array(" HTTP/1.1\r\nHost: \(endpoint)\r\n".utf8)
    }

    deinit { disconnect() }

    func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
        buffer.removeAll(keepingCapacity: true)
        start = 0
    }

    /// One request; reconnects first if the previous exchange broke the connection. Any I/O error closes the
    /// connection and throws.
    func request(_ method: String, _ path: String, body: [UInt8] = []) throws(ClientError) -> HTTPResponse {
        if fd < 0 { fd = try connectTCP(endpoint, timeoutMilliseconds: timeoutMilliseconds) }
        outgoing.removeAll(keepingCapacity: true)
        outgoing.append(contentsOf: method.utf8)
        outgoing.append(0x20)
        outgoing.append(contentsOf: path.utf8)
        outgoing.append(contentsOf: hostLine)
        if !body.isEmpty || method == "PUT" || method == "POST" {
            outgoing.append(contentsOf: "Content-Type: application/json\r\nContent-Length: ".utf8)
            appendDecimal(body.count, to: &outgoing)
            outgoing.append(contentsOf: [13, 10])
        }
        outgoing.append(contentsOf: [13, 10])
        outgoing.append(contentsOf: body)
        do {
            try writeAll(fd, outgoing)
            return try readResponse()
        } catch {
            disconnect()
            throw error
        }
    }

    private func fill() throws(ClientError) {
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count > 0 {
            buffer.append(contentsOf: chunk[0..<count])
        } else if count == 0 {
            throw ClientError(description: "connection closed by \(endpoint)")
        } else if errno != EINTR {
            throw ClientError(description: errno == EAGAIN ? "timeout from \(endpoint)" : "recv: errno \(errno)")
        }
    }

    private func readResponse() throws(ClientError) -> HTTPResponse {
        var scanned = start
        var headEnd: Int? = nil
        while true {
            headEnd = findHeadEnd(buffer, from: scanned)
            if headEnd != nil { break }
            scanned = max(start, buffer.count - 3)
            try fill()
        }
        let head = buffer[start..<headEnd!]
        guard let firstLineEnd = find(crlf, in: buffer, from: start), firstLineEnd <= headEnd! else {
            throw ClientError(description: "empty response")
        }
        // "HTTP/1.1 200 OK": the code is the three digits after the first space.
        guard let space = head.firstIndex(of: 0x20), space + 4 <= firstLineEnd,
              let status = decimal(buffer[(space + 1)..<(space + 4)]) else {
            throw ClientError(description: "bad status line")
        }
        var length = 0
        var revision: Int64 = 0
        var close = false
        var lineStart = firstLineEnd + 2
        while lineStart < headEnd! {
            let lineEnd = find(crlf, in: buffer, from: lineStart).map { min($0, headEnd!) } ?? headEnd!
            let line = buffer[lineStart..<lineEnd]
            lineStart = lineEnd + 2
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = line[line.startIndex..<colon]
            var value = line[(colon + 1)...]
            while value.first == 0x20 { value = value.dropFirst() }
            while value.last == 0x20 { value = value.dropLast() }
            if equalsLowercase(name, "content-length") {
                length = Int(decimal(value) ?? 0)
            } else if equalsLowercase(name, "x-roster-revision") {
                revision = decimal(value) ?? 0
            } else if equalsLowercase(name, "connection") {
                close = equalsLowercase(value, "close")
            } else if equalsLowercase(name, "transfer-encoding") {
                throw ClientError(description: "unexpected chunked response")
            }
        }
        let bodyStart = headEnd! + 4
        while buffer.count < bodyStart + length { try fill() }
        let body = Array(buffer[bodyStart..<(bodyStart + length)])
        start = bodyStart + length
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 65536 {
            buffer.removeFirst(start)
            start = 0
        }
        if close { disconnect() }
        return HTTPResponse(status: Int(status), revision: revision, body: body)
    }
}

private let crlf: [UInt8] = [13, 10]

/// Whether `bytes` spell `lowercase` ignoring ASCII case.
func equalsLowercase(_ bytes: ArraySlice<UInt8>, _ lowercase: StaticString) -> Bool {
    guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
    let expected = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
    var index = 0
    for byte in bytes {
        let lowered = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
        if lowered != expected[index] { return false }
        index += 1
    }
    return true
}

/// ASCII digits as a number; nil if empty or anything else is there.
func decimal(_ bytes: ArraySlice<UInt8>) -> Int64? {
    guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
    var value: Int64 = 0
    for byte in bytes {
        guard byte >= 48, byte <= 57 else { return nil }
        value = value * 10 + Int64(byte - 48)
    }
    return value
}

func appendDecimal(_ value: Int, to output: inout [UInt8]) {
    output.append(contentsOf: String(value).utf8)
}

extension Substring {
    func trimmingCharacters(in set: Character) -> String {
        var text = self
        while text.first == set { text = text.dropFirst() }
        while text.last == set { text = text.dropLast() }
        return String(text)
    }
}

/// The index of "\r\n\r\n" in `bytes` at or after `from`, or nil.
func findHeadEnd(_ bytes: [UInt8], from: Int = 0) -> Int? {
    guard bytes.count >= 4 else { return nil }
    var index = from
    while index + 3 < bytes.count {
        if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 { return index }
        index += 1
    }
    return nil
}

/// The first integer after `marker` in `bytes`, or nil.
func integer(after marker: String, in bytes: [UInt8], from start: Int = 0) -> Int64? {
    let pattern = Array(marker.utf8)
    guard let at = find(pattern, in: bytes, from: start) else { return nil }
    var index = at + pattern.count
    var value: Int64 = 0
    var digits = 0
    while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
        value = value * 10 + Int64(bytes[index] - 48)
        index += 1
        digits += 1
    }
    return digits > 0 ? value : nil
}

func find(_ pattern: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
    guard !pattern.isEmpty, bytes.count >= pattern.count else { return nil }
    var index = start
    let first = pattern[0]
    while index + pattern.count <= bytes.count {
        if bytes[index] == first {
            var match = true
            for offset in 1..<pattern.count where bytes[index + offset] != pattern[offset] {
                match = false
                break
            }
            if match { return index }
        }
        index += 1
    }
    return nil
}
