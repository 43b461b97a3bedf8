// Goal: show the client library speaks TLS to a node with mutual TLS (`--client-cert-auth`): with the CA and a
// client certificate it registers and reads; without a certificate, trusting another CA, or over plain HTTP it
// is refused with an error that says why, and the node stays up. Method: one real roster process started with
// certificates made in-process (`TestPKI`); the test waits on the client's own answers, never on time.
import Foundation
import RosterTestSupport
import Testing

@testable import RosterClient

extension ClientSuite {
    @Suite("client over TLS")
    struct ClientTLSTests {
        @Test("with the CA and a client certificate the client works; without them it is refused with the reason")
        func mutualTLS() async throws {
            let pki = try TestPKI()
            let authority = pki.makeAuthority("Roster test CA")
            let caFile = pki.writeBundle([authority], as: "ca")
            let node = pki.write(pki.makeLeaf("roster-node", issuer: authority), as: "node")
            let client = pki.write(pki.makeLeaf("roster-client", issuer: authority), as: "client")
            let otherCA = pki.writeBundle([pki.makeAuthority("Other CA")], as: "other-ca")
            let cluster = try ProcessCluster(size: 1, extraFlags: [
                "--cert-file", node.certificate, "--key-file", node.key, "--trusted-ca-file", caFile, "--client-cert-auth",
            ])
            try cluster.startAll()
            defer { cluster.stopAll() }
            let port = cluster.nodes[0].clientPort

            // Deadlines only bound a failure: generous for the good client (a loaded 2-core machine is slow),
            // short for the refused ones, which fail on their first attempt and then retry until the deadline.
            func makeClient(_ tls: ClientTLS?, callTimeout: Duration = .seconds(3)) -> RosterClient {
                var configuration = RosterClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: port)])
                configuration.tls = tls
                configuration.attemptTimeout = min(.seconds(5), callTimeout)
                configuration.callTimeout = callTimeout
                return RosterClient(configuration: configuration)
            }
            let good = makeClient(
                ClientTLS(trustedCAFile: caFile, certificateFile: client.certificate, keyFile: client.key),
                callTimeout: .seconds(30))
            try await Support.waitUntil("the TLS node elects itself") {
                (try? await good.status().role) == "leader"
            }
            try await good.register(ServiceInstance(service: "payments", id: "i1", endpoints: ["grpc://10.0.0.1:1"]))
            let listed = try await good.instances(of: "payments")
            #expect(listed.instances.map(\.id) == ["i1"])

            // One exchange each, without the client's retries, so the refusal itself is what is checked.
            let refusals: [(ClientTLS?, String)] = [
                (ClientTLS(trustedCAFile: caFile), "certificate required"),  // no client certificate (TLS 1.3 alert)
                (ClientTLS(trustedCAFile: otherCA, certificateFile: client.certificate, keyFile: client.key),
                 "certificate verify failed"),
                (nil, "requires TLS"),  // plain HTTP to the TLS port
            ]
            for (tls, reason) in refusals {
                var endpoint = Endpoint(host: "127.0.0.1", port: port)
                endpoint.tls = tls
                do {
                    let response = try BlockingHTTP.exchange(
                        endpoint, method: "GET", path: "/v1/cluster/status", body: nil, deadline: .now + .seconds(20),
                        cancel: CancelFlag(), pool: ConnectionPool())
                    #expect(response.status == 400 && response.text.contains(reason), "\(response.status) \(response.text)")
                } catch {
                    #expect("\(error)".contains(reason), "\(error)")
                }
            }
            #expect((try await good.status().role) == "leader", "the node is still up and serving")
        }

        @Test("https:// endpoints turn TLS on", arguments: ["https://127.0.0.1:2379", "https://node.example:443/"])
        func httpsEndpoint(text: String) throws {
            let endpoint = try #require(Endpoint(text))
            #expect(endpoint.tls == ClientTLS())
        }
    }
}
