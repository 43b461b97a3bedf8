import HTTP
import Posix
import Registry
import RosterAPI
import RosterNode

/// Answers reads on an I/O loop, from the view the Raft loop published (`LocalReads`), so a discovery read costs no
/// hand-off to the Raft loop and back and runs on the I/O thread's core.
///
/// Only what the view answers exactly as the Raft loop would is taken: one complete HTTP/1.1 keep-alive GET in one
/// read, routed to a read the state alone answers (`RegistryQuery.isAnsweredByStateAlone`) whose minimum revision
/// the view has reached and whose answer is small enough to write whole, while auth is off. A serializable read is
/// answered at once from a view of the current generation (a linearizable one too on a caught-up sole voter:
/// `LocalReadGate.answersLinearizable`); elsewhere a linearizable one is held for a read barrier (`ReadBarriers`)
/// and answered from a view at or after its index. Anything else goes to the Raft loop unchanged, which answers it
/// as it always did. Owned by one I/O thread.
final class LocalReadServer {
    private let reads: LocalReads
    private let statistics: LocalReads.Statistics
    private let parserLimits: HTTPParserLimits
    private let registryLimits: RegistryLimits
    private var parser: HTTPRequestParser
    private var cache = InstanceJSONCache()

    init(reads: LocalReads, statistics: LocalReads.Statistics, parserLimits: HTTPParserLimits, registryLimits: RegistryLimits) {
        self.reads = reads
        self.statistics = statistics
        self.parserLimits = parserLimits
        self.registryLimits = registryLimits
        self.parser = HTTPRequestParser(limits: parserLimits)
    }

    /// What this loop does with one request.
    enum Outcome {
        /// Writes this whole answer.
        case answered([UInt8])
        /// Holds the request for the read barrier asked at the end of this loop turn, then `answer(_:afterBarrierAt:)`.
        case afterBarrier(HeldRead)
        /// Passes the bytes to the Raft loop's session, untouched.
        case passOn
    }

    /// A linearizable read held for a read barrier (`ReadBarriers`).
    struct HeldRead {
        let query: RegistryQuery
        let options: ReadOptions
        let started: Double
    }

    /// What to do with `bytes`: answer them when they are one request this loop may answer, hold them for a read
    /// barrier when they are a linearizable read the view answers once the barrier passed, or pass them on.
    func serve(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        // Requests other than GETs are told apart by their first octets, before any parsing, so they cost this loop
        // next to nothing.
        switch reads.answering {
        case .nothing: return .passOn
        case .serializableReads, .allReads: guard Self.isGet(bytes) else { return .passOn }
        }
        let started = MonotonicClock.seconds()
        guard let request = parseOne(bytes), request.keepAlive, request.method == "GET",
            case .node(.read(let query, let options)) = APIAdapter.route(request, limits: registryLimits)
        else { return .passOn }
        if options.consistency == .linearizable && reads.answering != .allReads {
            // A read waiting for a minimum revision, or one the state alone does not answer, goes through the node.
            guard options.minRevision == nil, query.isAnsweredByStateAlone else { return .passOn }
            return .afterBarrier(HeldRead(query: query, options: options, started: started))
        }
        guard let view = reads.currentView(), !view.state.registry.auth.isEnabled else { return .passOn }
        let age = reads.leaderContactAge(isLeader: view.isLeader, nowMilliseconds: MonotonicClock.milliseconds())
        guard let response = view.state.answer(query, options: options, leaderContactAgeMilliseconds: age) else {
            return .passOn
        }
        return encode(response, from: view, started: started).map { .answered($0) } ?? .passOn
    }

    /// The answer to a held read whose read barrier passed at `barrierIndex`, from the newest view (published at or
    /// after that index); nil when the view cannot answer it (the request then goes to the session).
    func answer(_ read: HeldRead, afterBarrierAt barrierIndex: UInt64) -> [UInt8]? {
        guard let view = reads.newestView(), !view.state.registry.auth.isEnabled else { return nil }
        let age = reads.leaderContactAge(isLeader: view.isLeader, nowMilliseconds: MonotonicClock.milliseconds())
        guard let response = view.state.answer(
                afterBarrierAt: barrierIndex, read.query, options: read.options, leaderContactAgeMilliseconds: age)
        else { return nil }
        return encode(response, from: view, started: read.started)
    }

    private func encode(_ response: NodeResponse, from view: LocalReads.View, started: Double) -> [UInt8]? {
        guard case .whole(let answer) = APIAdapter.answer(response, context: view.context, cache: &cache) else { return nil }
        let seconds = MonotonicClock.seconds() - started
        statistics.latency.withLock { $0.observe(seconds) }
        return answer
    }

    static func isGet(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count > 4 && bytes[0] == UInt8(ascii: "G") && bytes[1] == UInt8(ascii: "E") && bytes[2] == UInt8(ascii: "T")
            && bytes[3] == UInt8(ascii: " ")
    }

    /// The request `bytes` hold when they hold exactly one, whole; the parser is left empty either way.
    private func parseOne(_ bytes: UnsafeRawBufferPointer) -> HTTPRequest? {
        parser.append(bytes)
        if let request = try? parser.nextRequest(), parser.isIdle { return request }
        parser = HTTPRequestParser(limits: parserLimits)
        return nil
    }
}
