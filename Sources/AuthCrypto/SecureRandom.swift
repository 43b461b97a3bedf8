import COpenSSL

/// Random bytes from OpenSSL's CSPRNG, for salts and token signing keys.
public enum SecureRandom {
    /// `count` random bytes.
    /// - Throws: `AuthCryptoError.randomUnavailable` when the generator is not seeded (never expected on Linux).
    public static func bytes(_ count: Int) throws(AuthCryptoError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let status = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        guard status == 1 else { throw .randomUnavailable }
        return bytes
    }
}

/// What the auth cryptography can fail with.
public enum AuthCryptoError: Error, Equatable, Sendable {
    /// OpenSSL's random generator refused (not seeded).
    case randomUnavailable
    /// OpenSSL refused a key derivation or MAC (a broken library; never expected).
    case libraryFailure(String)
}

/// Compares two byte strings in time that depends only on their lengths, so a MAC or password hash cannot be
/// guessed byte by byte from response times (OpenSSL's `CRYPTO_memcmp`).
public func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    guard lhs.count == rhs.count else { return false }
    if lhs.isEmpty { return true }
    return lhs.withUnsafeBytes { left in
        rhs.withUnsafeBytes { right in CRYPTO_memcmp(left.baseAddress, right.baseAddress, lhs.count) == 0 }
    }
}
