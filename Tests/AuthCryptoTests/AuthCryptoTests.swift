// Goal: passwords are derived with PBKDF2 and checked in constant time, and tokens verify only when signed
// with the cluster's key, unexpired and at the current auth revision. Method: derive and verify with a tiny
// iteration count (the function, not the cost, is under test), then forge, alter, expire and re-key tokens.
import AuthCrypto
import Registry
import Testing

@Suite("Auth cryptography")
struct AuthCryptoTests {
    static let key: [UInt8] = Array(repeating: 0x42, count: 32)
    static let token = AuthToken(user: "alice", authRevision: 7, expiresAtSeconds: 1_000)

    @Test("PBKDF2-HMAC-SHA-256 matches RFC 7914's published vector")
    func knownVector() throws {
        // RFC 7914 section 11: PBKDF2-HMAC-SHA256 (P="passwd", S="salt", c=1, dkLen=64), first 32 bytes.
        let credential = PasswordCredential(
            iterations: 1, salt: Array("salt".utf8),
            hash: [
                0x55, 0xac, 0x04, 0x6e, 0x56, 0xe3, 0x08, 0x9f, 0xec, 0x16, 0x91, 0xc2, 0x25, 0x44, 0xb6, 0x05,
                0xf9, 0x41, 0x85, 0x21, 0x6d, 0xde, 0x04, 0x65, 0xe6, 0x8b, 0x9d, 0x57, 0xc2, 0x0d, 0xac, 0xbc,
            ])
        #expect(PasswordHasher.matches("passwd", credential))
        #expect(!PasswordHasher.matches("passwe", credential))
    }

    @Test("a derived credential checks its password and no other; salts differ")
    func deriveAndCheck() throws {
        let hasher = PasswordHasher(iterations: 1_000)
        let first = try hasher.credential(for: "s3cret")
        let second = try hasher.credential(for: "s3cret")
        #expect(PasswordHasher.matches("s3cret", first))
        #expect(!PasswordHasher.matches("s3cret ", first))
        #expect(!PasswordHasher.matches("", first))
        #expect(first.salt != second.salt)
        #expect(first.iterations == 1_000)
    }

    @Test("a signed token verifies with its key at its revision before expiry")
    func verifies() {
        let text = Self.token.signed(with: Self.key)
        #expect(AuthToken.verify(text, key: Self.key, authRevision: 7, nowSeconds: 999) == .success(Self.token))
    }

    @Test("an expired token is invalid")
    func expired() {
        let text = Self.token.signed(with: Self.key)
        #expect(AuthToken.verify(text, key: Self.key, authRevision: 7, nowSeconds: 1_000) == .failure(.invalidToken))
    }

    @Test("a token from before an auth change is refused as old")
    func oldRevision() {
        let text = Self.token.signed(with: Self.key)
        #expect(AuthToken.verify(text, key: Self.key, authRevision: 8, nowSeconds: 1) == .failure(.oldRevision(token: 7, current: 8)))
    }

    @Test("a token signed with another key is invalid")
    func otherKey() {
        let text = Self.token.signed(with: Array(repeating: 0x43, count: 32))
        #expect(AuthToken.verify(text, key: Self.key, authRevision: 7, nowSeconds: 1) == .failure(.invalidToken))
    }

    @Test("forged and garbled tokens are invalid", arguments: [
        "", "r1.", "r1..", "bearer", "r1.zz.zz", "r1.00.00", String(repeating: "a", count: 5_000),
    ])
    func garbage(text: String) {
        #expect(AuthToken.verify(text, key: Self.key, authRevision: 7, nowSeconds: 1) == .failure(.invalidToken))
    }

    @Test("changing the user or revision in a signed token breaks it")
    func tampered() {
        let genuine = Self.token.signed(with: Self.key)
        let forgedPayload = AuthToken(user: "root", authRevision: 7, expiresAtSeconds: 1_000).signed(with: [1])
        let parts = genuine.split(separator: ".")
        let forgedParts = forgedPayload.split(separator: ".")
        let spliced = "r1.\(forgedParts[1]).\(parts[2])"
        #expect(AuthToken.verify(spliced, key: Self.key, authRevision: 7, nowSeconds: 1) == .failure(.invalidToken))
    }

    @Test("constant-time comparison agrees with ==")
    func compare() {
        #expect(constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEqual([1, 2], [1, 2, 3]))
        #expect(constantTimeEqual([], []))
    }
}
