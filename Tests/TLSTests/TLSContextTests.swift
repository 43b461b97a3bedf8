// Goal: show each start-up mistake an operator can make with certificate files is refused by `TLSContext`
// with a typed error naming the flag and the file: a missing file, a key of another certificate, an expired or
// not-yet-valid certificate, a certificate the configured CA did not sign, a certificate without its key.
// And show that `TLSCredentials` picks up replaced files (rotation) and keeps serving the old context while the
// new files do not fit together. Method: certificates made in-process by `TestPKI`, written to a temp dir.
import Glibc
import RosterTestSupport
import TLS
import Testing

@Suite("TLS context start-up checks and certificate reload")
struct TLSContextTests {
    @Test("a missing certificate file names the flag and the path")
    func missingFile() throws {
        let fixture = try Fixture()
        let error = #expect(throws: TLSError.self) {
            try TLSContext(TLSConfiguration(role: .server, certificateFile: fixture.pki.path("nope.pem"),
                                            keyFile: fixture.server.key, settingNames: .peer))
        }
        guard case .unreadableFile(let setting, let path, _) = error else {
            Issue.record("expected unreadableFile, got \(String(describing: error))")
            return
        }
        #expect(setting == "--peer-cert-file")
        #expect(path.hasSuffix("nope.pem"))
    }

    @Test("a key that belongs to another certificate is refused")
    func mismatchedKey() throws {
        let fixture = try Fixture()
        #expect(throws: TLSError.keyDoesNotMatchCertificate(certificate: fixture.server.certificate, key: fixture.client.key)) {
            try TLSContext(TLSConfiguration(role: .server, certificateFile: fixture.server.certificate,
                                            keyFile: fixture.client.key))
        }
    }

    @Test("an expired certificate is refused with its end date")
    func expired() throws {
        let fixture = try Fixture()
        let old = fixture.pki.write(fixture.pki.makeLeaf("old", issuer: fixture.authority, validFrom: -7200, validUntil: -3600),
                                    as: "expired")
        let error = #expect(throws: TLSError.self) {
            try TLSContext(TLSConfiguration(role: .server, certificateFile: old.certificate, keyFile: old.key))
        }
        guard case .certificateExpired(let setting, _, let notAfter) = error else {
            Issue.record("expected certificateExpired, got \(String(describing: error))")
            return
        }
        #expect(setting == "--cert-file")
        #expect(notAfter.contains("GMT"))
    }

    @Test("a certificate that is not valid yet is refused")
    func notYetValid() throws {
        let fixture = try Fixture()
        let future = fixture.pki.write(fixture.pki.makeLeaf("future", issuer: fixture.authority, validFrom: 3600, validUntil: 7200),
                                       as: "future")
        #expect {
            try TLSContext(TLSConfiguration(role: .server, certificateFile: future.certificate, keyFile: future.key))
        } throws: { error in
            if case .certificateNotYetValid = error as? TLSError { true } else { false }
        }
    }

    @Test("a certificate the trusted CA did not sign is refused at start-up")
    func notSignedByCA() throws {
        let fixture = try Fixture()
        let other = fixture.pki.writeBundle([fixture.pki.makeAuthority("Other CA")], as: "other")
        #expect {
            try TLSContext(TLSConfiguration(role: .server, certificateFile: fixture.server.certificate,
                                            keyFile: fixture.server.key, trustedCAFile: other, settingNames: .peer,
                                            requiresOwnCertificateFromTrustedCA: true))
        } throws: { error in
            guard case .certificateNotSignedByCA(let setting, _, let caSetting, _, _) = error as? TLSError else { return false }
            return setting == "--peer-cert-file" && caSetting == "--peer-trusted-ca-file"
        }
    }

    @Test("a server without a certificate, and a certificate without a key, are refused")
    func incomplete() throws {
        let fixture = try Fixture()
        #expect(throws: TLSError.self) { try TLSContext(TLSConfiguration(role: .server)) }
        #expect(throws: TLSError.self) {
            try TLSContext(TLSConfiguration(role: .client, certificateFile: fixture.client.certificate))
        }
    }

    @Test("rotation: replaced files build a new context; a mismatched pair keeps the old one until fixed")
    func rotation() throws {
        let fixture = try Fixture()
        let configuration = TLSConfiguration(role: .server, certificateFile: fixture.server.certificate,
                                             keyFile: fixture.server.key, trustedCAFile: fixture.caFile)
        let credentials = try TLSCredentials(configuration, checkInterval: .zero)
        var outcomes: [String] = []
        credentials.onReload = { outcome in
            switch outcome {
            case .reloaded: outcomes.append("reloaded")
            case .failed(let error): outcomes.append("failed: \(error)")
            }
        }
        let first = credentials.current()
        #expect(credentials.current() === first, "unchanged files keep the context")

        // Step 1: only the certificate is replaced; its key is not there yet.
        let next = fixture.pki.makeLeaf("roster-node", issuer: fixture.authority)
        let staged = fixture.pki.write(next, as: "staged")
        try replace(fixture.server.certificate, with: staged.certificate)
        #expect(credentials.current() === first)
        #expect(outcomes.count == 1 && outcomes[0].hasPrefix("failed"))

        // Step 2: the key follows; the next connection gets the new certificate.
        try replace(fixture.server.key, with: staged.key)
        let second = credentials.current()
        #expect(second !== first)
        #expect(outcomes.last == "reloaded")

        var pair = try Pair(client: fixture.clientContext(), server: second)
        try pair.pump()
        #expect(pair.client.isEstablished)
    }

    private func replace(_ target: String, with source: String) throws {
        #expect(rename(source, target) == 0)
    }
}
