import Synchronization
import TLS

/// How a client speaks TLS to a node: whom it trusts and, for mutual TLS, who it is. Set on an `Endpoint`
/// (`https://` endpoints get one trusting the system's CA store) or for every endpoint through
/// `RosterClientConfiguration.tls`; rosterctl's `--cacert`, `--cert` and `--key` fill it in.
public struct ClientTLS: Hashable, Sendable {
    /// PEM bundle of the CAs that sign the nodes' certificates; nil trusts the system's store.
    public var trustedCAFile: String?
    /// PEM certificate presented to nodes started with `--client-cert-auth`.
    public var certificateFile: String?
    /// PEM private key of `certificateFile`.
    public var keyFile: String?

    public init(trustedCAFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
        self.trustedCAFile = trustedCAFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }

    /// The OpenSSL context for these settings, built once per process and shared by every connection
    /// (TLS contexts are safe to share across threads once built).
    func context() throws(TLSError) -> TLSContext {
        if let context = Self.contexts.withLock({ $0[self] }) { return context }
        let context = try TLSContext(TLSConfiguration(
            role: .client, certificateFile: certificateFile, keyFile: keyFile, trustedCAFile: trustedCAFile,
            applicationProtocols: ["http/1.1"], settingNames: .tool))
        Self.contexts.withLock { $0[self] = context }
        return context
    }

    private static let contexts = Mutex<[ClientTLS: TLSContext]>([:])
}
