// Goal: show the logger writes one parsable line per event in the documented format, filters by level before
// building anything, and keeps lines whole when many threads log at once. Method: a logger with an in-memory
// sink; the format is checked through the pure `format` function and by matching a live line's shape.
import Glibc
import RosterNode
@testable import RosterServer
import Testing

@Suite("Logger")
struct LoggerTests {
    @Test("a line is timestamp, level, node name, message and key=value fields")
    func format() {
        let line = Logger.format(timestamp: "2026-11-22T05:01:02.123Z", level: .info, name: "n1",
                                 message: "peer connected", fields: ["peer": "n2", "note": "two words", "n": 3])
        #expect(line == "2026-11-22T05:01:02.123Z INFO n1 peer connected peer=n2 note=\"two words\" n=3\n")
    }

    @Test("a live line starts with a UTC millisecond timestamp")
    func liveTimestamp() throws {
        let lines = Shared<[String]>([])
        Logger(name: "n1", level: .debug) { lines.append($0) }.warning("disk slow")
        let line = try #require(lines.value.first)
        let timestamp = line.prefix(24)
        #expect(timestamp.count == 24 && timestamp.hasSuffix("Z") && timestamp.dropFirst(10).hasPrefix("T"))
        #expect(line.hasSuffix(" WARN n1 disk slow\n"))
    }

    @Test("events below the level are dropped without building their message")
    func filtering() {
        let lines = Shared<[String]>([])
        let logger = Logger(name: "n1", level: .warning) { lines.append($0) }
        let built = Shared(0)
        let expensive: () -> String = {
            built.update { $0 += 1 }
            return "expensive"
        }
        logger.debug(expensive())
        logger.info(expensive())
        logger.error(expensive())
        #expect(lines.value.count == 1)
        #expect(built.value == 1)
        #expect(!logger.isEnabled(.info) && logger.isEnabled(.error))
    }

    @Test("quotes and newlines in values are escaped so a line stays one line")
    func escaping() {
        #expect(Logger.quotedIfNeeded("a\"b\nc") == "\"a\\\"b\\nc\"")
        #expect(Logger.quotedIfNeeded("") == "\"\"")
        #expect(Logger.quotedIfNeeded("plain") == "plain")
    }

    @Test("lines logged from many threads arrive whole")
    func concurrentLines() async {
        let lines = Shared<[String]>([])
        let logger = Logger(name: "n1", level: .info) { lines.append($0) }
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<200 { logger.info("event", ["task": task, "index": index]) }
                }
            }
        }
        #expect(lines.value.count == 1600)
        #expect(lines.value.allSatisfy { $0.hasSuffix("\n") && $0.filter { $0 == "\n" }.count == 1 })
    }
}
