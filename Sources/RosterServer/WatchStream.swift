import Posix
import Raft
import Registry
import RosterAPI

/// The watches one client connection carries, and the connection state they share.
///
/// `GET /v1/watch` opens a stream with exactly one watch (`.single`, or `.longPoll` for its blocking
/// form); `POST /v1/watch` opens a `.multiplexed` stream whose watches come and go by control line.
/// Back-pressure, silence (for progress lines) and writes are per connection, so they live here and
/// not on each watch: one publish writes one chunk per stream, however many of its watches match.
final class WatchStream {
    enum Kind {
        /// `GET /v1/watch`: untagged event lines, one watch for the life of the connection.
        case single
        /// `GET /v1/watch?index=R`: answered once, then the connection returns to plain HTTP.
        case longPoll
        /// `POST /v1/watch`: many watches, every line tagged with its watch id.
        case multiplexed
    }

    /// One watch: a filter, a position, and for a multiplexed stream the client's id for it.
    final class Watcher {
        /// The client's id on a multiplexed stream; nil on a single or long-poll stream.
        let tag: UInt64?
        let spec: WatchSpec
        unowned let stream: WatchStream
        /// `{"watch":id,` for a multiplexed stream, spliced in front of shared event lines; empty otherwise.
        let eventPrefix: [UInt8]
        /// Everything matching up to and including this revision was delivered.
        var delivered: Revision
        /// False once cancelled, ended or its stream closed: nothing more is written for it.
        var isActive = true

        init(tag: UInt64?, spec: WatchSpec, stream: WatchStream, delivered: Revision) {
            self.tag = tag
            self.spec = spec
            self.stream = stream
            self.delivered = delivered
            self.eventPrefix = tag.map { WatchStreamLines.eventPrefix(watch: $0) } ?? []
        }
    }

    let id: UInt64
    let kind: Kind
    unowned let session: ClientSession
    /// How long the stream may stay silent before a progress line.
    let progressIntervalMilliseconds: Int64
    var lastWriteMilliseconds: UInt64
    /// The connection is over its high-water mark: live events skip this stream, and once it drains
    /// every watch catches up from history, so nothing is lost and memory stays bounded.
    var isBackedUp = false
    var isClosed = false
    /// The user that opened the stream (nil with auth off); its watches need read on their keys.
    var user: String?
    var longPollTimer: TimerID?
    /// Active watches in creation order, so catch-up and tests see a stable order.
    private(set) var watchers: [Watcher] = []
    private var byTag: [UInt64: Watcher] = [:]

    init(id: UInt64, kind: Kind, session: ClientSession, progressIntervalMilliseconds: Int64, now: UInt64) {
        self.id = id
        self.kind = kind
        self.session = session
        self.progressIntervalMilliseconds = progressIntervalMilliseconds
        self.lastWriteMilliseconds = now
    }

    /// The active watch the client calls `tag`.
    func watcher(tagged tag: UInt64) -> Watcher? { byTag[tag] }

    func attach(_ watcher: Watcher) {
        precondition(kind == .multiplexed || watchers.isEmpty, "a \(kind) stream holds one watch")
        watchers.append(watcher)
        if let tag = watcher.tag {
            precondition(byTag.updateValue(watcher, forKey: tag) == nil, "watch id \(tag) attached twice")
        }
    }

    func detach(_ watcher: Watcher) {
        watcher.isActive = false
        watchers.removeAll { $0 === watcher }
        if let tag = watcher.tag { byTag[tag] = nil }
    }

    /// Detaches every watch; returns how many there were.
    func detachAll() -> Int {
        let count = watchers.count
        for watcher in watchers { watcher.isActive = false }
        watchers = []
        byTag = [:]
        isClosed = true
        return count
    }

    /// Writes `payload` (whole lines) as one chunk.
    func write(_ payload: [UInt8], now: UInt64) {
        lastWriteMilliseconds = now
        session.writeWatchLine(payload)
    }

    /// Streams a line too large to build whole (a resync); the stream is backed up until it is written.
    func stream(_ line: ResponseStream, now: UInt64) {
        lastWriteMilliseconds = now
        session.streamLine(line, of: self)
    }

    /// Writes bytes already framed as a chunk (shared between streams).
    func write(framed chunk: [UInt8], now: UInt64) {
        lastWriteMilliseconds = now
        session.writeWatchChunk(chunk)
    }
}
