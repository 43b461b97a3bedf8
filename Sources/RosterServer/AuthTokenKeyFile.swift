import Posix
import PosixStorage

/// `--auth-token-key FILE`: the secret that signs and verifies auth tokens when an operator provides it, instead of
/// the random key the cluster replicates when auth is enabled. With one file on every member an operator can
/// rotate the key (replace the file on each member; tokens signed with the old key are refused as invalid, and
/// clients log in again) and keep it out of the data directory and backups.
///
/// The file's bytes are the key, trailing line breaks dropped (so `openssl rand -hex 32 > FILE` works). It must
/// hold at least 32 bytes and be readable by its owner only. It is looked at, at most once per second, when a
/// token is issued or checked, and re-read only when its signature changed; a re-read that fails keeps the key
/// in use and is logged, so a half-written file never locks everyone out. Owned by the loop thread.
final class AuthTokenKeyFile {
    /// Fewer bytes than an HMAC-SHA-256 block's worth of secret are refused.
    static let minimumBytes = 32
    /// More is certainly not a key.
    static let maximumBytes = 64 << 10

    enum Outcome: Equatable {
        case unchanged
        case reloaded
        case failed(AuthTokenKeyError)
    }

    let path: String
    private(set) var key: [UInt8]
    private var signature: FileSignature?
    private var lastCheck: ContinuousClock.Instant
    private var lastFailure: AuthTokenKeyError?

    /// Reads the key; its errors are start-up errors.
    init(path: String) throws(AuthTokenKeyError) {
        self.path = path
        signature = FileSignature(path: path)
        key = try Self.read(path, signature: signature)
        lastCheck = .now
    }

    /// Re-reads the file if it changed since the key was read (looking at most once per second).
    func refresh(now: ContinuousClock.Instant = .now) -> Outcome {
        guard now - lastCheck >= .seconds(1) else { return .unchanged }
        lastCheck = now
        let fresh = FileSignature(path: path)
        guard fresh != signature else { return .unchanged }
        do {
            let read = try Self.read(path, signature: fresh)
            signature = fresh
            lastFailure = nil
            if read == key { return .unchanged }
            key = read
            return .reloaded
        } catch {
            // Reported once per distinct failure; the key in use stays.
            defer { lastFailure = error }
            return lastFailure == error ? .unchanged : .failed(error)
        }
    }

    static func read(_ path: String, signature: FileSignature?) throws(AuthTokenKeyError) -> [UInt8] {
        guard let signature else { throw .unreadable(path: path, reason: "cannot stat it (missing, or no permission)") }
        guard signature.permissions & 0o077 == 0 else {
            throw .readableByOthers(path: path, permissions: signature.permissions)
        }
        var bytes: [UInt8]
        do {
            bytes = try PosixFileSystem().readFile(path, limit: maximumBytes)
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard bytes.count >= minimumBytes else { throw .tooShort(path: path, bytes: bytes.count) }
        return bytes
    }
}

/// Why the token key file cannot be used; each says what to do.
enum AuthTokenKeyError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case readableByOthers(path: String, permissions: UInt32)
    case tooShort(path: String, bytes: Int)

    var description: String {
        switch self {
        case .unreadable(let path, let reason):
            "--auth-token-key \(path): cannot read it: \(reason)"
        case .readableByOthers(let path, let permissions):
            "--auth-token-key \(path): readable by others (mode \(String(permissions, radix: 8))); "
                + "run `chmod 600 \(path)`: whoever reads it can forge any user's token"
        case .tooShort(let path, let bytes):
            "--auth-token-key \(path): \(bytes) bytes; a key needs at least \(AuthTokenKeyFile.minimumBytes) "
                + "(for example `openssl rand -hex 32 > \(path)`)"
        }
    }
}
