// Goal: show the TLS flags parse under etcd's names and that combinations that cannot work are refused with a
// message naming the missing flag. Method: `ServerConfiguration.parse` on argument lists; no files are read
// (whether the files fit together is `TLSContext`'s check, tested in TLSTests).
@testable import RosterServer
import Testing

@Suite("TLS configuration flags")
struct ConfigurationTLSTests {
    private func parse(_ arguments: [String]) throws(ConfigurationError) -> ServerConfiguration {
        try ServerConfiguration.parse(arguments: arguments, configFile: { _ in "" })
    }

    @Test("etcd's TLS flags set the client and peer TLS settings")
    func flagsParse() throws {
        let configuration = try parse([
            "--cert-file", "c.pem", "--key-file", "c.key", "--trusted-ca-file", "ca.pem", "--client-cert-auth",
            "--peer-cert-file", "p.pem", "--peer-key-file", "p.key", "--peer-trusted-ca-file", "pca.pem",
            "--peer-client-cert-auth", "--peer-cert-allowed-cn", "roster-member",
        ])
        var expected = ServerTLSSettings()
        expected.certificateFile = "c.pem"
        expected.keyFile = "c.key"
        expected.trustedCAFile = "ca.pem"
        expected.clientCertificateAuth = true
        expected.peerCertificateFile = "p.pem"
        expected.peerKeyFile = "p.key"
        expected.peerTrustedCAFile = "pca.pem"
        expected.peerClientCertificateAuth = true
        expected.peerAllowedCommonName = "roster-member"
        #expect(configuration.tls == expected)
    }

    @Test("TLS flag combinations that cannot work name the missing flag", arguments: [
        (["--cert-file", "c.pem"], "--cert-file and --key-file go together"),
        (["--cert-file", "c.pem", "--key-file", "c.key", "--client-cert-auth"], "--client-cert-auth needs --trusted-ca-file"),
        (["--trusted-ca-file", "ca.pem"], "need --cert-file and --key-file"),
        (["--peer-key-file", "p.key"], "--peer-cert-file and --peer-key-file go together"),
        (["--peer-cert-file", "p.pem", "--peer-key-file", "p.key"], "--peer-cert-file needs --peer-trusted-ca-file"),
        (["--peer-cert-allowed-cn", "x"], "need --peer-cert-file and --peer-key-file"),
        (["--client-cert-auth=maybe"], "--client-cert-auth"),
    ])
    func refused(arguments: [String], message: String) {
        #expect {
            try parse(arguments)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test("--help lists every TLS flag")
    func help() {
        for flag in ["--cert-file", "--key-file", "--trusted-ca-file", "--client-cert-auth", "--peer-cert-file",
                     "--peer-key-file", "--peer-trusted-ca-file", "--peer-client-cert-auth", "--peer-cert-allowed-cn"] {
            #expect(ServerConfiguration.helpText.contains(flag))
        }
    }
}
