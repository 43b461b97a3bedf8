import Foundation
import Posix
import TLS

/// TLS for the test helpers: the files of a throwaway cluster PKI, and blocking exchanges over the same
/// `TLSEngine` the node uses. Tests only.
public struct TestTLS: Sendable {
    /// The CA bundle that signs every node and the client.
    public var caFile: String
    /// A client certificate and key signed by the CA (for `--client-cert-auth` nodes).
    public var clientCertificate: String
    public var clientKey: String
    /// Each node's certificate and key (CN `roster-member`, for 127.0.0.1), by node name.
    public var nodeFiles: [String: (certificate: String, key: String)]

    /// The etcd-style flags for `node`: HTTPS with client-cert-auth on the client port, mutual TLS with the
    /// allowed CN between members.
    public func flags(for node: String) -> [String] {
        guard let files = nodeFiles[node] else { return [] }
        return [
            "--cert-file", files.certificate, "--key-file", files.key, "--trusted-ca-file", caFile, "--client-cert-auth",
            "--peer-cert-file", files.certificate, "--peer-key-file", files.key, "--peer-trusted-ca-file", caFile,
            "--peer-client-cert-auth", "--peer-cert-allowed-cn", "roster-member",
        ]
    }

    /// A client context trusting the CA and presenting the client certificate.
    public func clientContext() throws -> TLSContext {
        try TLSContext(TLSConfiguration(role: .client, certificateFile: clientCertificate, keyFile: clientKey,
                                        trustedCAFile: caFile, applicationProtocols: ["http/1.1"], settingNames: .tool))
    }

    /// Sends `bytes` over TLS on the connected blocking `socket` (with a receive timeout set) and returns
    /// the decrypted reply until `isComplete` says it is whole or the node closes; nil when the handshake fails.
    static func exchange(_ socket: BlockingSocket, context: TLSContext, bytes: [UInt8],
                         isComplete: ([UInt8]) -> Bool) -> [UInt8]? {
        guard let engine = try? context.makeEngine(expectedHost: "127.0.0.1"), (try? engine.start()) != nil else { return nil }
        var reply: [UInt8] = []
        guard socket.send(engine.takeWireBytes()) else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var requestSent = false
        while true {
            if engine.isEstablished && !requestSent {
                guard (try? engine.send(bytes)) != nil, socket.send(engine.takeWireBytes()) else { return nil }
                requestSent = true
            }
            let count = socket.receive(into: &buffer)
            if count <= 0 { return requestSent ? reply : nil }
            let outcome = buffer.withUnsafeBytes { wire in
                try? engine.receive(UnsafeRawBufferPointer(rebasing: wire[0..<count]), into: &reply)
            }
            guard let outcome else { return requestSent ? reply : nil }
            _ = socket.send(engine.takeWireBytes())
            if outcome == .closedByPeer || (requestSent && isComplete(reply)) { return reply }
        }
    }
}

extension TestPKI {
    /// A CA, one certificate per node name and a client certificate, for a TLS `ProcessCluster`.
    public func makeClusterTLS(nodes: [String]) -> TestTLS {
        let authority = makeAuthority("Roster test cluster CA")
        let caFile = writeBundle([authority], as: "cluster-ca")
        let client = write(makeLeaf("roster-client", issuer: authority), as: "cluster-client")
        var nodeFiles: [String: (certificate: String, key: String)] = [:]
        for node in nodes { nodeFiles[node] = write(makeLeaf("roster-member", issuer: authority), as: "cluster-\(node)") }
        return TestTLS(caFile: caFile, clientCertificate: client.certificate, clientKey: client.key, nodeFiles: nodeFiles)
    }
}
