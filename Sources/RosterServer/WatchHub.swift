import HTTP
import Posix
import Raft
import Registry
import RosterAPI
import RosterNode

/// The watch streams served by this node, from its own applied state.
///
/// Each watcher has delivered everything matching its filter through `delivered`. Live events are
/// written as they apply; a stream whose connection is backed up stops receiving live events and,
/// once drained, every watch on it catches up from the registry's history (or gets a resync if the
/// history moved on), so a slow consumer never loses events and never holds unbounded memory. After a
/// snapshot install every watcher catches up the same way, so no watch goes back in time.
///
/// Fan-out cost is what limits latency with many watchers, so `publish` encodes each event once per
/// form (with or without its previous value) and writes each connection once per publish: one send
/// per connection however many of its watches match, and for single-watch streams the very same
/// framed chunk is shared by every connection that receives it.
final class WatchHub {
    typealias Watcher = WatchStream.Watcher

    private(set) var streams: [UInt64: WatchStream] = [:]
    private var nextStreamID: UInt64 = 1
    /// Active watchers over all streams.
    private(set) var count = 0
    /// Events per history read when catching up, so one watcher cannot stall the loop.
    static let catchUpBatch = 1_000

    // MARK: - Streams and watchers

    func open(_ kind: WatchStream.Kind, session: ClientSession, progressIntervalMilliseconds: Int64, now: UInt64)
        -> WatchStream
    {
        let stream = WatchStream(
            id: nextStreamID, kind: kind, session: session, progressIntervalMilliseconds: progressIntervalMilliseconds,
            now: now)
        nextStreamID += 1
        streams[stream.id] = stream
        return stream
    }

    /// Ends every watch of `stream`; nothing more is written for them.
    func close(_ stream: WatchStream) {
        guard streams.removeValue(forKey: stream.id) != nil else { return }
        count -= stream.detachAll()
    }

    /// Adds a watch positioned before its first wanted revision; the caller then calls `catchUp`.
    func add(_ spec: WatchSpec, tag: UInt64?, to stream: WatchStream, registry: RegistryState) -> Watcher {
        let start: Revision
        if let from = spec.fromRevision, from.rawValue > 0 {
            start = Revision(from.rawValue - 1)
        } else if case .longPoll(let index, _) = spec.mode {
            start = index
        } else {
            start = registry.revision
        }
        // A start beyond this node's state (a client resuming on a node that is behind) waits for
        // the node to catch up; clamping it down would replay revisions the client already has.
        let watcher = Watcher(tag: tag, spec: spec, stream: stream, delivered: start)
        stream.attach(watcher)
        count += 1
        return watcher
    }

    /// Cancels one watch of a multiplexed stream.
    func remove(_ watcher: Watcher) {
        guard watcher.isActive else { return }
        watcher.stream.detach(watcher)
        count -= 1
    }

    // MARK: - Live events

    /// Delivers the batches applied since the last call (each with the revision it brought the registry
    /// to) to every caught-up watcher whose filter matches: one write per stream.
    func publish(_ batches: [(events: [RegistryEvent], revision: Revision)], now: UInt64) {
        guard !batches.isEmpty, count > 0 else { return }
        var encoded = EncodedEvents(batches)
        for stream in streams.values where !stream.isBackedUp && !stream.isClosed {
            switch stream.kind {
            case .single: publish(to: stream, encoded: &encoded, now: now)
            case .multiplexed: publishTagged(to: stream, encoded: &encoded, now: now)
            case .longPoll: publishLongPoll(to: stream, encoded: encoded, now: now)
            }
        }
    }

    /// A single watch: when one event matches (the common case), the shared framed chunk is written
    /// as is, without a copy.
    private func publish(to stream: WatchStream, encoded: inout EncodedEvents, now: UInt64) {
        guard let watcher = stream.watchers.first else { return }
        let form = watcher.spec.includePrevious
        // No allocation until a second match: with thousands of single streams this loop is the fan-out.
        var first: Int?
        var payload: [UInt8] = []
        for batch in encoded.batches.indices where watcher.delivered < encoded.batches[batch].revision {
            for position in encoded.batches[batch].positions where watcher.spec.filter.matches(encoded.events[position].key) {
                if let earlier = first, payload.isEmpty { payload += encoded.line(earlier, includePrevious: form) }
                if first == nil { first = position } else { payload += encoded.line(position, includePrevious: form) }
            }
            watcher.delivered = encoded.batches[batch].revision
        }
        if !payload.isEmpty {
            stream.write(payload, now: now)
        } else if let first {
            stream.write(framed: encoded.chunk(first, includePrevious: form), now: now)
        }
    }

    /// Every watch of a multiplexed stream: each matching event line spliced behind its `{"watch":id,`,
    /// all in one chunk.
    private func publishTagged(to stream: WatchStream, encoded: inout EncodedEvents, now: UInt64) {
        var payload: [UInt8] = []
        for watcher in stream.watchers {
            let form = watcher.spec.includePrevious
            for batch in encoded.batches.indices where watcher.delivered < encoded.batches[batch].revision {
                for position in encoded.batches[batch].positions
                where watcher.spec.filter.matches(encoded.events[position].key) {
                    WatchStreamLines.appendEvent(
                        encoded.line(position, includePrevious: form), prefix: watcher.eventPrefix, to: &payload)
                }
                watcher.delivered = encoded.batches[batch].revision
            }
        }
        if !payload.isEmpty { stream.write(payload, now: now) }
    }

    private func publishLongPoll(to stream: WatchStream, encoded: EncodedEvents, now: UInt64) {
        guard let watcher = stream.watchers.first else { return }
        var matched: [RegistryEvent] = []
        var through = watcher.delivered
        for batch in encoded.batches where watcher.delivered < batch.revision {
            matched += batch.positions.lazy.map { encoded.events[$0] }.filter { watcher.spec.filter.matches($0.key) }
            through = batch.revision
        }
        watcher.delivered = through
        if !matched.isEmpty { deliver(matched, to: watcher, now: now) }
    }

    // MARK: - Catching up

    /// Catches a watcher up from the registry's history: events, or a resync when its position fell
    /// out of the history window. Stops when the connection backs up; `catchUp(stream:)` resumes.
    func catchUp(_ watcher: Watcher, registry: RegistryState, now: UInt64) {
        let stream = watcher.stream
        while watcher.isActive && watcher.delivered < registry.revision && !stream.isBackedUp {
            let batch: WatchBatch
            do {
                batch = try registry.events(after: watcher.delivered, matching: watcher.spec.filter, limit: Self.catchUpBatch)
            } catch {
                end(watcher, code: "watch_failed", message: "\(error)")
                return
            }
            switch batch {
            case .events(let events, let through):
                if !events.isEmpty { deliver(events, to: watcher, now: now) }
                watcher.delivered = through
            case .resync(let items, let revision):
                watcher.delivered = revision
                if stream.kind == .longPoll {
                    // A long poll is answered once, as a whole response; a chunked line would break its framing.
                    stream.session.completeLongPollResync(items: items, revision: revision)
                    return
                }
                if let line = APIAdapter.resyncStream(revision: revision, items: items, watch: watcher.tag) {
                    // Too large to build whole: written as the connection drains; the loop ends here
                    // (the stream is backed up) and resumes when the line is out.
                    stream.stream(line, now: now)
                } else if let tag = watcher.tag {
                    stream.write(WatchStreamLines.resync(watch: tag, items: items, revision: revision), now: now)
                } else {
                    stream.write(APIAdapter.resyncLine(revision: revision, items: items), now: now)
                }
            }
        }
    }

    /// Every watch of a stream, in creation order: when its connection drained.
    func catchUp(stream: WatchStream, registry: RegistryState, now: UInt64) {
        for watcher in stream.watchers where !stream.isBackedUp {
            catchUp(watcher, registry: registry, now: now)
        }
    }

    /// After a snapshot install: the registry jumped, so live batches cannot be trusted to follow on
    /// from what each watcher has; everyone reads from the registry instead.
    func catchUpAll(registry: RegistryState, now: UInt64) {
        for stream in streams.values.sorted(by: { $0.id < $1.id }) where !stream.isBackedUp {
            catchUp(stream: stream, registry: registry, now: now)
        }
    }

    // MARK: - Time

    /// Progress lines for silent streams; ends every stream when this node has lost the leader for too long.
    func tick(registry: RegistryState, now: UInt64, leaderLost: Bool) {
        for stream in streams.values.sorted(by: { $0.id < $1.id }) {
            if leaderLost {
                stream.session.endWatch(code: "no_leader", message: "this node has lost contact with the leader; watch from another node")
                continue
            }
            guard stream.kind != .longPoll, !stream.isBackedUp else { continue }
            let interval = UInt64(max(stream.progressIntervalMilliseconds, 100))
            guard now >= stream.lastWriteMilliseconds + interval else { continue }
            // Progress says "nothing more up to this node's revision": true when every watcher has
            // everything up to it, including one waiting for a start revision beyond it (a quiet future
            // watch must still be told apart from a dead server).
            let caughtUp = stream.watchers.allSatisfy { $0.delivered >= registry.revision }
            if caughtUp { stream.write(APIAdapter.progressLine(revision: registry.revision), now: now) }
        }
    }

    // MARK: - Writing

    private func deliver(_ events: [RegistryEvent], to watcher: Watcher, now: UInt64) {
        let stream = watcher.stream
        switch stream.kind {
        case .single:
            var bytes: [UInt8] = []
            for event in events { WatchLines.appendEvent(event, includePrevious: watcher.spec.includePrevious, to: &bytes) }
            stream.write(bytes, now: now)
        case .multiplexed:
            var bytes: [UInt8] = []
            for event in events {
                WatchStreamLines.appendEvent(
                    APIAdapter.eventLine(event, includePrevious: watcher.spec.includePrevious), prefix: watcher.eventPrefix,
                    to: &bytes)
            }
            stream.write(bytes, now: now)
        case .longPoll:
            stream.session.completeLongPoll(events: events, revision: events.last?.revision ?? watcher.delivered)
        }
    }

    /// Ends every watch whose stream's user may no longer read its keys (after an auth change), before any
    /// later event reaches it.
    func endUnpermitted(registry: RegistryState) {
        for stream in streams.values.sorted(by: { $0.id < $1.id }) {
            for watcher in stream.watchers where !Self.isPermitted(watcher.spec, user: stream.user, registry: registry) {
                end(watcher, code: "permission_denied", message: "permission denied: the watch's user may no longer read its keys")
            }
        }
    }

    /// Whether `user` may read what `spec` watches (always, with auth off).
    static func isPermitted(_ spec: WatchSpec, user: String?, registry: RegistryState) -> Bool {
        guard registry.auth.isEnabled else { return true }
        guard let user else { return false }
        return registry.auth.authorize(user: user, .keys([KeyAccess(.read, spec.filter.range)])) == nil
    }

    /// Ends one watch the node can no longer serve: its own `canceled` line on a multiplexed stream, the
    /// whole stream otherwise.
    private func end(_ watcher: Watcher, code: String, message: String) {
        let stream = watcher.stream
        guard let tag = watcher.tag else {
            stream.session.endWatch(code: code, message: message)
            return
        }
        remove(watcher)
        let error = APIError(status: .internalServerError, code: code, message: message)
        stream.write(WatchStreamLines.canceled(watch: tag, error: error), now: MonotonicClock.milliseconds())
    }
}

/// One publish's events, each encoded at most once per form and, for single-watch streams, framed as
/// a chunk at most once: the bytes are shared by every connection that gets them.
struct EncodedEvents {
    struct Batch {
        var positions: Range<Int>
        var revision: Revision
    }

    let events: [RegistryEvent]
    let batches: [Batch]
    private var lines: [[[UInt8]]] = [[], []]
    private var chunks: [[[UInt8]?]] = [[], []]

    init(_ batches: [(events: [RegistryEvent], revision: Revision)]) {
        var events: [RegistryEvent] = []
        var ranges: [Batch] = []
        for batch in batches {
            let start = events.count
            events += batch.events
            ranges.append(Batch(positions: start..<events.count, revision: batch.revision))
        }
        self.events = events
        self.batches = ranges
    }

    /// The event line at `position`, newline included.
    mutating func line(_ position: Int, includePrevious: Bool) -> [UInt8] {
        let form = includePrevious ? 1 : 0
        if lines[form].isEmpty {
            lines[form] = events.map { APIAdapter.eventLine($0, includePrevious: includePrevious) }
        }
        return lines[form][position]
    }

    /// The event line at `position` framed as one HTTP chunk.
    mutating func chunk(_ position: Int, includePrevious: Bool) -> [UInt8] {
        let form = includePrevious ? 1 : 0
        if chunks[form].isEmpty { chunks[form] = Array(repeating: nil, count: events.count) }
        if let chunk = chunks[form][position] { return chunk }
        var chunk: [UInt8] = []
        HTTPResponseWriter.writeChunk(line(position, includePrevious: includePrevious), into: &chunk)
        chunks[form][position] = chunk
        return chunk
    }
}
