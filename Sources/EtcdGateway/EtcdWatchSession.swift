import EtcdAPI
import Registry

/// The watches of one etcd `Watch` stream, as a value: requests and registry changes in, `WatchResponse`s out.
///
/// etcd 3.4 semantics that clientv3, etcdctl and the frameworks rely on:
/// - each create is answered `created` with its watch ID, in request order; IDs are the client's (when
///   positive and unused) or the next free one from 0;
/// - events come in revision order with full KeyValues (and `prev_kv` when asked), never from before the
///   start revision, never twice;
/// - a start revision below the history window gets `compact_revision` and the watch is cancelled;
/// - a progress request is answered with watch ID -1 and the current revision when every watch has
///   everything up to it;
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
    }

    /// Watches in creation order.
    var watchers: [Watcher] = []
    var nextID: Int64 = 0
    public let context: EtcdHeaderContext
    /// Most watches on one stream.
    public let maxWatchers: Int
    /// True while the stream cannot take more: live events are not sent, `catchUp` sends them later.
    public var isLagging = false

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
            guard watchers.allSatisfy({ $0.delivered >= registry.revision }) else { return [] }
            var response = WatchResponse()
            response.header = context.header(revision: registry.revision)
            response.watchID = -1
            return [response]
        case nil:
            return []
        }
    }

    private mutating func create(_ create: WatchCreateRequest, registry: RegistryState) -> [WatchResponse] {
        var id = create.watchID
        if id <= 0 {
            while watchers.contains(where: { $0.id == nextID }) { nextID += 1 }
            id = nextID
            nextID += 1
        } else if watchers.contains(where: { $0.id == id }) {
            return [canceled(id, revision: registry.revision, reason: "etcdserver: duplicate watch ID")]
        }
        guard watchers.count < maxWatchers else {
            return [canceled(id, revision: registry.revision, reason: "etcdserver: too many watches on one stream")]
        }
        let filter = WatchFilter(range: EtcdKeys.range(key: create.key, end: create.rangeEnd))
        if let rejection = filter.range.validate(limits: registry.limits) {
            return [canceled(id, revision: registry.revision, reason: "etcdserver: \(rejection)")]
        }
        var created = WatchResponse()
        created.header = context.header(revision: registry.revision)
        created.watchID = id
        created.created = true
        let start = create.startRevision > 0 ? Revision(create.startRevision) : registry.revision.next
        if start.rawValue - 1 < registry.compactedRevision.rawValue {
            var compacted = WatchResponse()
            compacted.header = context.header(revision: registry.revision)
            compacted.watchID = id
            compacted.canceled = true
            compacted.compactRevision = registry.compactedRevision.rawValue
            compacted.cancelReason = "etcdserver: mvcc: required revision has been compacted"
            return [created, compacted]
        }
        watchers.append(
            Watcher(
                id: id, filter: filter, includePrevious: create.prevKV, skipPuts: create.filters.contains(.noPut),
                skipDeletes: create.filters.contains(.noDelete), progressNotify: create.progressNotify,
                delivered: Revision(start.rawValue - 1)))
        return [created] + catchUp(watcherAt: watchers.count - 1, registry: registry)
    }

    /// Live events applied at `revision`: one response per watch they concern.
    public mutating func publish(_ events: [RegistryEvent], revision: Revision, registry: RegistryState) -> [WatchResponse] {
        guard !isLagging else { return [] }
        var responses: [WatchResponse] = []
        for position in watchers.indices where watchers[position].delivered < revision {
            // A watch behind the batch (its catch-up stopped early) reads history instead.
            guard watchers[position].delivered.rawValue >= (events.first?.revision.rawValue ?? revision.rawValue) - 1 else {
                responses += catchUp(watcherAt: position, registry: registry)
                continue
            }
            let matching = events.filter { $0.revision > watchers[position].delivered && wants($0, watchers[position]) }
            watchers[position].delivered = revision
            if !matching.isEmpty { responses.append(eventsResponse(matching, watcher: watchers[position], revision: revision)) }
        }
        return responses
    }

    /// Sends every watch what history holds beyond what it has (after the stream drained).
    public mutating func catchUp(registry: RegistryState) -> [WatchResponse] {
        isLagging = false
        var responses: [WatchResponse] = []
        for position in watchers.indices { responses += catchUp(watcherAt: position, registry: registry) }
        return responses
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

    private mutating func catchUp(watcherAt position: Int, registry: RegistryState) -> [WatchResponse] {
        var responses: [WatchResponse] = []
        while watchers[position].delivered < registry.revision {
            let watcher = watchers[position]
            let batch: WatchBatch
            do {
                batch = try registry.events(after: watcher.delivered, matching: watcher.filter, limit: 1_000)
            } catch {
                return responses + [canceled(watcher.id, revision: registry.revision, reason: "etcdserver: \(error)")]
            }
            switch batch {
            case .events(let events, let through):
                let matching = events.filter { wants($0, watcher) }
                if !matching.isEmpty { responses.append(eventsResponse(matching, watcher: watcher, revision: through)) }
                watchers[position].delivered = through
            case .resync:
                // Its position left the window while it lagged: etcd cancels with the compaction point.
                var compacted = WatchResponse()
                compacted.header = context.header(revision: registry.revision)
                compacted.watchID = watcher.id
                compacted.canceled = true
                compacted.compactRevision = registry.compactedRevision.rawValue
                compacted.cancelReason = "etcdserver: mvcc: required revision has been compacted"
                watchers.remove(at: position)
                return responses + [compacted]
            }
        }
        return responses
    }

    private func wants(_ event: RegistryEvent, _ watcher: Watcher) -> Bool {
        guard watcher.filter.matches(event.key) else { return false }
        return event.kind == .put ? !watcher.skipPuts : !watcher.skipDeletes
    }

    private func eventsResponse(_ events: [RegistryEvent], watcher: Watcher, revision: Revision) -> WatchResponse {
        var response = WatchResponse()
        response.header = context.header(revision: revision)
        response.watchID = watcher.id
        response.events = events.map { event in
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
            if watcher.includePrevious, let previous = event.previous { converted.prevKV = EtcdKeys.keyValue(previous) }
            return converted
        }
        return response
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
