/// What one TLS context needs: which side of the handshake it plays, its certificate and key, whom it trusts,
/// and what it demands of the other side.
///
/// The names of the settings (`--cert-file` or `--peer-cert-file`, …) travel with the paths so that every
/// start-up error names the flag the operator has to fix.
public struct TLSConfiguration: Sendable, Hashable {
    /// Which side of the handshake the context plays.
    public enum Role: Sendable, Hashable {
        /// Accepts connections (the client port, the peer listener).
        case server
        /// Dials connections (a member dialing a peer, a client dialing a node).
        case client
    }

    /// The flag names the paths came from, for error messages.
    public struct SettingNames: Sendable, Hashable {
        public var certificate: String
        public var key: String
        public var trustedCA: String

        public init(certificate: String, key: String, trustedCA: String) {
            self.certificate = certificate
            self.key = key
            self.trustedCA = trustedCA
        }

        /// etcd's client-port flags.
        public static let client = SettingNames(
            certificate: "--cert-file", key: "--key-file", trustedCA: "--trusted-ca-file")
        /// etcd's peer-port flags.
        public static let peer = SettingNames(
            certificate: "--peer-cert-file", key: "--peer-key-file", trustedCA: "--peer-trusted-ca-file")
        /// rosterctl's and the client library's flags.
        public static let tool = SettingNames(certificate: "--cert", key: "--key", trustedCA: "--cacert")
    }

    public var role: Role
    /// PEM certificate chain (leaf first). Required for a server; optional for a client (mutual TLS).
    public var certificateFile: String?
    /// PEM private key of `certificateFile`.
    public var keyFile: String?
    /// PEM bundle of the CAs that sign the other side's certificate. A server with one verifies any client
    /// certificate offered; a client with one verifies the server (without one it uses the system's store).
    public var trustedCAFile: String?
    /// Server only: refuse a client that presents no certificate (etcd's `--client-cert-auth`).
    public var requiresPeerCertificate: Bool
    /// The other side's certificate must carry exactly this common name (etcd's `--peer-cert-allowed-cn`).
    /// For a server it implies `requiresPeerCertificate`.
    public var allowedCommonName: String?
    /// Server: the ALPN protocols it serves (non-empty enables http/1.1-else-h2 selection, see shim.h).
    /// Client: the protocols to offer, in preference order.
    public var applicationProtocols: [String]
    /// The flag names, for messages.
    public var settingNames: SettingNames
    /// Refuse to start when our own certificate does not verify against `trustedCAFile`. True for members,
    /// which verify each other against one CA, so a member whose certificate that CA did not sign could never
    /// join; false for the client port, whose clients may trust another CA than the one that signs them.
    public var requiresOwnCertificateFromTrustedCA: Bool

    public init(role: Role, certificateFile: String? = nil, keyFile: String? = nil, trustedCAFile: String? = nil,
                requiresPeerCertificate: Bool = false, allowedCommonName: String? = nil,
                applicationProtocols: [String] = [], settingNames: SettingNames = .client,
                requiresOwnCertificateFromTrustedCA: Bool = false) {
        self.requiresOwnCertificateFromTrustedCA = requiresOwnCertificateFromTrustedCA
        self.role = role
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.trustedCAFile = trustedCAFile
        self.requiresPeerCertificate = requiresPeerCertificate || allowedCommonName != nil
        self.allowedCommonName = allowedCommonName
        self.applicationProtocols = applicationProtocols
        self.settingNames = settingNames
    }

    /// The files the context is built from; a change to any of them rebuilds it (`TLSCredentials`).
    public var files: [String] { [certificateFile, keyFile, trustedCAFile].compactMap { $0 } }

    /// Largest certificate chain accepted from the other side: a chain beyond it fails the handshake rather
    /// than making us buffer and parse it (OpenSSL's default is 100 KiB; real chains are a few KiB).
    public static let maximumPeerChainBytes = 32 * 1024
    /// Longest chain verified (leaf, intermediates, root).
    public static let maximumVerifyDepth: Int32 = 6
}
