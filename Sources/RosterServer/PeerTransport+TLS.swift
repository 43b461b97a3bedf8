import Posix
import RosterNode
import TLS

/// TLS between members: the security of each new peer connection, and the refusals worth a log line.
extension PeerTransport {
    /// Security for an accepted peer connection; a context error is logged and thrown (the socket is closed).
    func inboundSecurity(remote: SocketAddress) throws -> (any ConnectionSecurity)? {
        do {
            return try tls?.peerInboundSecurity()
        } catch {
            logger.error("cannot start TLS on an accepted peer connection", ["remote": remote, "error": error])
            throw error
        }
    }

    /// Security for dialing `member` at `address`: its certificate must verify and name that IP address.
    func outboundSecurity(to address: SocketAddress, member: Member) throws -> (any ConnectionSecurity)? {
        do {
            return try tls?.peerOutboundSecurity(to: address)
        } catch {
            logger.error("cannot start TLS to a peer", ["peer": member.name, "error": error])
            throw error
        }
    }

    /// An inbound connection refused by TLS (bad certificate, wrong CN, plaintext, garbage) or by the
    /// handshake timeout: the Raft layer never saw it, so this line is the operator's only trace of it.
    func logRefusal(_ reason: Connection.CloseReason, remote: SocketAddress?) {
        switch reason {
        case .securityFailure, .handshakeTimeout:
            countRejectedConnection()
            logger.warning("peer connection refused before any message was read", [
                "remote": remote.map { "\($0)" } ?? "-", "reason": reason,
            ])
        default:
            break
        }
    }
}

extension PeerTransportOptions {
    /// Accepted connections never write frames, but under TLS they send the handshake (certificates, session
    /// tickets), so their bound is raised to fit it.
    func inboundConnectionLimits(secured: Bool) -> ConnectionLimits {
        guard secured else { return inboundConnectionLimits }
        var limits = ConnectionLimits(readChunkBytes: readChunkBytes, outboundHighWaterBytes: 64 << 10,
                                      outboundLowWaterBytes: 16 << 10, outboundMaxBytes: 128 << 10)
        limits.handshakeTimeout = handshakeTimeout
        return limits
    }
}
