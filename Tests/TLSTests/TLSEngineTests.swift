// Goal: show the TLS engine does TLS correctly over memory buffers: a handshake completes and data flows both
// ways, ALPN picks what the client port promises, and every identity check refuses what it must (an unknown
// CA, a missing client certificate, a disallowed common name, an oversized chain, garbage, plain HTTP).
// Method: two engines wired to each other in memory (`Pair.pump` moves wire bytes until neither has any), with
// certificates made in-process by `TestPKI`; no sockets, no clocks.
import COpenSSL
import RosterTestSupport
import TLS
import Testing

/// A client engine and a server engine connected by memory.
struct Pair {
    let client: TLSEngine
    let server: TLSEngine
    var clientReceived: [UInt8] = []
    var serverReceived: [UInt8] = []

    init(client: TLSContext, server: TLSContext, expectedHost: String? = "127.0.0.1") throws {
        self.client = try client.makeEngine(expectedHost: expectedHost)
        self.server = try server.makeEngine()
        try self.client.start()
    }

    /// Moves wire bytes both ways until both sides are quiet; the first side to fail throws (its
    /// `TLSError`), tagged with which side it was.
    mutating func pump() throws(PumpFailure) {
        var sizes: [Int] = []
        try pump(sizes: &sizes)
    }

    mutating func pump(sizes: inout [Int]) throws(PumpFailure) {
        for _ in 0..<50 {
            let toServer = client.takeWireBytes()
            sizes.append(toServer.count)
            let toClient = server.takeWireBytes()
            if toServer.isEmpty && toClient.isEmpty { return }
            do {
                _ = try server.receive(toServer, into: &serverReceived)
            } catch {
                throw PumpFailure(side: "server", error: error)
            }
            do {
                _ = try client.receive(toClient, into: &clientReceived)
            } catch {
                throw PumpFailure(side: "client", error: error)
            }
        }
        Issue.record("pump did not settle in 50 rounds")
    }
}

extension TLSEngine {
    /// `receive` for an array (`Array.withUnsafeBytes` does not carry the typed error through).
    func receive(_ bytes: [UInt8], into plaintext: inout [UInt8]) throws(TLSError) -> ReceiveOutcome {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: bytes)
        return try receive(UnsafeRawBufferPointer(buffer), into: &plaintext)
    }
}

struct PumpFailure: Error {
    let side: String
    let error: TLSError
}

/// The standard test set-up: one CA, a server certificate, a client certificate.
struct Fixture {
    let pki: TestPKI
    let authority: TestPKI.Identity
    let caFile: String
    let server: (certificate: String, key: String)
    let client: (certificate: String, key: String)

    init(clientCommonName: String = "roster-peer") throws {
        pki = try TestPKI()
        authority = pki.makeAuthority("Roster test CA")
        caFile = pki.writeBundle([authority], as: "ca")
        server = pki.write(pki.makeLeaf("roster-node", issuer: authority), as: "server")
        client = pki.write(pki.makeLeaf(clientCommonName, issuer: authority), as: "client")
    }

    func serverContext(requiresClientCertificate: Bool = false, allowedCommonName: String? = nil,
                       alpn: [String] = ["http/1.1", "h2"]) throws -> TLSContext {
        try TLSContext(TLSConfiguration(
            role: .server, certificateFile: server.certificate, keyFile: server.key, trustedCAFile: caFile,
            requiresPeerCertificate: requiresClientCertificate, allowedCommonName: allowedCommonName,
            applicationProtocols: alpn))
    }

    func clientContext(withCertificate: Bool = false, trusting caFile: String? = nil, alpn: [String] = []) throws -> TLSContext {
        try TLSContext(TLSConfiguration(
            role: .client, certificateFile: withCertificate ? client.certificate : nil,
            keyFile: withCertificate ? client.key : nil, trustedCAFile: caFile ?? self.caFile, applicationProtocols: alpn))
    }
}

@Suite("TLS engine over memory buffers")
struct TLSEngineTests {
    @Test("handshake completes and data flows both ways")
    func handshakeAndData() throws {
        let fixture = try Fixture()
        var pair = try Pair(client: fixture.clientContext(), server: fixture.serverContext())
        try pair.client.send(Array("ping".utf8))  // before establishment: held, then sent
        try pair.pump()
        #expect(pair.client.isEstablished && pair.server.isEstablished)
        #expect(pair.serverReceived == Array("ping".utf8))
        try pair.server.send(Array("pong".utf8))
        try pair.pump()
        #expect(pair.clientReceived == Array("pong".utf8))
        #expect(["TLSv1.2", "TLSv1.3"].contains(pair.server.protocolVersion))
    }

    @Test("ALPN: h2 for a client offering only h2, http/1.1 for one offering both",
          arguments: [(["h2"], "h2"), (["h2", "http/1.1"], "http/1.1"), (["http/1.1"], "http/1.1")])
    func alpn(offered: [String], selected: String) throws {
        let fixture = try Fixture()
        var pair = try Pair(client: fixture.clientContext(alpn: offered), server: fixture.serverContext())
        try pair.pump()
        #expect(pair.server.applicationProtocol == selected)
        #expect(pair.client.applicationProtocol == selected)
    }

    @Test("a server certificate from another CA fails the client's verification")
    func wrongCA() throws {
        let fixture = try Fixture()
        let other = fixture.pki.writeBundle([fixture.pki.makeAuthority("Other CA")], as: "other-ca")
        var pair = try Pair(client: fixture.clientContext(trusting: other), server: fixture.serverContext())
        let failure = try #require(throws: PumpFailure.self) { try pair.pump() }
        #expect(failure.side == "client")
        #expect(failure.error.description.contains("certificate verify failed"))
        #expect(!pair.server.isEstablished)
    }

    @Test("a server certificate that does not name the dialed address fails verification")
    func wrongHost() throws {
        let fixture = try Fixture()
        var pair = try Pair(client: fixture.clientContext(), server: fixture.serverContext(), expectedHost: "10.1.2.3")
        let failure = try #require(throws: PumpFailure.self) { try pair.pump() }
        #expect(failure.side == "client")
    }

    @Test("mutual TLS: a client without a certificate is refused, one with a certificate is accepted")
    func mutualTLS() throws {
        let fixture = try Fixture()
        var anonymous = try Pair(client: fixture.clientContext(), server: fixture.serverContext(requiresClientCertificate: true))
        let failure = try #require(throws: PumpFailure.self) { try anonymous.pump() }
        #expect(failure.side == "server")
        #expect(anonymous.serverReceived.isEmpty)

        var identified = try Pair(client: fixture.clientContext(withCertificate: true),
                                  server: fixture.serverContext(requiresClientCertificate: true))
        try identified.pump()
        #expect(identified.server.isEstablished)
        #expect(identified.server.peerCommonName == "roster-peer")
    }

    @Test("a client certificate from another CA is refused before any plaintext passes")
    func clientFromOtherCA() throws {
        let fixture = try Fixture()
        let stranger = fixture.pki.makeAuthority("Stranger CA")
        let intruder = fixture.pki.write(fixture.pki.makeLeaf("roster-peer", issuer: stranger), as: "intruder")
        // The intruder trusts our CA (to verify the server) and its own (so its own start-up check passes).
        let strangerBundle = fixture.pki.writeBundle([fixture.authority, stranger], as: "ca-for-intruder")
        let client = try TLSContext(TLSConfiguration(
            role: .client, certificateFile: intruder.certificate, keyFile: intruder.key, trustedCAFile: strangerBundle))
        var pair = try Pair(client: client, server: fixture.serverContext(requiresClientCertificate: true))
        try pair.client.send(Array("raft message".utf8))
        let failure = try #require(throws: PumpFailure.self) { try pair.pump() }
        #expect(failure.side == "server")
        #expect(failure.error.description.contains("certificate verify failed"))
        #expect(pair.serverReceived.isEmpty)
    }

    @Test("--peer-cert-allowed-cn: a verified certificate with another common name is refused")
    func allowedCommonName() throws {
        let fixture = try Fixture(clientCommonName: "intruder")
        var pair = try Pair(client: fixture.clientContext(withCertificate: true),
                            server: fixture.serverContext(allowedCommonName: "roster-peer"))
        try pair.client.send(Array("raft message".utf8))
        let failure = try #require(throws: PumpFailure.self) { try pair.pump() }
        #expect(failure.side == "server")
        #expect(failure.error == .commonNameNotAllowed(presented: "intruder", allowed: "roster-peer"))
        #expect(!pair.server.isEstablished)
        #expect(pair.serverReceived.isEmpty)
    }

    @Test("a client chain beyond the 32 KiB bound is refused")
    func oversizedChain() throws {
        let fixture = try Fixture()
        let leaf = fixture.pki.makeLeaf("roster-peer", issuer: fixture.authority)
        // About 300 bytes each: 160 of them make a chain of about 48 KiB.
        let padding = (0..<160).map { fixture.pki.makeAuthority("Padding CA \($0)") }
        let bloated = fixture.pki.write(leaf, as: "bloated", chain: padding)
        let client = try TLSContext(TLSConfiguration(
            role: .client, certificateFile: bloated.certificate, keyFile: bloated.key, trustedCAFile: fixture.caFile))
        var pair = try Pair(client: client, server: fixture.serverContext(requiresClientCertificate: true))
        var sizes: [Int] = []
        let failure = try #require(throws: PumpFailure.self) { try pair.pump(sizes: &sizes) }
        #expect(failure.side == "server")
        #expect(sizes.reduce(0, +) > TLSConfiguration.maximumPeerChainBytes)
        #expect(pair.serverReceived.isEmpty)
    }

    @Test("garbage instead of a ClientHello fails the handshake with a typed error",
          arguments: [0, 1, 2, 3, 4])
    func garbage(seed: UInt64) throws {
        let fixture = try Fixture()
        let server = try fixture.serverContext().makeEngine()
        var generator = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
        let bytes = (0..<512).map { _ -> UInt8 in
            generator ^= generator << 13
            generator ^= generator >> 7
            generator ^= generator << 17
            return UInt8(truncatingIfNeeded: generator)
        }
        var plaintext: [UInt8] = []
        #expect(throws: TLSError.self) {
            _ = try server.receive(bytes, into: &plaintext)
        }
        #expect(plaintext.isEmpty)
    }

    @Test("plain HTTP to a TLS server is recognised as such")
    func plaintextHTTP() throws {
        let fixture = try Fixture()
        let server = try fixture.serverContext().makeEngine()
        var plaintext: [UInt8] = []
        let request = Array("GET /v1/services HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        #expect(throws: TLSError.plaintextHTTP) {
            _ = try server.receive(request, into: &plaintext)
        }
    }

    @Test("close_notify ends the session cleanly")
    func closeNotify() throws {
        let fixture = try Fixture()
        var pair = try Pair(client: fixture.clientContext(), server: fixture.serverContext())
        try pair.pump()
        pair.client.shutdown()
        let alert = pair.client.takeWireBytes()
        var plaintext: [UInt8] = []
        let outcome = try pair.server.receive(alert, into: &plaintext)
        #expect(outcome == .closedByPeer)
    }
}
