import Posix
import RosterAPI

/// A large answer (a listing, a key range, a watch resync line) being written to one connection as it
/// drains, with what is needed to notice a reader that stopped.
///
/// Memory: the captured records (pointers into the registry's storage) plus at most the connection's
/// high-water mark and one piece of JSON, whatever the answer's size: `pump` stops at the high-water mark
/// and the connection's drain (`didChangeBackPressure(false)`) resumes it. While it runs, nothing else may
/// reach the socket (that would split the answer), so other writers' chunks are held, in order, and
/// written after it.
final class StreamedAnswer {
    /// What the session does once the answer's last byte is queued.
    enum Completion {
        /// An HTTP answer: serve the next pipelined request (answers stay in request order).
        case nextRequest
        /// A resync line: the watch stream resumes (live events, catch-up).
        case resumeWatch
    }

    /// Why `pump` returned.
    enum Progress {
        case finished
        /// The connection is over its high-water mark; its drain resumes the answer.
        case waitingForDrain
        /// This turn's budget is spent; other connections go first, then the answer continues.
        case yielded
    }

    /// Bytes encoded per loop turn before yielding, so one fast reader of a huge answer cannot hold the
    /// loop (and every other client) for the whole encoding.
    static let turnBudgetBytes = 1 << 20
    /// Most bytes of other writers' chunks held while the answer streams; past it the connection is cut.
    static let heldLimitBytes = 1 << 20

    let completion: Completion
    /// A backup (`GET /v1/snapshot`), counted against `RosterServer.concurrentBackupsLimit`.
    var isBackup = false
    private var body: ResponseStream
    /// Bytes handed to the connection so far.
    private(set) var writtenBytes = 0
    private(set) var held: [[UInt8]] = []
    private var heldBytes = 0
    var stallTimer: TimerID?
    /// Bytes the peer had taken (written minus still queued) when progress was last seen, and when.
    private var sentMark = 0
    private var progressMilliseconds: UInt64

    init(_ body: ResponseStream, completion: Completion, now: UInt64) {
        self.body = body
        self.completion = completion
        self.progressMilliseconds = now
    }

    /// Writes pieces until the answer is done, the connection is over its high-water mark, or the turn's
    /// budget is spent.
    func pump(into connection: any ClientLink, cache: inout InstanceJSONCache) -> Progress {
        var budget = Self.turnBudgetBytes
        while !connection.isClosed && !connection.isOverLimit {
            guard budget > 0 else { return .yielded }
            guard let piece = body.next(cache: &cache) else { return .finished }
            writtenBytes += piece.count
            budget -= piece.count
            connection.write(piece)
            if body.isFinished { return .finished }
        }
        return .waitingForDrain
    }

    /// Keeps a chunk another writer produced, to write after the answer; false when the held bytes would
    /// pass `heldLimitBytes`.
    func hold(_ chunk: [UInt8]) -> Bool {
        guard heldBytes + chunk.count <= Self.heldLimitBytes else { return false }
        held.append(chunk)
        heldBytes += chunk.count
        return true
    }

    /// How long the peer has taken no byte while our outbound buffer was full: zero whenever it took some
    /// since the last call or the buffer is below its high-water mark (then the answer, not the peer, is
    /// what moves next).
    func stalledMilliseconds(_ connection: any ClientLink, now: UInt64) -> UInt64 {
        let sent = writtenBytes - connection.outboundBytes
        if sent > sentMark || !connection.isOverLimit {
            sentMark = sent
            progressMilliseconds = now
            return 0
        }
        return now >= progressMilliseconds ? now - progressMilliseconds : 0
    }
}
