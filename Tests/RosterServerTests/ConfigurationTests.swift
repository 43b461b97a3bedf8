// Goal: show that `roster`'s settings parse from flags and files with the documented precedence and defaults,
// and that every bad setting from reliability.md §9 "Config" is refused with a typed error that says how to
// fix it. Method: call the pure `ServerConfiguration.parse` with argument arrays and an injected file reader
// (a dictionary), and compare the result or the thrown `ConfigurationError` with the expected value.
import Glibc
import Posix
import Raft
import RosterNode
@testable import RosterServer
import Testing

private struct MissingFile: Error {}

private func parse(_ arguments: [String], files: [String: String] = [:]) throws(ConfigurationError)
    -> ServerConfiguration {
    try ServerConfiguration.parse(arguments: arguments) { path in
        guard let text = files[path] else { throw MissingFile() }
        return text
    }
}

private func parseError(_ arguments: [String], files: [String: String] = [:]) -> ConfigurationError? {
    do {
        _ = try parse(arguments, files: files)
        return nil
    } catch {
        return error
    }
}

private let threeNodes = "n1=127.0.0.1:2380,n2=127.0.0.1:2382,n3=127.0.0.1:2384"

@Suite("Server configuration")
struct ConfigurationTests {
    @Test("no arguments give a single-node cluster named default")
    func defaults() throws {
        let configuration = try parse([])
        #expect(configuration.name == "default")
        #expect(configuration.dataDirectory == "./roster-data")
        #expect(configuration.clientAddress == SocketAddress("127.0.0.1:2379"))
        #expect(configuration.peerAddress == SocketAddress("127.0.0.1:2380"))
        #expect(configuration.members.map(\.name) == ["default"])
        #expect(configuration.members.first?.peerAddress == "127.0.0.1:2380")
        #expect(configuration.heartbeatTicks == 1)
        #expect(configuration.electionTimeoutTicks == 10)
        #expect(configuration.tick == .milliseconds(100))
        #expect(configuration.logLevel == .info)
        #expect(!configuration.join)
    }

    @Test("every flag is read, in both the spaced and the equals form")
    func allFlags() throws {
        let configuration = try parse([
            "--name", "n2", "--data-dir=/tmp/n2", "--client-addr", "127.0.0.1:2381", "--peer-addr", "127.0.0.1:2382",
            "--initial-cluster", threeNodes, "--heartbeat-ms", "50", "--election-ms=600", "--snapshot-entries", "7",
            "--max-request-bytes", "4096", "--max-connections", "9", "--request-timeout-ms", "1234",
            "--log-level", "debug", "--history-revisions", "11", "--history-events=12", "--history-bytes", "13",
        ])
        #expect(configuration.name == "n2")
        #expect(configuration.dataDirectory == "/tmp/n2")
        #expect(configuration.clientAddress == SocketAddress("127.0.0.1:2381"))
        #expect(configuration.initialCluster.map(\.description) == threeNodes.split(separator: ",").map(String.init))
        #expect(configuration.electionTimeoutTicks == 12)
        #expect(configuration.snapshotEntries == 7)
        #expect(configuration.historyRevisions == 11)
        #expect(configuration.historyEvents == 12)
        #expect(configuration.historyBytes == 13)
        #expect(configuration.maxRequestBytes == 4096)
        #expect(configuration.maxConnections == 9)
        #expect(configuration.requestTimeoutMilliseconds == 1234)
        #expect(configuration.logLevel == .debug)
        #expect(configuration.ownID == Member.id(forName: "n2"))
        #expect(configuration.raftOptions.electionTimeoutTicks == 12)
    }

    @Test("members and cluster ID derive from the initial cluster and agree across members")
    func derivedMembers() throws {
        let first = try parse(["--name", "n1", "--initial-cluster", threeNodes])
        let second = try parse(["--name", "n2", "--peer-addr", "127.0.0.1:2382", "--client-addr", "127.0.0.1:2381",
                                "--initial-cluster", threeNodes])
        #expect(first.clusterID == second.clusterID)
        #expect(first.members.map(\.id) == ["n1", "n2", "n3"].map(Member.id(forName:)))
        #expect(first.members.first?.clientAddress == "127.0.0.1:2379")
        #expect(first.members.last?.clientAddress == nil)
        let other = try parse(["--name", "n1", "--initial-cluster", "n1=127.0.0.1:2380,n2=127.0.0.1:2382"])
        #expect(other.clusterID != first.clusterID)
    }

    @Test("a joining member computes the founders' cluster ID and lists itself")
    func joining() throws {
        let founder = try parse(["--name", "n1", "--initial-cluster", threeNodes])
        let joiner = try parse(["--name", "n4", "--peer-addr", "127.0.0.1:2386", "--client-addr", "127.0.0.1:2385",
                                "--initial-cluster", threeNodes, "--join"])
        let listed = try parse(["--name", "n4", "--peer-addr", "127.0.0.1:2386", "--client-addr", "127.0.0.1:2385",
                                "--initial-cluster", threeNodes + ",n4=127.0.0.1:2386", "--join=true"])
        #expect(joiner.join)
        #expect(joiner.clusterID == founder.clusterID)
        #expect(listed.clusterID == founder.clusterID)
        #expect(joiner.members.map(\.name) == ["n1", "n2", "n3", "n4"])
    }

    @Test("the config file supplies settings and command-line flags override it")
    func configFile() throws {
        let file = """
        # member one
        name = n1
        initial-cluster = \(threeNodes)
        heartbeat-ms = 20   # fast
        election-ms=400

        log-level = warning
        """
        let configuration = try parse(["--config", "n1.conf", "--heartbeat-ms", "40"], files: ["n1.conf": file])
        #expect(configuration.name == "n1")
        #expect(configuration.heartbeatMilliseconds == 40)
        #expect(configuration.electionMilliseconds == 400)
        #expect(configuration.logLevel == .warning)
        #expect(configuration.members.count == 3)
    }

    @Test("the shipped cluster configs parse and agree on one cluster ID", arguments: [3, 5])
    func shippedConfigs(size: Int) throws {
        var clusterIDs = Set<UInt64>()
        for node in 1...size {
            let path = "cluster/local-\(size)/n\(node).conf"
            let configuration = try ServerConfiguration.parse(arguments: ["--config", path, "--data-dir", "/tmp/x"]) {
                try readRepositoryFile($0)
            }
            #expect(configuration.name == "n\(node)")
            #expect(configuration.clientAddress.port == UInt16(2377 + 2 * node))
            #expect(configuration.peerAddress.port == UInt16(2378 + 2 * node))
            #expect(configuration.members.count == size)
            clusterIDs.insert(configuration.clusterID)
        }
        #expect(clusterIDs.count == 1)
    }

    @Test("--help and -h ask for the help text, which lists every flag with its default")
    func help() {
        #expect(parseError(["--name", "n1", "--help"]) == .helpRequested)
        #expect(parseError(["-h"]) == .helpRequested)
        let text = ServerConfiguration.helpText
        for flag in ConfigurationFlag.allCases {
            #expect(text.contains(flag.flag), "help lacks \(flag.flag)")
        }
        #expect(text.contains("(default 127.0.0.1:2379)"))
        #expect(text.contains("(default 1572864)"))
    }

    @Test("bad settings are refused with a typed error", arguments: [
        (["--heartbeat-ms", "1000", "--election-ms", "1000"],
         ConfigurationError.heartbeatNotBelowElection(heartbeatMilliseconds: 1000, electionMilliseconds: 1000)),
        (["--heartbeat-ms", "600"], .heartbeatNotBelowElection(heartbeatMilliseconds: 600, electionMilliseconds: 1000)),
        (["--heartbeat-ms", "0"], .outOfRange(setting: "--heartbeat-ms", value: 0, range: 1...60_000)),
        (["--election-ms", "-5"], .outOfRange(setting: "--election-ms", value: -5, range: 1...600_000)),
        (["--max-connections", "lots"], .notANumber(setting: "--max-connections", value: "lots")),
        (["--snapshot-entries", "1e4"], .notANumber(setting: "--snapshot-entries", value: "1e4")),
        (["--heartbeat-ms"], .missingValue(setting: "--heartbeat-ms")),
        (["--name", "--join"], .missingValue(setting: "--name")),
        (["--hearbeat-ms", "10"], .unknownFlag("--hearbeat-ms", suggestion: "--heartbeat-ms")),
        (["--verbose"], .unknownFlag("--verbose", suggestion: nil)),
        (["n1"], .unexpectedArgument("n1")),
        (["--name", "a", "--name", "b"], .duplicateSetting(setting: "--name")),
        (["--peer-addr", "localhost:2380"], .invalidAddress(setting: "--peer-addr", value: "localhost:2380")),
        (["--client-addr", "127.0.0.1:99999"], .invalidAddress(setting: "--client-addr", value: "127.0.0.1:99999")),
        (["--client-addr", "127.0.0.1:2380"], .clientAddressEqualsPeerAddress("127.0.0.1:2380")),
        (["--name", "n 1"], .invalidName(setting: "--name", value: "n 1")),
        (["--log-level", "loud"], .invalidLogLevel(setting: "--log-level", value: "loud")),
        (["--join=maybe"], .invalidBoolean(setting: "--join", value: "maybe")),
        (["--data-dir="], .emptyValue(setting: "--data-dir")),
        (["--name", "n1", "--initial-cluster", "n1=127.0.0.1:2380,n1=127.0.0.1:2382"], .duplicateMemberName("n1")),
        (["--name", "n1", "--initial-cluster", "n1=127.0.0.1:2380,n2=127.0.0.1:2380"],
         .duplicateMemberAddress("127.0.0.1:2380", names: ["n1", "n2"])),
        (["--name", "n9", "--initial-cluster", threeNodes],
         .nameNotInInitialCluster(name: "n9", members: ["n1", "n2", "n3"])),
        (["--name", "n2", "--initial-cluster", threeNodes],
         .peerAddressMismatch(name: "n2", peerAddress: "127.0.0.1:2380", clusterAddress: "127.0.0.1:2382")),
        (["--name", "n1", "--initial-cluster", "n1:127.0.0.1:2380"], .malformedClusterEntry("n1:127.0.0.1:2380")),
        (["--name", "n1", "--initial-cluster", "n1=127.0.0.1"],
         .invalidAddress(setting: "--initial-cluster member n1", value: "127.0.0.1")),
        (["--join"], .joinWithoutFounders(name: "default")),
        (["--config", "absent.conf"], .configFileUnreadable(path: "absent.conf", reason: "MissingFile()")),
    ] as [([String], ConfigurationError)])
    func refused(arguments: [String], expected: ConfigurationError) {
        #expect(parseError(arguments) == expected)
    }

    @Test("config file mistakes name the file and line")
    func fileErrors() {
        #expect(parseError(["--config", "a"], files: ["a": "name n1"]) == .configFileSyntax(path: "a", line: 1, text: "name n1"))
        #expect(parseError(["--config", "a"], files: ["a": "# ok\nheartbeat = 5"])
            == .unknownFlag("heartbeat (a:2)", suggestion: "heartbeat-ms"))
        #expect(parseError(["--config", "a"], files: ["a": "config = b"]) == .unknownFlag("config (a:1)", suggestion: "config"))
        #expect(parseError(["--config", "a"], files: ["a": "name = x\nname = y"]) == .duplicateSetting(setting: "name (a:2)"))
        #expect(parseError(["--config", "a"], files: ["a": "election-ms = 0"])
            == .outOfRange(setting: "election-ms (a:1)", value: 0, range: 1...600_000))
    }

    @Test("every error message says what to do")
    func messagesExplain() {
        let error = ConfigurationError.heartbeatNotBelowElection(heartbeatMilliseconds: 500, electionMilliseconds: 800)
        #expect(error.description.contains("raise --election-ms to at least 1000"))
        #expect(ConfigurationError.unknownFlag("--nme", suggestion: "--name").description.contains("did you mean --name?"))
    }
}

/// Reads a file relative to the package root, located from this source file's path.
func readRepositoryFile(_ relativePath: String) throws -> String {
    let root = String(#filePath.split(separator: "/Tests/", maxSplits: 1)[0])
    guard let file = fopen(root + "/" + relativePath, "r") else { throw MissingFile() }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count == 0 { break }
        bytes += chunk[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}

@Suite("Config file reading")
struct ConfigFileReadingTests {
    @Test("a shipped config reads from disk and a missing one reports why")
    func readsFromDisk() throws {
        let root = String(#filePath.split(separator: "/Tests/", maxSplits: 1)[0])
        let configuration = try ServerConfiguration.parse(
            arguments: ["--config", root + "/cluster/local-3/n2.conf"], configFile: ServerConfiguration.readConfigFile)
        #expect(configuration.name == "n2")
        do {
            _ = try ServerConfiguration.parse(arguments: ["--config", "/nonexistent/roster.conf"],
                                              configFile: ServerConfiguration.readConfigFile)
            Issue.record("a missing file must be refused")
        } catch {
            guard case .configFileUnreadable(let path, let reason) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(path == "/nonexistent/roster.conf")
            #expect(!reason.isEmpty)
        }
    }
}
