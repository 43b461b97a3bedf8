import COpenSSL

/// TLS for one connection, over memory buffers: wire bytes in, plaintext out, and the reverse.
///
/// Why memory BIOs rather than `SSL_set_fd`: the engine never touches a descriptor, so every syscall stays in
/// `Posix.Connection` (which already owns non-blocking reads, the bounded outbound queue and back-pressure),
/// and the engine can be tested by wiring two engines together in memory, with no sockets. OpenSSL's
/// WANT_READ becomes "feed me more wire bytes"; WANT_WRITE cannot happen, since a memory BIO takes every write.
///
/// Handshake: the server starts when the first wire bytes arrive; the client calls `start()` to produce its
/// hello. `isEstablished` turns true only after the handshake finished *and* the other side's identity was
/// checked (certificate verified by OpenSSL, then the allowed common name and, for a client, the expected host),
/// so a caller that hands plaintext on only once established never passes on a byte from an unverified peer.
/// Plaintext sent before that waits here (`bufferedPlaintextBytes`) and is encrypted on establishment.
///
/// Not thread-safe: one connection, one thread.
public final class TLSEngine {
    /// What `receive` found besides plaintext.
    public enum ReceiveOutcome: Equatable, Sendable {
        /// The connection continues.
        case open
        /// The other side sent close_notify: no more data will come.
        case closedByPeer
    }

    /// The context; kept alive as long as the engine uses it.
    public let context: TLSContext
    private let ssl: OpaquePointer
    /// Wire bytes received, waiting for OpenSSL (owned by `ssl`).
    private let wireIn: OpaquePointer
    /// Wire bytes OpenSSL produced, waiting to be sent (owned by `ssl`).
    private let wireOut: OpaquePointer
    private var pendingPlaintext: [UInt8] = []

    /// True once the handshake finished and the other side's identity passed every check.
    public private(set) var isEstablished = false

    init(context: TLSContext, expectedHost: String?) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        guard let ssl = SSL_new(context.pointer) else { throw .setupFailed(OpenSSLErrorQueue.drain()) }
        guard let wireIn = roster_bio_new_mem(), let wireOut = roster_bio_new_mem() else {
            SSL_free(ssl)
            throw .setupFailed("cannot allocate memory buffers")
        }
        SSL_set_bio(ssl, wireIn, wireOut)
        self.context = context
        self.ssl = ssl
        self.wireIn = wireIn
        self.wireOut = wireOut
        if context.configuration.role == .server {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let expectedHost { try expect(host: expectedHost) }
        }
    }

    deinit { SSL_free(ssl) }

    /// Client role: makes the server's certificate name `host` (an IP SAN for an address, a DNS SAN otherwise),
    /// and sends `host` as SNI when it is a name.
    private func expect(host: String) throws(TLSError) {
        guard let parameters = SSL_get0_param(ssl) else { throw .setupFailed("no verify parameters") }
        // set1_ip_asc accepts only a literal IPv4 or IPv6 address; anything else is a DNS name.
        if X509_VERIFY_PARAM_set1_ip_asc(parameters, host) == 1 { return }
        OpenSSLErrorQueue.clear()
        guard X509_VERIFY_PARAM_set1_host(parameters, host, 0) == 1 else {
            throw .setupFailed(OpenSSLErrorQueue.drain())
        }
        _ = roster_ssl_set_host_name(ssl, host)
    }

    // MARK: - Driving

    /// Client role: starts the handshake (the ClientHello is then in `takeWireBytes()`).
    public func start() throws(TLSError) {
        try advanceHandshake()
    }

    /// Feeds wire bytes in and appends whatever plaintext they complete.
    /// - Throws: `TLSError` when the handshake or a record fails; the alert for the other side, if any, is
    ///   still in `takeWireBytes()`.
    public func receive(_ wire: UnsafeRawBufferPointer, into plaintext: inout [UInt8]) throws(TLSError) -> ReceiveOutcome {
        if wire.count > 0 {
            let written = BIO_write(wireIn, wire.baseAddress, Int32(wire.count))
            precondition(written == Int32(wire.count), "a memory BIO took \(written) of \(wire.count) bytes")
        }
        if !isEstablished {
            try advanceHandshake()
            guard isEstablished else { return .open }
        }
        return try readPlaintext(into: &plaintext)
    }

    /// Encrypts `plaintext` for sending (held until established).
    public func send(_ plaintext: [UInt8]) throws(TLSError) {
        guard !plaintext.isEmpty else { return }
        guard isEstablished else {
            pendingPlaintext.append(contentsOf: plaintext)
            return
        }
        try write(plaintext)
    }

    /// The wire bytes produced so far (handshake messages, records, alerts); empties the buffer.
    public func takeWireBytes() -> [UInt8] {
        let count = Int(roster_bio_pending(wireOut))
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        let read = bytes.withUnsafeMutableBytes { BIO_read(wireOut, $0.baseAddress, Int32(count)) }
        return read > 0 ? Array(bytes.prefix(Int(read))) : []
    }

    /// Queues a close_notify alert (then in `takeWireBytes()`), so the other side sees a clean end.
    public func shutdown() {
        guard isEstablished else { return }
        OpenSSLErrorQueue.clear()
        _ = SSL_shutdown(ssl)
        OpenSSLErrorQueue.clear()
    }

    // MARK: - Facts

    /// Plaintext waiting for the handshake to finish.
    public var bufferedPlaintextBytes: Int { pendingPlaintext.count }

    /// The protocol ALPN selected ("h2", "http/1.1"), or nil.
    public var applicationProtocol: String? {
        var name: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &name, &length)
        guard let name, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: name, count: Int(length)), as: UTF8.self)
    }

    /// Whether the handshake resumed an earlier session.
    public var isResumed: Bool { roster_ssl_is_reused(ssl) == 1 }

    /// The negotiated protocol version ("TLSv1.3").
    public var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    /// The common name of the other side's certificate, if it presented one.
    public var peerCommonName: String? {
        guard let certificate = roster_ssl_peer_certificate(ssl) else { return nil }
        defer { X509_free(certificate) }
        guard let subject = X509_get_subject_name(certificate) else { return nil }
        var buffer = [CChar](repeating: 0, count: 256)
        let length = X509_NAME_get_text_by_NID(subject, NID_commonName, &buffer, Int32(buffer.count))
        guard length >= 0 else { return nil }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: - Internals

    private func advanceHandshake() throws(TLSError) {
        OpenSSLErrorQueue.clear()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            try checkIdentity()
            isEstablished = true
            let waiting = pendingPlaintext
            pendingPlaintext = []
            if !waiting.isEmpty { try write(waiting) }
            return
        }
        let code = SSL_get_error(ssl, result)
        if code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE { return }
        throw handshakeFailure()
    }

    private func handshakeFailure() -> TLSError {
        if OpenSSLErrorQueue.isPlaintextHTTP {
            OpenSSLErrorQueue.clear()
            return .plaintextHTTP
        }
        let verify = SSL_get_verify_result(ssl)
        let reason = OpenSSLErrorQueue.drain(fallback: "connection closed during the handshake")
        if verify != X509_V_OK {
            return .handshakeFailed(reason: "certificate verify failed: " + String(cString: X509_verify_cert_error_string(verify)))
        }
        return .handshakeFailed(reason: reason)
    }

    /// The checks OpenSSL's verification does not make: the allowed common name.
    private func checkIdentity() throws(TLSError) {
        guard let allowed = context.configuration.allowedCommonName else { return }
        let presented = peerCommonName
        guard presented == allowed else { throw .commonNameNotAllowed(presented: presented, allowed: allowed) }
    }

    private func readPlaintext(into plaintext: inout [UInt8]) throws(TLSError) -> ReceiveOutcome {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            OpenSSLErrorQueue.clear()
            let count = chunk.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if count > 0 {
                plaintext.append(contentsOf: chunk.prefix(Int(count)))
                continue
            }
            switch SSL_get_error(ssl, count) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                return .open
            case SSL_ERROR_ZERO_RETURN:
                return .closedByPeer
            default:
                throw .protocolViolation(reason: OpenSSLErrorQueue.drain(fallback: "record layer failure"))
            }
        }
    }

    private func write(_ plaintext: [UInt8]) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        let written = plaintext.withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32($0.count)) }
        // Without SSL_MODE_ENABLE_PARTIAL_WRITE, and with a memory BIO that takes everything, a write is whole.
        guard written == Int32(plaintext.count) else {
            throw .protocolViolation(reason: OpenSSLErrorQueue.drain(fallback: "write failed"))
        }
    }
}
