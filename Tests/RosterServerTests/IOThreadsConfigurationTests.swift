// Goal: show that `--io-threads` parses from a flag and a file, that 0 (every connection on the Raft loop) is
// accepted, that values outside 0...64 are refused with a typed error, and that the default follows the cores this
// member can count on: the machine's, divided among the members whose peer addresses are on it.
// Method: the pure `ServerConfiguration.parse` with argument arrays and an injected file reader.
import Posix
@testable import RosterServer
import Testing

private struct MissingFile: Error {}

private func parse(_ arguments: [String], files: [String: String] = [:]) throws(ConfigurationError) -> ServerConfiguration {
    try ServerConfiguration.parse(arguments: arguments) { path in
        guard let text = files[path] else { throw MissingFile() }
        return text
    }
}

@Suite("I/O threads setting")
struct IOThreadsConfigurationTests {
    @Test("--io-threads takes 0 and up to 64, from a flag or a file", arguments: [0, 1, 3, 64])
    func accepted(count: Int) throws {
        #expect(try parse(["--io-threads", "\(count)"]).ioThreads == count)
        #expect(try parse(["--config", "r.conf"], files: ["r.conf": "io-threads = \(count)\n"]).ioThreads == count)
    }

    @Test("--io-threads outside 0...64 or not a number is refused", arguments: [
        (["--io-threads", "65"], ConfigurationError.outOfRange(setting: "--io-threads", value: 65, range: 0...64)),
        (["--io-threads", "-1"], .outOfRange(setting: "--io-threads", value: -1, range: 0...64)),
        (["--io-threads", "many"], .notANumber(setting: "--io-threads", value: "many")),
    ])
    func refused(arguments: [String], expected: ConfigurationError) {
        #expect(throws: expected) { try parse(arguments) }
    }

    @Test("the default is one per core of this member's share, at most 8, none below two", arguments: [
        (cores: 1, members: 1, expected: 0), (cores: 2, members: 1, expected: 2), (cores: 2, members: 3, expected: 0),
        (cores: 4, members: 3, expected: 0), (cores: 8, members: 3, expected: 2), (cores: 16, members: 1, expected: 8),
        (cores: 64, members: 2, expected: 8), (cores: 8, members: 0, expected: 8),
    ])
    func defaultShare(cores: Int, members: Int, expected: Int) {
        #expect(ServerConfiguration.defaultIOThreads(cores: cores, membersSharingCores: members) == expected)
    }

    @Test("members on this machine: loopback peers, or peers at this member's own address")
    func membersOnThisMachine() throws {
        let loopback = "n1=127.0.0.1:2380,n2=127.0.0.1:2382,n3=127.0.0.2:2384"
        let local = try parse(["--name", "n1", "--peer-addr", "127.0.0.1:2380", "--initial-cluster", loopback])
        #expect(local.membersOnThisMachine == 3)
        #expect(local.ioThreads == ServerConfiguration.defaultIOThreads(cores: Processors.online, membersSharingCores: 3))

        let spread = "n1=10.0.0.1:2380,n2=10.0.0.2:2380,n3=10.0.0.3:2380"
        let apart = try parse(["--name", "n1", "--peer-addr", "10.0.0.1:2380", "--initial-cluster", spread])
        #expect(apart.membersOnThisMachine == 1)

        let twoHere = "n1=10.0.0.1:2380,n2=10.0.0.1:2390,n3=10.0.0.3:2380"
        let shared = try parse(["--name", "n2", "--peer-addr", "10.0.0.1:2390", "--initial-cluster", twoHere])
        #expect(shared.membersOnThisMachine == 2)

        #expect(try parse([]).membersOnThisMachine == 1)
        #expect(try parse(["--io-threads", "3", "--initial-cluster", loopback, "--name", "n1"]).ioThreads == 3)
        #expect(ServerConfiguration.helpText.contains("--io-threads N"))
    }
}
