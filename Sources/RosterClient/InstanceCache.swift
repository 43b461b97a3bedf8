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
/// resumes on another node from the last revision after a disconnect (see `RosterClient.watch`). An error never
/// empties the cache: the last known list stays, marked `staleSince` the moment contact was lost, which is what a
/// load balancer wants during a registry outage. If the consumer of the watch falls behind, it lists again.
public final class InstanceCache: Sendable {
    private struct State {
        var byKey: [String: ServiceInstance] = [:]
        var revision: Int64 = 0
        var staleSince: Date?
        var isReady = false
        var listeners: [UInt64: AsyncStream<CacheSnapshot>.Continuation] = [:]
        var changeListeners: [UInt64: AsyncStream<InstanceChange>.Continuation] = [:]
        var nextListener: UInt64 = 0

        var snapshot: CacheSnapshot {
            CacheSnapshot(
                instances: byKey.values.sorted { $0.id < $1.id }, revision: revision, staleSince: staleSince,
                isReady: isReady)
        }
    }

    /// The watched service.
    public let service: String
    /// Its namespace.
    public let namespace: String
    private let client: RosterClient
    private let state = Mutex(State())
    private let runner = Mutex<Task<Void, Never>?>(nil)

    /// Starts caching `service`; the first list arrives asynchronously (see `waitUntilReady`). The cache runs
    /// until `close()`.
    public init(client: RosterClient, service: String, namespace: String? = nil) {
        self.client = client
        self.service = service
        self.namespace = namespace ?? client.configuration.namespace
        let task = Task { [weak self] () -> Void in await self?.run() }
        runner.withLock { $0 = task }
    }

    deinit { runner.withLock { $0?.cancel() } }

    /// The current list; never empty because of an error.
    public var snapshot: CacheSnapshot { state.withLock { $0.snapshot } }

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
    /// since a newer full list supersedes older ones).
    public func lists() -> AsyncStream<CacheSnapshot> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: CacheSnapshot.self, bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state in
            state.nextListener += 1
            state.listeners[state.nextListener] = continuation
            if state.isReady { continuation.yield(state.snapshot) }
            return state.nextListener
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.listeners.removeValue(forKey: id) }
        }
        return stream
    }

    /// Individual changes (added, updated, removed) from now on, up to `bufferLimit` unread; a reader that falls
    /// further behind loses the oldest and should resynchronise from `snapshot`.
    public func changes(bufferLimit: Int = 10_000) -> AsyncStream<InstanceChange> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: InstanceChange.self, bufferingPolicy: .bufferingNewest(bufferLimit))
        let id = state.withLock { state in
            state.nextListener += 1
            state.changeListeners[state.nextListener] = continuation
            return state.nextListener
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.changeListeners.removeValue(forKey: id) }
        }
        return stream
    }

    /// Stops the cache and ends every stream; the last list stays readable.
    public func close() {
        runner.withLock { $0?.cancel() }
        state.withLock { state in
            for listener in state.listeners.values { listener.finish() }
            for listener in state.changeListeners.values { listener.finish() }
            state.listeners.removeAll()
            state.changeListeners.removeAll()
        }
    }

    // MARK: - Loop

    private func run() async {
        var failures = 0
        while !Task.isCancelled {
            let list: InstanceList
            do {
                list = try await client.instances(of: service, namespace: namespace)
            } catch {
                markStale()
                failures += 1
                if !(await pause(failures)) { return }
                continue
            }
            failures = 0
            replace(list.instances, revision: list.revision)
            do {
                for try await update in client.watch(
                    service: service, namespace: namespace, fromRevision: list.revision + 1)
                {
                    apply(update)
                }
            } catch {
                // Overflow or a rejected watch: list again from scratch.
                markStale()
            }
            if !(await pause(1)) { return }
        }
    }

    private func pause(_ failures: Int) async -> Bool {
        let cap = min(1000, 50 << min(failures, 5))
        do {
            try await Task.sleep(for: .milliseconds(Int.random(in: cap / 2...cap)))
            return true
        } catch {
            return false
        }
    }

    func apply(_ update: WatchUpdate) {
        switch update {
        case .event(let event):
            state.withLock { state in
                state.revision = max(state.revision, event.revision)
                guard let key = event.key else { return }
                if event.isDelete {
                    if let removed = state.byKey.removeValue(forKey: key) { Self.emit(.removed(removed), &state) }
                } else if let instance = event.instance {
                    let change: InstanceChange = state.byKey[key] == nil ? .added(instance) : .updated(instance)
                    state.byKey[key] = instance
                    Self.emit(change, &state)
                }
                Self.publish(&state)
            }
        case .resync(let revision, let items):
            replace(items.compactMap(\.instance), revision: revision)
        case .progress(let revision):
            state.withLock { state in
                state.revision = max(state.revision, revision)
                if state.staleSince != nil {
                    state.staleSince = nil
                    Self.publish(&state)
                }
            }
        case .interrupted:
            markStale()
        case .resumed:
            state.withLock { state in
                state.staleSince = nil
                Self.publish(&state)
            }
        }
    }

    private func replace(_ instances: [ServiceInstance], revision: Int64) {
        state.withLock { state in
            let fresh = Dictionary(instances.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
            for (key, old) in state.byKey where fresh[key] == nil { Self.emit(.removed(old), &state) }
            for (key, new) in fresh {
                if let old = state.byKey[key] {
                    if old != new { Self.emit(.updated(new), &state) }
                } else {
                    Self.emit(.added(new), &state)
                }
            }
            state.byKey = fresh
            state.revision = revision
            state.staleSince = nil
            state.isReady = true
            Self.publish(&state)
        }
    }

    private func markStale() {
        state.withLock { state in
            guard state.staleSince == nil else { return }
            state.staleSince = Date()
            Self.publish(&state)
        }
    }

    private static func emit(_ change: InstanceChange, _ state: inout State) {
        for listener in state.changeListeners.values { listener.yield(change) }
    }

    private static func publish(_ state: inout State) {
        guard state.isReady else { return }
        let snapshot = state.snapshot
        for listener in state.listeners.values { listener.yield(snapshot) }
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
