import TLS

/// The TLS settings of a node, under etcd's flag names: the client port (`--cert-file`, `--key-file`,
/// `--trusted-ca-file`, `--client-cert-auth`) and the peer port (`--peer-cert-file`, `--peer-key-file`,
/// `--peer-trusted-ca-file`, `--peer-client-cert-auth`, `--peer-cert-allowed-cn`). Empty means plaintext.
public struct ServerTLSSettings: Hashable, Sendable {
    public var certificateFile: String?
    public var keyFile: String?
    public var trustedCAFile: String?
    public var clientCertificateAuth = false
    public var peerCertificateFile: String?
    public var peerKeyFile: String?
    public var peerTrustedCAFile: String?
    public var peerClientCertificateAuth = false
    public var peerAllowedCommonName: String?

    public init() {}

    /// Whether the client port speaks TLS.
    public var isClientTLS: Bool { certificateFile != nil }
    /// Whether the peer port (and dialing peers) speaks TLS.
    public var isPeerTLS: Bool { peerCertificateFile != nil }

    /// The client listener's context: ALPN h2 and http/1.1, so HTTP/1.1, HTTP/2 and gRPC all run over it.
    var clientServer: TLSConfiguration? {
        guard isClientTLS else { return nil }
        return TLSConfiguration(
            role: .server, certificateFile: certificateFile, keyFile: keyFile, trustedCAFile: trustedCAFile,
            requiresPeerCertificate: clientCertificateAuth, applicationProtocols: ["http/1.1", "h2"],
            settingNames: .client)
    }

    /// The peer listener's context: verifies a member's certificate against the peer CA (and its CN).
    var peerServer: TLSConfiguration? {
        guard isPeerTLS else { return nil }
        return TLSConfiguration(
            role: .server, certificateFile: peerCertificateFile, keyFile: peerKeyFile,
            trustedCAFile: peerTrustedCAFile, requiresPeerCertificate: peerClientCertificateAuth,
            allowedCommonName: peerAllowedCommonName, settingNames: .peer, requiresOwnCertificateFromTrustedCA: true)
    }

    /// The context for dialing members: presents our peer certificate and verifies theirs, their address and
    /// the allowed common name. (etcd checks the name only on accepted connections; checking it here too
    /// keeps a certificate from the right CA but with the wrong name from receiving the log.)
    var peerClient: TLSConfiguration? {
        guard isPeerTLS else { return nil }
        return TLSConfiguration(
            role: .client, certificateFile: peerCertificateFile, keyFile: peerKeyFile,
            trustedCAFile: peerTrustedCAFile, allowedCommonName: peerAllowedCommonName, settingNames: .peer)
    }
}
