/// Why a TLS context could not be built, or a TLS connection failed. Each message names the file or flag
/// involved and what to do about it.
public enum TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A file could not be opened or parsed as PEM.
    case unreadableFile(setting: String, path: String, reason: String)
    /// The private key is not the key of the certificate.
    case keyDoesNotMatchCertificate(certificate: String, key: String)
    /// The certificate's validity ended (`notAfter`).
    case certificateExpired(setting: String, path: String, notAfter: String)
    /// The certificate is not valid yet (`notBefore`).
    case certificateNotYetValid(setting: String, path: String, notBefore: String)
    /// The certificate does not verify against the configured CA bundle.
    case certificateNotSignedByCA(setting: String, path: String, caSetting: String, caPath: String, reason: String)
    /// A setting combination that cannot work (a server without a certificate, a key without a certificate).
    case incompleteConfiguration(String)
    /// OpenSSL refused to set something up; `reason` is its error queue.
    case setupFailed(String)
    /// The handshake failed: bad bytes, a protocol version below TLS 1.2, no shared cipher, or a certificate
    /// that did not verify (`reason` says which).
    case handshakeFailed(reason: String)
    /// The other side's certificate verified but carries a common name we do not accept.
    case commonNameNotAllowed(presented: String?, allowed: String)
    /// The other side sent plain HTTP to a TLS port.
    case plaintextHTTP
    /// A record failed after the handshake (a bad MAC, a renegotiation attempt, a protocol violation).
    case protocolViolation(reason: String)

    public var description: String {
        switch self {
        case .unreadableFile(let setting, let path, let reason):
            "\(setting) \(path): cannot read it as PEM (\(reason)); check the path, its permissions and its format"
        case .keyDoesNotMatchCertificate(let certificate, let key):
            "the private key \(key) does not belong to the certificate \(certificate); give the key the certificate was issued for"
        case .certificateExpired(let setting, let path, let notAfter):
            "\(setting) \(path) expired on \(notAfter); issue a new certificate (it is re-read when the file changes)"
        case .certificateNotYetValid(let setting, let path, let notBefore):
            "\(setting) \(path) is not valid before \(notBefore); check this machine's clock or the certificate's dates"
        case .certificateNotSignedByCA(let setting, let path, let caSetting, let caPath, let reason):
            "\(setting) \(path) does not verify against \(caSetting) \(caPath) (\(reason)); the other members, which verify "
                + "it with that CA, would refuse it: issue it from that CA or give the CA that signed it"
        case .incompleteConfiguration(let reason):
            reason
        case .setupFailed(let reason):
            "OpenSSL setup failed: \(reason)"
        case .handshakeFailed(let reason):
            "TLS handshake failed: \(reason)"
        case .commonNameNotAllowed(let presented, let allowed):
            "certificate common name \(presented.map { "'\($0)'" } ?? "(none)") is not the allowed '\(allowed)'"
        case .plaintextHTTP:
            "plain HTTP sent to a TLS port; use https://"
        case .protocolViolation(let reason):
            "TLS error: \(reason)"
        }
    }
}
