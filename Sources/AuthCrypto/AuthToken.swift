import COpenSSL
import Codec
import Registry

/// A signed bearer token: who, at which auth revision, until when.
///
/// Text form `r1.<payload hex>.<HMAC-SHA-256 hex>`; the payload is the user name (length-prefixed UTF-8), the
/// auth revision and the expiry in Unix seconds (varints). Every member verifies it with the signing key that
/// the `enable` command replicated, so a token from one member works on all; it is refused once expired, once
/// any auth change bumped the revision past it, or when its MAC does not verify.
public struct AuthToken: Hashable, Sendable {
    public var user: String
    public var authRevision: UInt64
    public var expiresAtSeconds: UInt64

    public init(user: String, authRevision: UInt64, expiresAtSeconds: UInt64) {
        self.user = user
        self.authRevision = authRevision
        self.expiresAtSeconds = expiresAtSeconds
    }

    static let prefix = "r1."
    /// Longest token text accepted, checked before any work.
    public static let maxTextBytes = 2_048

    /// The signed text of this token under `key`.
    public func signed(with key: [UInt8]) -> String {
        var writer = ByteWriter(reservingCapacity: 32 + user.utf8.count)
        writer.writeString(user)
        writer.writeVarint(authRevision)
        writer.writeVarint(expiresAtSeconds)
        let payload = writer.bytes
        return Self.prefix + Hex.encode(payload) + "." + Hex.encode(Self.mac(payload, key: key))
    }

    /// Verifies `text` under `key` and checks it against the auth revision and the wall clock.
    /// - Returns: the token, or why it is refused: `.invalidToken` (malformed, forged, other key, expired) or
    ///   `.oldRevision` (issued before the latest auth change).
    public static func verify(_ text: String, key: [UInt8], authRevision: UInt64, nowSeconds: UInt64)
        -> Result<AuthToken, AuthRejection>
    {
        guard !key.isEmpty, text.utf8.count <= maxTextBytes, text.hasPrefix(prefix) else { return .failure(.invalidToken) }
        let parts = text.dropFirst(prefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let payload = Hex.decode(parts[0]), let mac = Hex.decode(parts[1]),
            constantTimeEqual(Self.mac(payload, key: key), mac)
        else { return .failure(.invalidToken) }
        var reader = ByteReader(payload)
        let token: AuthToken
        do throws(CodecError) {
            let user = try reader.readString("user", limit: AuthState.nameBytes)
            token = AuthToken(
                user: user, authRevision: try reader.readVarint("auth revision"),
                expiresAtSeconds: try reader.readVarint("expiry"))
            try reader.expectEnd()
        } catch {
            return .failure(.invalidToken)
        }
        guard token.expiresAtSeconds > nowSeconds else { return .failure(.invalidToken) }
        guard token.authRevision == authRevision else {
            return .failure(.oldRevision(token: token.authRevision, current: authRevision))
        }
        return .success(token)
    }

    static func mac(_ payload: [UInt8], key: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBufferPointer { keyBytes in
            payload.withUnsafeBufferPointer { data in
                output.withUnsafeMutableBufferPointer { out in
                    HMAC(EVP_sha256(), keyBytes.baseAddress, Int32(key.count), data.baseAddress, data.count, out.baseAddress, &length)
                }
            }
        }
        precondition(result != nil && length == 32, "HMAC-SHA-256 failed in libcrypto")
        return Array(output[0..<Int(length)])
    }
}

/// Lower-case hexadecimal, the token's text encoding (safe in HTTP headers and gRPC metadata as is).
enum Hex {
    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    static func decode(_ text: Substring) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var position = 0
        while position < utf8.count {
            guard let high = value(utf8[position]), let low = value(utf8[position + 1]) else { return nil }
            bytes.append(high << 4 | low)
            position += 2
        }
        return bytes
    }

    private static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
