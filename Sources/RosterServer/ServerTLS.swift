import Posix
import TLS

/// A node's live TLS credentials: one `TLSCredentials` per role, each re-read when its files change on disk,
/// and the `ConnectionSecurity` for each new connection. Loop-thread owned.
public final class ServerTLS {
    let client: TLSCredentials?
    let peerServer: TLSCredentials?
    let peerClient: TLSCredentials?

    /// Builds every configured context; a missing or mismatched key, an expired certificate or one the CA
    /// does not sign is a start-up error.
    public init(_ settings: ServerTLSSettings, logger: Logger) throws(TLSError) {
        client = try settings.clientServer.map { (configuration) throws(TLSError) in try TLSCredentials(configuration) }
        peerServer = try settings.peerServer.map { (configuration) throws(TLSError) in try TLSCredentials(configuration) }
        peerClient = try settings.peerClient.map { (configuration) throws(TLSError) in try TLSCredentials(configuration) }
        for (credentials, port) in [(client, "client"), (peerServer, "peer listener"), (peerClient, "peer dialer")] {
            credentials?.onReload = { outcome in
                switch outcome {
                case .reloaded:
                    logger.info("TLS certificates reloaded", ["port": port, "files": credentials?.configuration.files.joined(separator: ",") ?? ""])
                case .failed(let error):
                    logger.warning("TLS certificates changed but cannot be used; still serving the previous ones", ["port": port, "error": error.description])
                }
            }
        }
    }

    /// Security for an accepted client connection, or nil for plaintext.
    func clientSecurity() throws(TLSError) -> (any ConnectionSecurity)? {
        guard let client else { return nil }
        return TLSConnectionSecurity(try client.current().makeEngine())
    }

    /// Security for an accepted peer connection, or nil for plaintext.
    func peerInboundSecurity() throws(TLSError) -> (any ConnectionSecurity)? {
        guard let peerServer else { return nil }
        return TLSConnectionSecurity(try peerServer.current().makeEngine())
    }

    /// Security for dialing the member at `address`, whose certificate must name that IP address.
    func peerOutboundSecurity(to address: SocketAddress) throws(TLSError) -> (any ConnectionSecurity)? {
        guard let peerClient else { return nil }
        return TLSConnectionSecurity(try peerClient.current().makeEngine(expectedHost: String(address.description.prefix(while: { $0 != ":" }))))
    }
}
