/// Size limits the parser enforces while bytes arrive, so a hostile peer can never make it buffer more than
/// roughly `requestLineBytes + headerBytes + bodyBytes` per connection (reliability.md §9, framing).
public struct HTTPParserLimits: Sendable, Equatable {
    /// Longest request line (method, target, version) in bytes, CRLF excluded; longer gives 414.
    public var requestLineBytes: Int
    /// Longest header section in bytes, all lines and their CRLFs; longer gives 431. Also bounds trailers.
    public var headerBytes: Int
    /// Most header lines; more gives 431.
    public var headerCount: Int
    /// Largest body in bytes after chunk decoding; larger gives 413 before any of it is buffered.
    public var bodyBytes: Int

    /// Creates limits; the defaults suit a registry API (small JSON bodies, 1.5 MiB ceiling).
    public init(requestLineBytes: Int = 8192, headerBytes: Int = 32 * 1024, headerCount: Int = 100,
                bodyBytes: Int = 3 * 512 * 1024) {
        precondition(requestLineBytes > 0 && headerBytes > 0 && headerCount > 0 && bodyBytes >= 0,
                     "HTTP parser limits must be positive")
        self.requestLineBytes = requestLineBytes
        self.headerBytes = headerBytes
        self.headerCount = headerCount
        self.bodyBytes = bodyBytes
    }
}
