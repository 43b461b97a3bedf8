import HTTP
import Posix
import Registry
import RosterAPI
import RosterNode

/// Answers serializable reads on an I/O loop, from the view the Raft loop published (`LocalReads`), so a
/// discovery read costs no hand-off to the Raft loop and back and runs on the I/O thread's core.
///
/// Only what the view answers exactly as the Raft loop would is taken: one complete HTTP/1.1 keep-alive request
/// in one read, routed to a serializable read (or a linearizable one, where the view answers those:
/// `LocalReadGate.answersLinearizable`) the state alone answers (`RegistryQuery.isAnsweredByStateAlone`),
/// whose minimum revision the view has reached and whose answer is small enough to write whole, while auth is
/// off and the view is of the current generation. Anything else goes to the Raft loop unchanged, which answers
/// it as it always did. Owned by one I/O thread.
final class LocalReadServer {
    private let reads: LocalReads
    private let statistics: LocalReads.Statistics
    private let parserLimits: HTTPParserLimits
    private var parser: HTTPRequestParser
    private var cache = InstanceJSONCache()

    init(reads: LocalReads, statistics: LocalReads.Statistics, parserLimits: HTTPParserLimits) {
        self.reads = reads
        self.statistics = statistics
        self.parserLimits = parserLimits
        self.parser = HTTPRequestParser(limits: parserLimits)
    }

    /// The whole answer to `bytes` when they are one request this loop may answer; nil otherwise (the bytes then
    /// go to the Raft loop's session, untouched).
    func answer(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        // Most requests are not serializable reads (reads are linearizable unless asked otherwise): they are told
        // apart by their request line, before any parsing, so they cost this loop next to nothing.
        switch reads.answering {
        case .nothing: return nil
        case .serializableReads: guard Self.requestLineAsksSerializable(bytes) else { return nil }
        case .allReads: guard Self.isGet(bytes) else { return nil }
        }
        let started = MonotonicClock.seconds()
        guard let view = reads.currentView(), !view.state.registry.auth.isEnabled, let request = parseOne(bytes),
            request.keepAlive, request.method == "GET",
            case .node(.read(let query, let options)) = APIAdapter.route(request, limits: view.state.registry.limits)
        else { return nil }
        let age = reads.leaderContactAge(isLeader: view.isLeader, nowMilliseconds: MonotonicClock.milliseconds())
        guard let response = view.state.answer(query, options: options, leaderContactAgeMilliseconds: age),
            case .whole(let answer) = APIAdapter.answer(response, context: view.context, cache: &cache)
        else { return nil }
        let seconds = MonotonicClock.seconds() - started
        statistics.latency.withLock { $0.observe(seconds) }
        return answer
    }

    static let serializableParameter = Array("consistency=serializable".utf8)

    static func isGet(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count > 4 && bytes[0] == UInt8(ascii: "G") && bytes[1] == UInt8(ascii: "E") && bytes[2] == UInt8(ascii: "T")
            && bytes[3] == UInt8(ascii: " ")
    }

    /// Whether the first line of `bytes` is a GET whose target names `consistency=serializable`.
    static func requestLineAsksSerializable(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let pattern = serializableParameter
        guard bytes.count > 4 + pattern.count, isGet(bytes) else { return false }
        let lineEnd = bytes.firstIndex(of: UInt8(ascii: "\r")) ?? bytes.count
        var start = 4
        while start + pattern.count <= lineEnd {
            guard let first = bytes[start..<lineEnd].firstIndex(of: pattern[0]) else { return false }
            if first + pattern.count <= lineEnd, pattern.indices.allSatisfy({ bytes[first + $0] == pattern[$0] }) { return true }
            start = first + 1
        }
        return false
    }

    /// The request `bytes` hold when they hold exactly one, whole; the parser is left empty either way.
    private func parseOne(_ bytes: UnsafeRawBufferPointer) -> HTTPRequest? {
        parser.append(bytes)
        if let request = try? parser.nextRequest(), parser.isIdle { return request }
        parser = HTTPRequestParser(limits: parserLimits)
        return nil
    }
}
