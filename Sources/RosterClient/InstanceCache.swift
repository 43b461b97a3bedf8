import Foundation
import Synchronization

/// A service's instances as a cache last saw them.
public struct CacheSnapshot: Sendable, Equatable {
    /// Live instances, sorted by id.
    public var instances: [ServiceInstance]
    /// The revision the list reflects.
    public var revision: Int64
    /// When the cache lost contact with the cluster, if it has: the list is the last known one, not an empty one.
    public var staleSince: Date?
    /// Whether the first full list has arrived.
    public var isReady: Bool

    /// True while the list may be behind the cluster.
    public var isStale: Bool { staleSince != nil }
}

/// A change to a cached service.
public enum InstanceChange: Sendable, Equatable {
    case added(ServiceInstance)
    case updated(ServiceInstance)
    case removed(ServiceInstance)
}

/// The `Discovery` side: a live, self-healing copy of one service's instances.
///
/// It lists the service, then watches from the list's revision, so no change between the two is missed. The watch
/// resumes on another node from the last revision after a disconnect (see `RosterClient.watch`); `watchStatus`
/// and `watchEvents()` say which node it streams from and when it was interrupted. An error never empties the
/// cache: the last known list stays, marked `staleSince` the moment contact was lost, which is what a load balancer
/// wants during a registry outage. If the consumer of the watch falls behind, it lists again.
///
/// The cache runs until `close()`, or until the cache and every stream it handed out (`lists()`, `changes()`,
/// `watchEvents()`) are dropped. Call `close()` (`defer { cache.close() }`) when done rather than rely on the
/// last reference going away: a stream still held, even unread, keeps the cache watching.
public final class InstanceCache: Sendable {
    /// The watched service.
    public let service: String
    /// Its namespace.
    public let namespace: String
    let core: CacheCore
    private let runner: Task<Void, Never>

    /// Starts caching `service`; the first list arrives asynchronously (see `waitUntilReady`). The cache runs
    /// until `close()`, or until it and its streams are dropped.
    public init(client: RosterClient, service: String, namespace: String? = nil) {
        self.service = service
        self.namespace = namespace ?? client.configuration.namespace
        let core = CacheCore(client: client, service: service, namespace: self.namespace)
        self.core = core
        // The task holds the core, never the cache, so dropping the cache stops it (see `deinit`).
        runner = Task { await core.run() }
    }

    deinit {
        runner.cancel()
        core.finishListeners()
    }

    /// The current list; never empty because of an error.
    public var snapshot: CacheSnapshot { core.state.withLock { $0.snapshot } }

    /// Which node the watch streams from, since when, and how often it was interrupted.
    public var watchStatus: CacheWatchStatus { core.state.withLock { $0.watch } }

    /// The instances to send work to: status `up` and weight above 0.
    public var usableInstances: [ServiceInstance] {
        snapshot.instances.filter { $0.status == .up && $0.weight > 0 }
    }

    /// Waits for the first full list.
    /// - Throws: `.unavailable` when it does not arrive within `timeout`.
    public func waitUntilReady(timeout: Duration = .seconds(10)) async throws -> CacheSnapshot {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let current = snapshot
            if current.isReady { return current }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw RosterClientError(.unavailable, "no list of \(service) arrived within \(timeout)")
    }

    /// Full lists: the current one at once, then one after each change (only the newest is kept for a slow reader,
    /// since a newer full list supersedes older ones). The stream keeps the cache running while it is held.
    public func lists() -> AsyncStream<CacheSnapshot> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: CacheSnapshot.self, bufferingPolicy: .bufferingNewest(1))
        let id = core.state.withLock { state in
            state.nextListener += 1
            state.listeners[state.nextListener] = continuation
            if state.isReady { continuation.yield(state.snapshot) }
            return state.nextListener
        }
        continuation.onTermination = { _ in _ = self.core.state.withLock { $0.listeners.removeValue(forKey: id) } }
        return stream
    }

    /// Individual changes (added, updated, removed) from now on, up to `bufferLimit` unread; a reader that falls
    /// further behind loses the oldest and should resynchronise from `snapshot`. The stream keeps the cache
    /// running while it is held.
    public func changes(bufferLimit: Int = 10_000) -> AsyncStream<InstanceChange> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: InstanceChange.self, bufferingPolicy: .bufferingNewest(bufferLimit))
        let id = core.state.withLock { state in
            state.nextListener += 1
            state.changeListeners[state.nextListener] = continuation
            return state.nextListener
        }
        continuation.onTermination = { _ in
            _ = self.core.state.withLock { $0.changeListeners.removeValue(forKey: id) }
        }
        return stream
    }

    /// The watch's changes from now on: the node it streams from, each interruption, each resumption (the newest
    /// `bufferLimit` unread are kept), so an application can log the health of its discovery. The stream keeps
    /// the cache running while it is held.
    public func watchEvents(bufferLimit: Int = 64) -> AsyncStream<CacheWatchEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: CacheWatchEvent.self, bufferingPolicy: .bufferingNewest(bufferLimit))
        let id = core.state.withLock { state in
            state.nextListener += 1
            state.watchListeners[state.nextListener] = continuation
            return state.nextListener
        }
        continuation.onTermination = { _ in
            _ = self.core.state.withLock { $0.watchListeners.removeValue(forKey: id) }
        }
        return stream
    }

    /// Stops the cache and ends every stream; the last list stays readable.
    public func close() {
        runner.cancel()
        core.finishListeners()
    }
}

/// Chooses an instance to send a request to. Pickers skip draining instances and weight 0.
public protocol EndpointPicker: Sendable {
    /// One of `instances`, or nil when none is usable.
    func pick(from instances: [ServiceInstance]) -> ServiceInstance?
}

/// Takes usable instances in turn.
public final class RoundRobinPicker: EndpointPicker {
    private let counter = Atomic<Int>(0)
    /// Creates a picker starting at the first instance.
    public init() {}
    public func pick(from instances: [ServiceInstance]) -> ServiceInstance? {
        let usable = instances.filter { $0.status == .up && $0.weight > 0 }
        guard !usable.isEmpty else { return nil }
        let turn = counter.wrappingAdd(1, ordering: .relaxed).oldValue
        return usable[(turn % usable.count + usable.count) % usable.count]
    }
}

/// Picks usable instances at random in proportion to their weight.
public struct WeightedRandomPicker: EndpointPicker {
    /// Creates a picker.
    public init() {}
    public func pick(from instances: [ServiceInstance]) -> ServiceInstance? {
        let usable = instances.filter { $0.status == .up && $0.weight > 0 }
        let total = usable.reduce(UInt64(0)) { $0 + UInt64($1.weight) }
        guard total > 0 else { return nil }
        var point = UInt64.random(in: 0..<total)
        for instance in usable {
            if point < UInt64(instance.weight) { return instance }
            point -= UInt64(instance.weight)
        }
        return usable.last
    }
}
