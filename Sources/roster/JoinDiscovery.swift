import Dispatch
import Foundation
import RosterClient
import RosterServer

/// `--join ADDR`: asks the member at ADDR (`GET /v1/cluster/members`) for the cluster ID and the members,
/// retrying for a while (the member may be restarting), before the server starts. Over HTTPS when the client
/// port has TLS: trusting `--trusted-ca-file` and presenting `--cert-file` (for `--client-cert-auth` members).
///
/// A member that joined before restarts from its own data, which records the cluster ID and, through its log,
/// every member: it asks ADDR only briefly, so a restart does not depend on the one member it first joined
/// through being up.
enum JoinDiscovery {
    static let patience = Duration.seconds(30)
    static let restartPatience = Duration.seconds(3)

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func learn(_ configuration: ServerConfiguration, logger: Logger) throws -> ServerConfiguration {
        guard let address = configuration.joinAddress else { return configuration }
        guard let endpoint = Endpoint(address) else { throw Failure(description: "--join \(address) is not host:port") }
        let restarting = configuration.assignedClusterID != nil && configuration.dataDirectoryHoldsMember
        let answer = fetchMembers(endpoint, tls: clientTLS(configuration), patience: restarting ? restartPatience : patience)
        let body: [UInt8]
        switch answer {
        case .success(let bytes): body = bytes
        case .failure(let error) where restarting:
            logger.warning(
                "--join member unreachable; restarting with the cluster and members recorded at the last join",
                ["join": address, "error": "\(error)"])
            return try configuration.joiningFromRecord()
        case .failure(let error):
            throw Failure(description: "--join \(address): could not learn the cluster from it: \(error); is it a running member?")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
            let idText = object["cluster_id"] as? String, let clusterID = UInt64(idText, radix: 16),
            let listed = object["members"] as? [[String: Any]]
        else { throw Failure(description: "--join \(address): the member list it answered has no cluster_id or members") }
        let members = listed.compactMap { member -> (name: String, peerAddress: String)? in
            guard let name = member["name"] as? String, let peer = member["peer_address"] as? String else { return nil }
            return (name, peer)
        }
        logger.info(
            "learned the cluster through --join", ["from": address, "cluster": idText,
                                                   "members": members.map { "\($0.name)=\($0.peerAddress)" }.joined(separator: ",")])
        return try configuration.joining(clusterID: clusterID, members: members)
    }

    /// The client port's TLS, reused to reach the member at ADDR; nil for a plaintext client port.
    private static func clientTLS(_ configuration: ServerConfiguration) -> ClientTLS? {
        let tls = configuration.tls
        guard tls.isClientTLS else { return nil }
        return ClientTLS(trustedCAFile: tls.trustedCAFile, certificateFile: tls.certificateFile, keyFile: tls.keyFile)
    }

    /// One blocking GET through the client library; the server is not running yet, so blocking here holds nothing up.
    private static func fetchMembers(_ endpoint: Endpoint, tls: ClientTLS?, patience: Duration) -> Result<[UInt8], RosterClientError> {
        let result = ResultBox()
        let done = DispatchSemaphore(value: 0)
        Task {
            var configuration = RosterClientConfiguration(endpoints: [endpoint])
            configuration.tls = tls
            configuration.callTimeout = patience
            let client = RosterClient(configuration: configuration)
            do {
                let response = try await client.send("GET", "/v1/cluster/members", idempotent: true, timeout: patience)
                result.set(.success(response.body))
            } catch let error as RosterClientError {
                result.set(.failure(error))
            } catch {
                result.set(.failure(RosterClientError(.unavailable, "\(error)")))
            }
            done.signal()
        }
        done.wait()
        return result.value
    }

    /// The answer handed from the task to the waiting main thread.
    private final class ResultBox: @unchecked Sendable {
        // Safety: written once by the task before it signals, read by the main thread only after the signal.
        private var stored: Result<[UInt8], RosterClientError> = .failure(RosterClientError(.unavailable, "no answer"))
        func set(_ value: Result<[UInt8], RosterClientError>) { stored = value }
        var value: Result<[UInt8], RosterClientError> { stored }
    }
}
