import Posix
import TLS

/// TLS on the client port: the security of each accepted connection (HTTP/1.1, HTTP/2 and gRPC all run
/// above it unchanged: ALPN h2 is followed by the HTTP/2 preface that `ClientSession` already detects).
extension RosterServer {
    /// Security for an accepted client connection, nil for plaintext; a context error is logged and thrown.
    func clientSecurity(peer: SocketAddress) throws -> (any ConnectionSecurity)? {
        do {
            return try tls.clientSecurity()
        } catch {
            logger.error("cannot start TLS on an accepted client connection", ["peer": "\(peer)", "error": "\(error)"])
            throw error
        }
    }

    /// Logs a client connection TLS refused (bad handshake, unverified certificate, plain HTTP, timeout) at
    /// debug level: clients are many and untrusted, so a flood must not flood the log.
    func logClientRefusal(_ reason: Connection.CloseReason, peer: SocketAddress) {
        switch reason {
        case .securityFailure, .handshakeTimeout:
            logger.debug("client connection refused by TLS", ["peer": "\(peer)", "reason": "\(reason)"])
        default:
            break
        }
    }
}
