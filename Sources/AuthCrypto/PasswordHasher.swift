import COpenSSL
import Registry

/// PBKDF2-HMAC-SHA-256 password derivation and checking (RFC 8018).
///
/// Deliberately slow: callers MUST run it off the event loop thread (`PasswordWorker` in the server), since
/// one derivation at the default cost takes tens of milliseconds.
public struct PasswordHasher: Sendable {
    /// About 70 ms of one core per check here (measured on the 2-core build machine, 2026-12-04), the cost of
    /// etcd's bcrypt at cost 10. Higher (OWASP suggests 600,000) makes etcdctl time out: clientv3 logs in to each
    /// endpoint in turn within its 2 s dial timeout, so a wrong password costs one check per endpoint. Raise it
    /// with `--auth-password-iterations` where clients allow; each credential keeps the count it was made with.
    public static let defaultIterations: UInt32 = 100_000
    public static let saltBytes = 16
    public static let hashBytes = 32

    public var iterations: UInt32

    public init(iterations: UInt32 = defaultIterations) {
        precondition(iterations >= 1, "PBKDF2 needs at least one iteration")
        self.iterations = iterations
    }

    /// A new credential for `password` with a fresh random salt.
    public func credential(for password: String) throws(AuthCryptoError) -> PasswordCredential {
        let salt = try SecureRandom.bytes(Self.saltBytes)
        let hash = try Self.derive(password, salt: salt, iterations: iterations, length: Self.hashBytes)
        return PasswordCredential(function: .pbkdf2SHA256, iterations: iterations, salt: salt, hash: hash)
    }

    /// Whether `password` matches `credential`, with the credential's own parameters (so raising the default
    /// cost does not lock out existing users); compared in constant time.
    public static func matches(_ password: String, _ credential: PasswordCredential) -> Bool {
        guard credential.function == .pbkdf2SHA256, !credential.hash.isEmpty else { return false }
        do {
            let derived = try derive(password, salt: credential.salt, iterations: credential.iterations, length: credential.hash.count)
            return constantTimeEqual(derived, credential.hash)
        } catch {
            // OpenSSL refused to derive: no password can be shown to match.
            return false
        }
    }

    static func derive(_ password: String, salt: [UInt8], iterations: UInt32, length: Int) throws(AuthCryptoError) -> [UInt8] {
        let secret = Array(password.utf8)
        var output = [UInt8](repeating: 0, count: length)
        let status = secret.withUnsafeBufferPointer { passwordBytes in
            salt.withUnsafeBufferPointer { saltBytes in
                output.withUnsafeMutableBufferPointer { out in
                    passwordBytes.withMemoryRebound(to: CChar.self) { passwordChars in
                        PKCS5_PBKDF2_HMAC(
                            passwordChars.baseAddress, Int32(secret.count), saltBytes.baseAddress, Int32(salt.count),
                            Int32(clamping: iterations), EVP_sha256(), Int32(length), out.baseAddress)
                    }
                }
            }
        }
        guard status == 1 else { throw .libraryFailure("PKCS5_PBKDF2_HMAC failed") }
        return output
    }
}
