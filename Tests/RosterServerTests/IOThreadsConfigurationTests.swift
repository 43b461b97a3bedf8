// Goal: show that `--io-threads` parses from a flag and a file, that 0 (every connection on the Raft loop) is
// accepted, that values outside 0...64 are refused with a typed error, and that the default follows the cores.
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

    @Test("the default is one per online core, at most 8, and none on one core")
    func defaultFollowsCores() throws {
        let expected = Processors.online < 2 ? 0 : min(ServerConfiguration.maximumDefaultIOThreads, Processors.online)
        #expect(try parse([]).ioThreads == expected)
        #expect(ServerConfiguration.helpText.contains("--io-threads N"))
    }
}
