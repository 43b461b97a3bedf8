import COpenSSL

/// One OpenSSL `SSL_CTX`, built and checked from a `TLSConfiguration`; makes a `TLSEngine` per connection.
///
/// Policy, the same for every Roster context: TLS 1.2 and 1.3 only; OpenSSL's default cipher lists (forward
/// secret AEAD suites first); no renegotiation and no compression; peer chains of at most 32 KiB and depth 6;
/// a server session cache and session tickets, so a reconnecting client resumes without a full handshake.
///
/// Start-up checks (each a `TLSError` naming the flag): every file readable as PEM; the key matches the
/// certificate; the certificate is within its validity dates; and, for members
/// (`requiresOwnCertificateFromTrustedCA`), the certificate verifies against the CA bundle the other members
/// verify it with.
///
/// Threading: OpenSSL allows creating connections from one context on any thread once it is set up, and the
/// context is never changed after `init`; hence `@unchecked Sendable`.
public final class TLSContext: @unchecked Sendable {
    let pointer: OpaquePointer
    public let configuration: TLSConfiguration

    /// Builds the context and runs the start-up checks.
    /// - Throws: `TLSError` describing the first problem found.
    public init(_ configuration: TLSConfiguration) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        let method = configuration.role == .server ? TLS_server_method() : TLS_client_method()
        guard let context = SSL_CTX_new(method) else { throw .setupFailed(OpenSSLErrorQueue.drain()) }
        self.pointer = context
        self.configuration = configuration
        try applyPolicy()
        try loadCredentials()
        try loadTrust()
    }

    deinit { SSL_CTX_free(pointer) }

    /// A new engine for one connection.
    /// - Parameter expectedHost: Client role: the IP address or DNS name the server's certificate must name
    ///   (nil skips the name check, for example when only the CA matters).
    public func makeEngine(expectedHost: String? = nil) throws(TLSError) -> TLSEngine {
        try TLSEngine(context: self, expectedHost: expectedHost)
    }

    /// Handshakes resumed from the server's session cache or a ticket so far.
    public var resumedSessions: Int { roster_ssl_ctx_session_hits(pointer) }

    // MARK: - Setup

    private func applyPolicy() throws(TLSError) {
        guard roster_ssl_ctx_set_min_proto_version(pointer, TLS1_2_VERSION) == 1,
              roster_ssl_ctx_set_max_proto_version(pointer, TLS1_3_VERSION) == 1
        else { throw .setupFailed(OpenSSLErrorQueue.drain()) }
        SSL_CTX_set_options(pointer, roster_ssl_context_options())
        _ = roster_ssl_ctx_set_max_cert_list(pointer, Int(TLSConfiguration.maximumPeerChainBytes))
        _ = roster_ssl_ctx_set_verify_depth(pointer, TLSConfiguration.maximumVerifyDepth)
        if configuration.role == .server {
            _ = roster_ssl_ctx_set_session_cache_mode(pointer, Int(SSL_SESS_CACHE_SERVER))
            _ = roster_ssl_ctx_set_session_cache_size(pointer, 4096)
            // Required for resumption once client certificates are verified; any fixed value will do.
            let id: [UInt8] = Array("roster".utf8)
            _ = SSL_CTX_set_session_id_context(pointer, id, UInt32(id.count))
            if !configuration.applicationProtocols.isEmpty { roster_ssl_ctx_enable_alpn_select(pointer) }
        } else if !configuration.applicationProtocols.isEmpty {
            var wire: [UInt8] = []
            for name in configuration.applicationProtocols {
                wire.append(UInt8(name.utf8.count))
                wire.append(contentsOf: name.utf8)
            }
            guard SSL_CTX_set_alpn_protos(pointer, wire, UInt32(wire.count)) == 0 else {
                throw .setupFailed(OpenSSLErrorQueue.drain())
            }
        }
    }

    private func loadCredentials() throws(TLSError) {
        let names = configuration.settingNames
        guard let certificate = configuration.certificateFile else {
            if configuration.role == .server {
                throw .incompleteConfiguration("a TLS server needs \(names.certificate) and \(names.key)")
            }
            if configuration.keyFile != nil {
                throw .incompleteConfiguration("\(names.key) needs \(names.certificate) too")
            }
            return
        }
        guard let key = configuration.keyFile else {
            throw .incompleteConfiguration("\(names.certificate) needs \(names.key) too")
        }
        guard SSL_CTX_use_certificate_chain_file(pointer, certificate) == 1 else {
            throw .unreadableFile(setting: names.certificate, path: certificate, reason: OpenSSLErrorQueue.drain())
        }
        guard SSL_CTX_use_PrivateKey_file(pointer, key, SSL_FILETYPE_PEM) == 1 else {
            let reason = OpenSSLErrorQueue.drain()
            if reason.contains("values mismatch") || reason.contains("key values") {
                throw .keyDoesNotMatchCertificate(certificate: certificate, key: key)
            }
            throw .unreadableFile(setting: names.key, path: key, reason: reason)
        }
        guard SSL_CTX_check_private_key(pointer) == 1 else {
            OpenSSLErrorQueue.clear()
            throw .keyDoesNotMatchCertificate(certificate: certificate, key: key)
        }
        try checkValidity(of: certificate)
    }

    private func checkValidity(of path: String) throws(TLSError) {
        guard let leaf = SSL_CTX_get0_certificate(pointer) else { return }
        let setting = configuration.settingNames.certificate
        if let notAfter = X509_get0_notAfter(leaf), X509_cmp_current_time(notAfter) < 0 {
            throw .certificateExpired(setting: setting, path: path, notAfter: Self.text(notAfter))
        }
        if let notBefore = X509_get0_notBefore(leaf), X509_cmp_current_time(notBefore) > 0 {
            throw .certificateNotYetValid(setting: setting, path: path, notBefore: Self.text(notBefore))
        }
    }

    private func loadTrust() throws(TLSError) {
        let names = configuration.settingNames
        if let authority = configuration.trustedCAFile {
            guard SSL_CTX_load_verify_locations(pointer, authority, nil) == 1 else {
                throw .unreadableFile(setting: names.trustedCA, path: authority, reason: OpenSSLErrorQueue.drain())
            }
            if let certificate = configuration.certificateFile, configuration.requiresOwnCertificateFromTrustedCA {
                try checkSignedByTrustedCA(certificate, authority)
            }
            if configuration.role == .server {
                // The CA names sent in the CertificateRequest, so clients pick the right certificate.
                if let names = SSL_load_client_CA_file(authority) { SSL_CTX_set_client_CA_list(pointer, names) }
            }
        } else if configuration.role == .client {
            guard SSL_CTX_set_default_verify_paths(pointer) == 1 else {
                throw .setupFailed(OpenSSLErrorQueue.drain())
            }
        } else if configuration.requiresPeerCertificate {
            throw .incompleteConfiguration(
                "verifying the other side's certificate needs \(names.trustedCA) (the CA bundle that signs them)")
        }
        var mode = SSL_VERIFY_NONE
        if configuration.role == .client {
            mode = SSL_VERIFY_PEER
        } else if configuration.trustedCAFile != nil {
            // A presented certificate must verify; with client-cert-auth one must be presented.
            mode = SSL_VERIFY_PEER | (configuration.requiresPeerCertificate ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0)
        }
        SSL_CTX_set_verify(pointer, mode, nil)
    }

    /// Verifies our own certificate (with the chain file's intermediates) against the trusted CA bundle.
    private func checkSignedByTrustedCA(_ certificate: String, _ authority: String) throws(TLSError) {
        guard let leaf = SSL_CTX_get0_certificate(pointer), let store = SSL_CTX_get_cert_store(pointer),
              let verification = X509_STORE_CTX_new()
        else { return }
        defer { X509_STORE_CTX_free(verification) }
        var chain: OpaquePointer?
        _ = roster_ssl_ctx_get0_chain_certs(pointer, &chain)
        guard X509_STORE_CTX_init(verification, store, leaf, chain) == 1 else {
            throw .setupFailed(OpenSSLErrorQueue.drain())
        }
        if X509_verify_cert(verification) != 1 {
            let code = X509_STORE_CTX_get_error(verification)
            OpenSSLErrorQueue.clear()
            if code == X509_V_ERR_CERT_HAS_EXPIRED || code == X509_V_ERR_CERT_NOT_YET_VALID { return }
            let names = configuration.settingNames
            throw .certificateNotSignedByCA(
                setting: names.certificate, path: certificate, caSetting: names.trustedCA, caPath: authority,
                reason: String(cString: X509_verify_cert_error_string(Int(code))))
        }
    }

    static func text(_ time: UnsafePointer<ASN1_TIME>) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "?" }
        defer { BIO_free(bio) }
        guard ASN1_TIME_print(bio, time) == 1 else { return "?" }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = BIO_read(bio, &buffer, Int32(buffer.count))
        return count > 0 ? String(decoding: buffer.prefix(Int(count)), as: UTF8.self) : "?"
    }
}
