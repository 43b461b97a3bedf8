/// An incremental HTTP/1.1 request parser: feed bytes in any split, take out complete requests.
///
/// Why this shape: the event loop hands over whatever `read` returned, which may be one byte or several
/// pipelined requests, so the parser keeps a small buffer and a state machine and never blocks. Every limit in
/// `HTTPParserLimits` is checked while scanning, before bytes are kept, so memory per connection stays bounded
/// (a `Content-Length` over the limit fails with 413 before one body byte is read).
///
/// Policies (RFC 9112 with the strict choices documented here):
/// - Lines end in CRLF; a bare LF is `bareLineFeed` (400). Being strict means no front-end can see different
///   request boundaries than we do.
/// - obs-fold, NUL and other control bytes are rejected.
/// - Both `Content-Length` and `Transfer-Encoding`, or differing `Content-Length` values, are rejected
///   (request smuggling). Identical repeated `Content-Length` values are accepted as one.
/// - Only `Transfer-Encoding: chunked` is supported (501 otherwise); chunk extensions and trailers are
///   skipped, trailers count against the header budget.
/// - Targets must be origin-form (`/path?query`) or `*`; absolute-form is 400 since we are never a proxy.
/// - Up to `requestLineBytes` of empty lines before a request line are skipped (RFC 9112 §2.2 robustness).
///
/// After an error the parser stays failed and keeps throwing the same error: the caller answers with
/// `error.status` and closes, because the stream has no trustworthy request boundary left.
///
/// Use: after every `append`, call `nextRequest()` until it returns nil.
public struct HTTPRequestParser: Sendable {
    /// The limits checked while parsing.
    public let limits: HTTPParserLimits

    private var buffer: [UInt8] = []
    /// Invariant: `position <= buffer.count`; bytes before it are consumed.
    private var position = 0
    /// Where the search for the next LF resumes, so 1-byte feeds do not rescan a line (keeps feeding linear).
    private var lineScanStart = 0
    private var state = State.requestLine
    private var head: Head?
    private var skippedEmptyLineBytes = 0

    private enum State: Sendable {
        case requestLine
        case headers
        case body(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case failed(HTTPParseError)
    }

    /// The request under construction.
    struct Head: Sendable {
        var method: String
        var target: String
        var path: String
        var pathSegments: [String]
        var query: QueryParameters
        var version: HTTPVersion
        var headers = HTTPHeaders()
        var headerBytes = 0
        var body: [UInt8] = []
    }

    /// Creates a parser with the given limits.
    public init(limits: HTTPParserLimits = HTTPParserLimits()) {
        self.limits = limits
    }

    /// Bytes received but not yet consumed into a request; bounded by the limits plus the last `append`.
    public var bufferedByteCount: Int { buffer.count - position }

    /// True when no partial request is pending, so closing now loses nothing the peer sent.
    public var isIdle: Bool {
        if case .requestLine = state { return bufferedByteCount == 0 }
        return false
    }

    /// Adds received bytes; ignored once the parser has failed.
    public mutating func append<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if case .failed = state { return }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete request, or nil when more bytes are needed.
    /// - Throws: `HTTPParseError`, and the same error on every later call.
    /// - Complexity: O(n) in the bytes appended since the last call.
    public mutating func nextRequest() throws(HTTPParseError) -> HTTPRequest? {
        if case .failed(let error) = state { throw error }
        do {
            let request = try advance()
            compact()
            return request
        } catch {
            state = .failed(error)
            buffer = []
            position = 0
            head = nil
            throw error
        }
    }

    // MARK: - State machine

    private mutating func advance() throws(HTTPParseError) -> HTTPRequest? {
        while true {
            switch state {
            case .failed(let error):
                throw error
            case .requestLine:
                guard let line = try takeLine(limit: limits.requestLineBytes, tooLong: .requestLineTooLong) else {
                    return nil
                }
                if line.isEmpty {
                    skippedEmptyLineBytes += 2
                    if skippedEmptyLineBytes > limits.requestLineBytes { throw .requestLineTooLong }
                    continue
                }
                skippedEmptyLineBytes = 0
                head = try Self.parseRequestLine(line)
                state = .headers
            case .headers:
                let budget = limits.headerBytes - head!.headerBytes
                guard let line = try takeLine(limit: budget - 2, tooLong: .headersTooLarge) else { return nil }
                head!.headerBytes += line.count + 2
                if line.isEmpty {
                    if let request = try finishHeaders() { return request }
                    continue
                }
                guard head!.headers.count < limits.headerCount else { throw .tooManyHeaders }
                let field = try Self.parseHeaderLine(line)
                head!.headers.add(name: field.name, value: field.value)
            case .body(let remaining):
                let available = min(remaining, buffer.count - position)
                head!.body.append(contentsOf: buffer[position..<(position + available)])
                position += available
                if available == remaining { return complete() }
                state = .body(remaining: remaining - available)
                return nil
            case .chunkSize:
                guard let line = try takeLine(limit: limits.requestLineBytes, tooLong: .malformedChunk) else {
                    return nil
                }
                let size = try Self.parseChunkSize(line)
                if size == 0 {
                    state = .trailers
                } else {
                    guard size <= limits.bodyBytes - head!.body.count else { throw .bodyTooLarge }
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let available = min(remaining, buffer.count - position)
                head!.body.append(contentsOf: buffer[position..<(position + available)])
                position += available
                guard available == remaining else {
                    state = .chunkData(remaining: remaining - available)
                    return nil
                }
                state = .chunkDataEnd
            case .chunkDataEnd:
                guard buffer.count - position >= 2 else {
                    if buffer.count > position && buffer[position] != UInt8(ascii: "\r") { throw .malformedChunk }
                    return nil
                }
                guard buffer[position] == UInt8(ascii: "\r"), buffer[position + 1] == UInt8(ascii: "\n") else {
                    throw .malformedChunk
                }
                position += 2
                lineScanStart = position
                state = .chunkSize
            case .trailers:
                let budget = limits.headerBytes - head!.headerBytes
                guard let line = try takeLine(limit: budget - 2, tooLong: .headersTooLarge) else { return nil }
                head!.headerBytes += line.count + 2
                if line.isEmpty { return complete() }
                _ = try Self.parseHeaderLine(line)
            }
        }
    }

    /// Decides the body framing once the header section ends; returns the request if it has no body.
    private mutating func finishHeaders() throws(HTTPParseError) -> HTTPRequest? {
        let version = head!.version
        // One pass over the fields for the three that decide framing.
        var hostCount = 0
        var transferEncodings: [String] = []
        var contentLengths: [String] = []
        for field in head!.headers {
            if HTTPHeaders.namesEqual(field.name, "Host") {
                hostCount += 1
            } else if HTTPHeaders.namesEqual(field.name, "Content-Length") {
                contentLengths.append(field.value)
            } else if HTTPHeaders.namesEqual(field.name, "Transfer-Encoding") {
                transferEncodings.append(field.value)
            }
        }
        if hostCount > 1 || (version == .http1_1 && hostCount == 0) { throw .invalidHost }
        if !transferEncodings.isEmpty {
            if !contentLengths.isEmpty { throw .contentLengthWithTransferEncoding }
            if version == .http1_0 { throw .transferEncodingOnHTTP10 }
            let codings = transferEncodings.flatMap { $0.split(separator: ",") }.map { $0.trimmingOWS() }
            guard codings.count == 1, HTTPHeaders.namesEqual(codings[0], "chunked") else {
                throw .unsupportedTransferEncoding
            }
            state = .chunkSize
            return nil
        }
        let length = try Self.contentLength(contentLengths)
        guard length <= limits.bodyBytes else { throw .bodyTooLarge }
        if length == 0 { return complete() }
        head!.body.reserveCapacity(length)
        state = .body(remaining: length)
        return nil
    }

    private mutating func complete() -> HTTPRequest {
        let finished = head!
        head = nil
        state = .requestLine
        let keepAlive = finished.version == .http1_1
            ? !finished.headers.containsToken("close", in: "Connection")
            : finished.headers.containsToken("keep-alive", in: "Connection")
        return HTTPRequest(method: finished.method, target: finished.target, path: finished.path,
                           pathSegments: finished.pathSegments, query: finished.query, version: finished.version,
                           headers: finished.headers, body: finished.body, keepAlive: keepAlive)
    }

    // MARK: - Lines

    /// The next CRLF-terminated line without its CRLF, or nil if it has not fully arrived.
    /// Throws `tooLong` as soon as the pending line exceeds `limit`, before buffering more of it.
    private mutating func takeLine(limit: Int, tooLong: HTTPParseError) throws(HTTPParseError) -> ArraySlice<UInt8>? {
        let scanFrom = max(lineScanStart, position)
        guard let lineFeed = buffer[scanFrom...].firstIndex(of: UInt8(ascii: "\n")) else {
            lineScanStart = buffer.count
            // One extra byte allowed: a trailing CR whose LF has not arrived yet.
            if buffer.count - position > max(limit, 0) + 1 { throw tooLong }
            return nil
        }
        guard lineFeed > position, buffer[lineFeed - 1] == UInt8(ascii: "\r") else { throw .bareLineFeed }
        let line = buffer[position..<(lineFeed - 1)]
        if line.count > limit { throw tooLong }
        position = lineFeed + 1
        lineScanStart = position
        return line
    }

    /// Drops consumed bytes once they dominate the buffer, keeping appends amortized O(1).
    private mutating func compact() {
        if position == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 64 * 1024)
            position = 0
            lineScanStart = 0
        } else if position > 4096 && position * 2 > buffer.count {
            buffer.removeFirst(position)
            lineScanStart -= position
            position = 0
        }
    }
}

extension HTTPRequestParser {
    /// Takes the bytes received after the last complete request, for a connection that stops speaking
    /// HTTP after it (a stream whose client writes NDJSON lines right behind its request). The parser
    /// is idle afterwards.
    /// - Precondition: the last call to `nextRequest()` returned a request, so no request is partial.
    public mutating func takeBufferedBytes() -> [UInt8] {
        guard case .requestLine = state else { preconditionFailure("takeBufferedBytes with a request in progress: \(state)") }
        let bytes = Array(buffer[position...])
        buffer = []
        position = 0
        lineScanStart = 0
        skippedEmptyLineBytes = 0
        return bytes
    }
}
