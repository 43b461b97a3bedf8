/// Parsing and checking the TLS flags. Whether the files exist and fit together (key matches certificate,
/// dates, CA) is checked when the node builds its contexts (`ServerTLS`), because the files can change.
extension ServerConfiguration {
    /// Converts one TLS setting.
    mutating func applyTLS(_ setting: RawSetting) throws(ConfigurationError) {
        let value = setting.value
        switch setting.flag {
        case .clientCertAuth:
            tls.clientCertificateAuth = try Self.boolean(setting)
            return
        case .peerClientCertAuth:
            tls.peerClientCertificateAuth = try Self.boolean(setting)
            return
        default:
            break
        }
        guard !value.isEmpty else { throw .emptyValue(setting: setting.origin) }
        switch setting.flag {
        case .certFile: tls.certificateFile = value
        case .keyFile: tls.keyFile = value
        case .trustedCAFile: tls.trustedCAFile = value
        case .peerCertFile: tls.peerCertificateFile = value
        case .peerKeyFile: tls.peerKeyFile = value
        case .peerTrustedCAFile: tls.peerTrustedCAFile = value
        case .peerCertAllowedCN: tls.peerAllowedCommonName = value
        default: preconditionFailure("setting \(setting.flag) has no conversion")
        }
    }

    private static func boolean(_ setting: RawSetting) throws(ConfigurationError) -> Bool {
        switch setting.value.lowercased() {
        case "true", "yes", "1": true
        case "false", "no", "0": false
        default: throw .invalidBoolean(setting: setting.origin, value: setting.value)
        }
    }

    /// Refuses TLS flag combinations that cannot work, naming the missing flag.
    func validateTLS() throws(ConfigurationError) {
        let settings = tls
        if (settings.certificateFile == nil) != (settings.keyFile == nil) {
            throw .incompleteTLS("--cert-file and --key-file go together: give both to serve clients over TLS, or neither")
        }
        if settings.clientCertificateAuth && settings.trustedCAFile == nil {
            throw .incompleteTLS("--client-cert-auth needs --trusted-ca-file, the CA bundle that signs client certificates")
        }
        if !settings.isClientTLS && (settings.trustedCAFile != nil || settings.clientCertificateAuth) {
            throw .incompleteTLS("--trusted-ca-file and --client-cert-auth need --cert-file and --key-file (TLS on the client port)")
        }
        if (settings.peerCertificateFile == nil) != (settings.peerKeyFile == nil) {
            throw .incompleteTLS("--peer-cert-file and --peer-key-file go together: give both for TLS between members, or neither")
        }
        let peerOnly = settings.peerTrustedCAFile != nil || settings.peerClientCertificateAuth
            || settings.peerAllowedCommonName != nil
        if !settings.isPeerTLS && peerOnly {
            throw .incompleteTLS(
                "--peer-trusted-ca-file, --peer-client-cert-auth and --peer-cert-allowed-cn need --peer-cert-file and --peer-key-file")
        }
        if settings.isPeerTLS && settings.peerTrustedCAFile == nil {
            throw .incompleteTLS(
                "--peer-cert-file needs --peer-trusted-ca-file: members verify each other's certificates against it")
        }
    }
}
