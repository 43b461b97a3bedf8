// Goal: show mutual TLS between members: members with certificates from the cluster CA exchange Raft messages;
// a member with a certificate from another CA, with a disallowed common name, or speaking plaintext, is refused
// during the handshake — before any of its frames is read — while the others keep exchanging.
// Method: real `PeerTransport`s on loopback (TransportTestSupport) with `ServerTLS` built from certificates made
// in-process (`TestPKI`); refusals are observed in the receiving member's log and in what it delivered, awaited
// by polling against a deadline.
import Posix
import Raft
import RosterNode
@testable import RosterServer
import RosterTestSupport
import Testing

private let clusterID: UInt64 = 0x7_15

/// A CA, a stranger CA, and certificates for members, written to a temp dir.
private final class MemberPKI {
    let pki: TestPKI
    let caFile: String
    let strangerCAFile: String
    private let authority: TestPKI.Identity
    private let stranger: TestPKI.Identity

    init() throws {
        pki = try TestPKI()
        authority = pki.makeAuthority("Roster cluster CA")
        stranger = pki.makeAuthority("Stranger CA")
        caFile = pki.writeBundle([authority], as: "ca")
        strangerCAFile = pki.writeBundle([stranger], as: "stranger-ca")
    }

    /// Peer TLS settings for `name` with a certificate of `commonName` from the cluster CA (or the stranger's,
    /// trusting only the stranger, so that member's own start-up checks pass).
    func settings(_ name: String, commonName: String = "roster-member", fromStranger: Bool = false) -> ServerTLSSettings {
        let files = pki.write(pki.makeLeaf(commonName, issuer: fromStranger ? stranger : authority), as: name)
        var settings = ServerTLSSettings()
        settings.peerCertificateFile = files.certificate
        settings.peerKeyFile = files.key
        settings.peerTrustedCAFile = fromStranger ? strangerCAFile : caFile
        settings.peerClientCertificateAuth = true
        settings.peerAllowedCommonName = "roster-member"
        return settings
    }
}

@Suite("Peer transport over mutual TLS")
struct PeerTransportTLSTests {
    @Test("members with certificates from the cluster CA exchange raft messages")
    func goodMembersExchange() throws {
        let pki = try MemberPKI()
        let threads = try (0..<2).map { _ in try EventLoopThread() }
        defer { threads.forEach { $0.shutdown() } }
        let peers = ["n1", "n2"].enumerated().map { TestPeer($1, handle: threads[$0].handle, tls: pki.settings($1)) }
        try connectAll(peers, clusterID: clusterID)
        try peers[0].send(peers[0].heartbeat(to: peers[1], round: 3))
        try peers[1].send(peers[1].heartbeat(to: peers[0], round: 4))
        #expect(eventually { peers[0].messages.value.count == 1 && peers[1].messages.value.count == 1 })
    }

    @Test("a member that cannot prove itself is refused before any frame is read; the others carry on",
          arguments: ["stranger CA", "wrong common name", "plaintext"])
    func intruderRefused(kind: String) throws {
        let pki = try MemberPKI()
        let threads = try (0..<3).map { _ in try EventLoopThread() }
        defer { threads.forEach { $0.shutdown() } }
        let intruderTLS: ServerTLSSettings? = switch kind {
        case "stranger CA": pki.settings("n3", fromStranger: true)
        case "wrong common name": pki.settings("n3", commonName: "intruder")
        default: nil
        }
        let n1 = TestPeer("n1", handle: threads[0].handle, tls: pki.settings("n1"))
        let n2 = TestPeer("n2", handle: threads[1].handle, tls: pki.settings("n2"))
        let n3 = TestPeer("n3", handle: threads[2].handle, tls: intruderTLS)
        let peers = [n1, n2, n3]
        for peer in peers { try peer.start(clusterID: clusterID) }
        let members = peers.map(\.member)
        for peer in peers { try peer.update(members: members) }
        #expect(eventually { n1.isConnected(to: n2) && n2.isConnected(to: n1) })

        // n3 keeps dialing n1 and is refused each time, before its hello or any Raft message is read.
        #expect(eventually {
            n1.logLines.value.contains { $0.contains("peer connection refused before any message was read") }
        })
        try? n3.send(n3.heartbeat(to: n1, round: 9))
        try n2.send(n2.heartbeat(to: n1, round: 10))
        #expect(eventually { n1.messages.value.contains { $0.from == n2.id } })
        #expect(!n1.messages.value.contains { $0.from == n3.id })
        #expect(!n1.ups.value.contains(n3.id), "n1 never considers n3 connected")
        if kind == "wrong common name" {
            #expect(n1.logLines.value.contains { $0.contains("is not the allowed 'roster-member'") })
        }
    }
}
