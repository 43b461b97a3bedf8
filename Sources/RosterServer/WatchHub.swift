import Posix
import Raft
import Registry
import RosterAPI
import RosterNode

/// The watch streams served by this node, from its own applied state.
///
/// Each watcher has delivered everything matching its filter through `delivered`. Live events are
/// written as they apply; a watcher whose connection is backed up stops receiving live events and,
/// once drained, catches up from the registry's history (or gets a resync if the history moved on),
/// so a slow consumer never loses events and never holds unbounded memory. After a snapshot install
/// every watcher catches up the same way, so no watch goes back in time.
final class WatchHub {
    final class Watcher {
        let id: UInt64
        let spec: WatchSpec
        unowned let session: ClientSession
        /// Everything matching up to and including this revision was delivered.
        var delivered: Revision
        var lastWriteMilliseconds: UInt64
        var isBackedUp = false
        var longPollTimer: TimerID?

        init(id: UInt64, spec: WatchSpec, session: ClientSession, delivered: Revision, now: UInt64) {
            self.id = id
            self.spec = spec
            self.session = session
            self.delivered = delivered
            self.lastWriteMilliseconds = now
        }
    }

    private(set) var watchers: [UInt64: Watcher] = [:]
    private var nextID: UInt64 = 1
    /// Events per history read when catching up, so one watcher cannot stall the loop.
    static let catchUpBatch = 1_000

    var count: Int { watchers.count }

    /// Registers a watch positioned before its first wanted revision; the caller attaches it to its
    /// session and then calls `catchUp`.
    func start(_ spec: WatchSpec, session: ClientSession, registry: RegistryState, now: UInt64) -> Watcher {
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
        let watcher = Watcher(id: nextID, spec: spec, session: session, delivered: start, now: now)
        nextID += 1
        watchers[watcher.id] = watcher
        return watcher
    }

    func stop(_ watcher: Watcher) {
        watchers[watcher.id] = nil
    }

    /// Delivers live events applied at `revision` to every caught-up watcher whose filter matches.
    ///
    /// Each event is encoded at most once per form (with or without its previous value), however many
    /// watchers receive it: with thousands of watchers, encoding dominated fan-out.
    func publish(_ events: [RegistryEvent], revision: Revision, now: UInt64) {
        var encoded: [Bool: [[UInt8]]] = [:]
        for watcher in watchers.values where !watcher.isBackedUp && watcher.delivered < revision {
            let positions = events.indices.filter { watcher.spec.filter.matches(events[$0].key) }
            if !positions.isEmpty {
                if case .stream = watcher.spec.mode {
                    let form = watcher.spec.includePrevious
                    let lines = encoded[form] ?? events.map { APIAdapter.eventLine($0, includePrevious: form) }
                    encoded[form] = lines
                    watcher.lastWriteMilliseconds = now
                    watcher.session.writeWatchLine(positions.count == 1 ? lines[positions[0]] : positions.flatMap { lines[$0] })
                } else {
                    deliver(positions.map { events[$0] }, to: watcher, now: now)
                }
            }
            watcher.delivered = revision
        }
    }

    /// Catches a watcher up from the registry's history: events, or a resync when its position fell
    /// out of the history window.
    func catchUp(_ watcher: Watcher, registry: RegistryState, now: UInt64) {
        while watcher.delivered < registry.revision && !watcher.isBackedUp && watchers[watcher.id] != nil {
            let batch: WatchBatch
            do {
                batch = try registry.events(after: watcher.delivered, matching: watcher.spec.filter, limit: Self.catchUpBatch)
            } catch {
                watcher.session.endWatch(code: "watch_failed", message: "\(error)")
                return
            }
            switch batch {
            case .events(let events, let through):
                if !events.isEmpty { deliver(events, to: watcher, now: now) }
                watcher.delivered = through
            case .resync(let items, let revision):
                watcher.session.writeWatchLine(APIAdapter.resyncLine(revision: revision, items: items))
                watcher.lastWriteMilliseconds = now
                watcher.delivered = revision
            }
        }
    }

    /// After a snapshot install, or when a backed-up watcher drained.
    func catchUpAll(registry: RegistryState, now: UInt64) {
        for watcher in watchers.values.sorted(by: { $0.id < $1.id }) where !watcher.isBackedUp {
            catchUp(watcher, registry: registry, now: now)
        }
    }

    /// Progress lines for idle streams; ends every watch when this node has lost the leader for too long.
    func tick(registry: RegistryState, now: UInt64, leaderLost: Bool) {
        for watcher in watchers.values.sorted(by: { $0.id < $1.id }) {
            if leaderLost {
                watcher.session.endWatch(code: "no_leader", message: "this node has lost contact with the leader; watch from another node")
                continue
            }
            guard case .stream = watcher.spec.mode, !watcher.isBackedUp else { continue }
            let interval = UInt64(max(watcher.spec.progressIntervalMilliseconds, 100))
            if now >= watcher.lastWriteMilliseconds + interval && watcher.delivered == registry.revision {
                watcher.session.writeWatchLine(APIAdapter.progressLine(revision: registry.revision))
                watcher.lastWriteMilliseconds = now
            }
        }
    }

    private func deliver(_ events: [RegistryEvent], to watcher: Watcher, now: UInt64) {
        watcher.lastWriteMilliseconds = now
        switch watcher.spec.mode {
        case .stream:
            var bytes: [UInt8] = []
            for event in events { bytes += APIAdapter.eventLine(event, includePrevious: watcher.spec.includePrevious) }
            watcher.session.writeWatchLine(bytes)
        case .longPoll:
            watcher.session.completeLongPoll(events: events, revision: events.last?.revision ?? watcher.delivered)
        }
    }
}
