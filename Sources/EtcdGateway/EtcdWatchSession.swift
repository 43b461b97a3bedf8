import EtcdAPI
import Registry

/// The watches of one etcd `Watch` stream, as a value: requests and registry changes in, `WatchResponse`s out.
///
/// etcd 3.4 semantics that clientv3, etcdctl and the frameworks rely on:
/// - each create is answered `created` with its watch ID, in request order; IDs are the client's (when
///   positive and unused) or the next free one from 0. A refused create (duplicate ID, empty range) is still
///   answered `created`, with `canceled`, watch ID -1 and etcd's reason: clientv3 sends its next create only
///   after the `created` answer to the previous one;
/// - events come in revision order with full KeyValues (and `prev_kv` when asked), never from before the
///   start revision, never twice;
/// - a start revision below the history window gets `compact_revision` and the watch is cancelled; the
///   compact revision is the oldest start the history still serves, so a client re-watching from it (as
///   etcd's contract says it may) succeeds;
/// - a progress request is answered with watch ID -1 and the current revision once every watch has
///   everything up to it (at once, or after the catch-up of a lagging stream, as etcd 3.5 defers it);
/// - a cancel is answered `canceled`.
/// The shell feeds it and writes what it returns; a watch whose stream is backed up is marked lagging and
/// catches up from the registry's history when the stream drains.
public struct EtcdWatchSession: Sendable {
    struct Watcher: Sendable {
        var id: Int64
        var filter: WatchFilter
        var includePrevious: Bool
        var skipPuts: Bool
        var skipDeletes: Bool
        var progressNotify: Bool
        /// Every matching event up to here was sent (or skipped by a filter).
        var delivered: Revision

        /// Whether the watch is sent `event` (its range, and its put and delete filters), whatever its revision.
        func wants(_ event: RegistryEvent) -> Bool { wants(kind: event.kind, key: event.key) }

        func wants(kind: RegistryEvent.Kind, key: [UInt8]) -> Bool {
            guard filter.matches(key) else { return false }
            return kind == .put ? !skipPuts : !skipDeletes
        }

        /// Whether a live `event` is new to the watch and one it wants.
        func wantsLive(_ event: RegistryEvent) -> Bool {
            wantsLive(revision: event.revision, kind: event.kind, key: event.key)
        }

        /// `wantsLive` from the event's fields, so a fan-out reads them in place rather than copying each event
        /// (its key and values retained and released) for every watch.
        func wantsLive(revision: Revision, kind: RegistryEvent.Kind, key: [UInt8]) -> Bool {
            revision > delivered && wants(kind: kind, key: key)
        }
    }

    /// Watches in creation order.
    var watchers: [Watcher] = []
    var nextID: Int64 = 0
    public let context: EtcdHeaderContext
    /// Most watches on one stream.
    public let maxWatchers: Int
    /// True while the stream cannot take more: live events are not sent, `catchUp` sends them later.
    public var isLagging = false
    /// A progress request arrived while some watch lagged; answered once every watch has caught up.
    var isProgressPending = false
    /// The user the stream's token named when it opened (nil when auth was off). While auth is on, a watch is
    /// created only on keys this user may read, and cancelled as soon as it may no longer read them.
    public var user: String?

    /// etcd's cancel reason for a watch its user may not read (the text of the gRPC status error).
    static let permissionDeniedReason = "rpc error: code = PermissionDenied desc = etcdserver: permission denied"

    public init(context: EtcdHeaderContext, maxWatchers: Int = 10_000) {
        self.context = context
        self.maxWatchers = maxWatchers
    }

    public var count: Int { watchers.count }

    /// Handles one request of the stream.
    public mutating func receive(_ request: WatchRequest, registry: RegistryState) -> [WatchResponse] {
        switch request.requestUnion {
        case .createRequest(let create): return self.create(create, registry: registry)
        case .cancelRequest(let cancel):
            guard let position = watchers.firstIndex(where: { $0.id == cancel.watchID }) else { return [] }
            watchers.remove(at: position)
            return [canceled(cancel.watchID, revision: registry.revision, reason: "")]
        case .progressRequest:
            isProgressPending = true
            return pendingProgress(registry: registry)
        case nil:
            return []
        }
    }

    /// The answer to a pending progress request, once every watch has everything up to the current revision.
    private mutating func pendingProgress(registry: RegistryState) -> [WatchResponse] {
        guard isProgressPending, !isLagging, watchers.allSatisfy({ $0.delivered >= registry.revision }) else { return [] }
        isProgressPending = false
        var response = WatchResponse()
        response.header = context.header(revision: registry.revision)
        response.watchID = -1
        return [response]
    }

    private mutating func create(_ create: WatchCreateRequest, registry: RegistryState) -> [WatchResponse] {
        // etcd's order: the range first, then the ID; a refusal consumes no automatic ID.
        if EtcdKeys.isEmptyWatchRange(key: create.key, end: create.rangeEnd) {
            return [refused(revision: registry.revision, reason: "mvcc: watcher range is empty")]
        }
        let filter = WatchFilter(range: EtcdKeys.range(key: create.key, end: create.rangeEnd))
        if let rejection = filter.range.validate(limits: registry.limits) {
            let reason = rejection == .emptyKey ? EtcdError.emptyKey.message : "etcdserver: \(rejection)"
            return [refused(revision: registry.revision, reason: reason)]
        }
        if !isPermitted(filter, registry: registry) {
            return [refused(revision: registry.revision, reason: Self.permissionDeniedReason)]
        }
        if create.watchID > 0 && watchers.contains(where: { $0.id == create.watchID }) {
            return [refused(revision: registry.revision, reason: "mvcc: duplicate watch ID provided on the WatchStream")]
        }
        guard watchers.count < maxWatchers else {
            return [refused(revision: registry.revision, reason: "etcdserver: too many watches on one stream")]
        }
        var id = create.watchID
        if id <= 0 {
            while watchers.contains(where: { $0.id == nextID }) { nextID += 1 }
            id = nextID
            nextID += 1
        }
        var created = WatchResponse()
        created.header = context.header(revision: registry.revision)
        created.watchID = id
        created.created = true
        let start = create.startRevision > 0 ? Revision(create.startRevision) : registry.revision.next
        // etcd cancels a watch only below its compaction revision, which is Roster's compacted revision + 1.
        if start.rawValue - 1 < registry.compactedRevision.rawValue {
            return [created, compacted(id, registry: registry)]
        }
        watchers.append(
            Watcher(
                id: id, filter: filter, includePrevious: create.prevKV, skipPuts: create.filters.contains(.noPut),
                skipDeletes: create.filters.contains(.noDelete), progressNotify: create.progressNotify,
                delivered: Revision(start.rawValue - 1)))
        return [created] + catchUp(watcherAt: watchers.count - 1, registry: registry).0
    }

    /// Whether the stream's user may read what `filter` watches (always, with auth off).
    func isPermitted(_ filter: WatchFilter, registry: RegistryState) -> Bool {
        guard registry.auth.isEnabled else { return true }
        guard let user else { return false }
        return registry.auth.authorize(user: user, .keys([KeyAccess(.read, filter.range)])) == nil
    }

    /// Cancels every watch its user may no longer read (after an auth change), so it never sees another event.
    public mutating func cancelUnpermitted(registry: RegistryState) -> [WatchResponse] {
        var responses: [WatchResponse] = []
        var kept: [Watcher] = []
        for watcher in watchers {
            if isPermitted(watcher.filter, registry: registry) {
                kept.append(watcher)
            } else {
                responses.append(canceled(watcher.id, revision: registry.revision, reason: Self.permissionDeniedReason))
            }
        }
        watchers = kept
        return responses
    }

    /// Live events applied at `revision`: one response per watch they concern.
    public mutating func publish(_ events: [RegistryEvent], revision: Revision, registry: RegistryState) -> [WatchResponse] {
        var list = WatchResponseList()
        publishTo(&list, events, revision: revision, registry: registry)
        return list.responses
    }

    /// Live events applied at `revision`, written by `encoder` as the gRPC-framed messages of the responses
    /// `publish(_:revision:registry:)` returns (the same octets, in the same order), for `takeFramed()`.
    ///
    /// For the fan-out of one write to many watches: the responses are never built as values, each event is
    /// encoded once per batch for all the watches it reaches, and each watch's response is its header, its
    /// watch ID and those cached octets.
    public mutating func publish(
        _ events: [RegistryEvent], revision: Revision, registry: RegistryState, into encoder: inout WatchResponseEncoder
    ) {
        publishTo(&encoder, events, revision: revision, registry: registry)
    }

    /// The one loop behind both `publish` methods: each watch's live events, or its catch-up from history, go to
    /// `sink` in watch order, then any pending progress answer.
    private mutating func publishTo<Sink: WatchPublishSink>(
        _ sink: inout Sink, _ events: [RegistryEvent], revision: Revision, registry: RegistryState
    ) {
        guard !isLagging else { return }
        // A catch-up may cancel (remove) the watch at `position`, so the loop re-reads the count.
        var position = 0
        while position < watchers.count {
            defer { position += 1 }
            guard watchers[position].delivered < revision else { continue }
            // A watch behind the batch (its catch-up stopped early) reads history instead.
            guard watchers[position].delivered.rawValue >= (events.first?.revision.rawValue ?? revision.rawValue) - 1 else {
                let (caughtUp, removed) = catchUp(watcherAt: position, registry: registry)
                for response in caughtUp { sink.response(response) }
                if removed { position -= 1 }
                continue
            }
            sink.live(events, for: watchers[position], revision: revision, context: context)
            watchers[position].delivered = revision
        }
        for response in pendingProgress(registry: registry) { sink.response(response) }
    }

    /// Sends every watch what history holds beyond what it has (after the stream drained).
    public mutating func catchUp(registry: RegistryState) -> [WatchResponse] {
        isLagging = false
        var responses: [WatchResponse] = []
        var position = 0
        while position < watchers.count {
            let (caughtUp, removed) = catchUp(watcherAt: position, registry: registry)
            responses += caughtUp
            if !removed { position += 1 }
        }
        return responses + pendingProgress(registry: registry)
    }

    /// Progress for watches created with `progress_notify` that have everything (called every interval).
    public func progressNotifications(registry: RegistryState) -> [WatchResponse] {
        watchers.filter { $0.progressNotify && $0.delivered >= registry.revision }.map { watcher in
            var response = WatchResponse()
            response.header = context.header(revision: registry.revision)
            response.watchID = watcher.id
            return response
        }
    }

    /// Brings one watch up to the current revision from history.
    /// - Returns: the responses, and whether the watch was canceled (removed from `watchers`).
    private mutating func catchUp(watcherAt position: Int, registry: RegistryState) -> ([WatchResponse], removed: Bool) {
        var responses: [WatchResponse] = []
        while watchers[position].delivered < registry.revision {
            let watcher = watchers[position]
            let batch: WatchBatch
            do {
                batch = try registry.events(after: watcher.delivered, matching: watcher.filter, limit: 1_000)
            } catch {
                // Not expected (the range was validated at create, `delivered` is within the revisions), but a
                // watch that cannot read its history is canceled once rather than retried on every publish.
                watchers.remove(at: position)
                return (responses + [canceled(watcher.id, revision: registry.revision, reason: "etcdserver: \(error)")], true)
            }
            switch batch {
            case .events(let events, let through):
                let matching = events.filter { watcher.wants($0) }
                if !matching.isEmpty {
                    responses.append(Self.eventsResponse(matching, watcher: watcher, revision: through, context: context))
                }
                watchers[position].delivered = through
            case .resync:
                // Its position left the window while it lagged: etcd cancels with the compaction point.
                watchers.remove(at: position)
                return (responses + [compacted(watcher.id, registry: registry)], true)
            }
        }
        return (responses, false)
    }

    /// The cancel of a watch whose start is no longer in the history. `compact_revision` is the oldest start
    /// revision the history serves (one past the registry's compacted revision, whose own events are gone;
    /// etcd's compact revision is the same "first revision you may watch from").
    private func compacted(_ id: Int64, registry: RegistryState) -> WatchResponse {
        var response = WatchResponse()
        response.header = context.header(revision: registry.revision)
        response.watchID = id
        response.canceled = true
        response.compactRevision = EtcdKeys.etcdCompactRevision(registry.compactedRevision)
        response.cancelReason = "etcdserver: mvcc: required revision has been compacted"
        return response
    }

    /// etcd's answer to a create it refuses: `created` and `canceled` together, watch ID -1.
    private func refused(revision: Revision, reason: String) -> WatchResponse {
        var response = canceled(-1, revision: revision, reason: reason)
        response.created = true
        return response
    }

    /// The response carrying `events` (already filtered) to `watcher`.
    static func eventsResponse(
        _ events: [RegistryEvent], watcher: Watcher, revision: Revision, context: EtcdHeaderContext
    ) -> WatchResponse {
        var response = WatchResponse()
        response.header = context.header(revision: revision)
        response.watchID = watcher.id
        response.events = events.map { event($0, includePrevious: watcher.includePrevious) }
        return response
    }

    /// etcd's form of one change: the key as it is now, or for a delete its tombstone; the previous value when
    /// the watch asked for it.
    static func event(_ event: RegistryEvent, includePrevious: Bool) -> Event {
        var converted = Event()
        converted.type = event.kind == .put ? .put : .delete
        if let current = event.current {
            converted.kv = EtcdKeys.keyValue(current)
        } else {
            // A delete carries the key and the revision it was deleted at, as etcd's tombstone does.
            var tombstone = EtcdAPI.KeyValue()
            tombstone.key = event.key
            tombstone.modRevision = event.revision.rawValue
            converted.kv = tombstone
        }
        if includePrevious, let previous = event.previous { converted.prevKV = EtcdKeys.keyValue(previous) }
        return converted
    }

    private func canceled(_ id: Int64, revision: Revision, reason: String) -> WatchResponse {
        var response = WatchResponse()
        response.header = context.header(revision: revision)
        response.watchID = id
        response.canceled = true
        response.cancelReason = reason
        return response
    }
}

/// Where `EtcdWatchSession.publish` puts what it produces for each watch, so one loop serves both the responses
/// built as values and the responses written straight to the wire (`WatchResponseEncoder`).
protocol WatchPublishSink {
    /// The live events of one publish for `watcher` (as it was before them): those of `events` it has not had and
    /// wants (`Watcher.wantsLive`), as one response with the header of `revision`; nothing if there are none.
    mutating func live(
        _ events: [RegistryEvent], for watcher: EtcdWatchSession.Watcher, revision: Revision, context: EtcdHeaderContext)
    /// A response built another way (a catch-up from history, a cancel, a progress answer).
    mutating func response(_ response: WatchResponse)
}

/// The responses of a publish as values.
struct WatchResponseList: WatchPublishSink {
    var responses: [WatchResponse] = []

    mutating func live(
        _ events: [RegistryEvent], for watcher: EtcdWatchSession.Watcher, revision: Revision, context: EtcdHeaderContext
    ) {
        let matching = events.filter { watcher.wantsLive($0) }
        guard !matching.isEmpty else { return }
        responses.append(EtcdWatchSession.eventsResponse(matching, watcher: watcher, revision: revision, context: context))
    }

    mutating func response(_ response: WatchResponse) { responses.append(response) }
}
