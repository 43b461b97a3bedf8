import Foundation
import Synchronization

/// The state and the list-then-watch loop behind an `InstanceCache`.
///
/// It is separate from `InstanceCache` so that the loop's task holds only the core: when the application drops
/// the cache (and every stream it handed out), `InstanceCache.deinit` cancels the task, and the watch stops.
final class CacheCore: Sendable {
    struct State {
        var byKey: [String: ServiceInstance] = [:]
        var revision: Int64 = 0
        var staleSince: Date?
        var isReady = false
        var watch = CacheWatchStatus(node: nil, since: Date(), interruptions: 0, lastError: nil)
        /// Whether the last watch event reported is an interruption (so a failure streak is reported once).
        var isInterrupted = false
        var listeners: [UInt64: AsyncStream<CacheSnapshot>.Continuation] = [:]
        var changeListeners: [UInt64: AsyncStream<InstanceChange>.Continuation] = [:]
        var watchListeners: [UInt64: AsyncStream<CacheWatchEvent>.Continuation] = [:]
        var nextListener: UInt64 = 0

        var snapshot: CacheSnapshot {
            CacheSnapshot(
                instances: byKey.values.sorted { $0.id < $1.id }, revision: revision, staleSince: staleSince,
                isReady: isReady)
        }
    }

    let client: RosterClient
    let service: String
    let namespace: String
    let state = Mutex(State())
    /// False once the loop has returned (tests wait on it).
    let running = Atomic<Bool>(true)

    init(client: RosterClient, service: String, namespace: String) {
        self.client = client
        self.service = service
        self.namespace = namespace
    }

    var isRunning: Bool { running.load(ordering: .acquiring) }

    /// Ends every stream handed out. The streams are finished outside the lock, because finishing one runs its
    /// termination handler, which takes the lock to unregister it.
    func finishListeners() {
        let (lists, changes, watches) = state.withLock { state in
            defer {
                state.listeners.removeAll()
                state.changeListeners.removeAll()
                state.watchListeners.removeAll()
            }
            return (
                Array(state.listeners.values), Array(state.changeListeners.values), Array(state.watchListeners.values)
            )
        }
        for listener in lists { listener.finish() }
        for listener in changes { listener.finish() }
        for listener in watches { listener.finish() }
    }

    // MARK: - Loop

    /// Lists, then watches from the list's revision, until the task is cancelled.
    func run() async {
        defer { running.store(false, ordering: .releasing) }
        var failures = 0
        while !Task.isCancelled {
            let list: InstanceList
            do {
                list = try await client.instances(of: service, namespace: namespace)
            } catch {
                guard !Task.isCancelled else { return }
                interrupt(RosterClient.wrapped(error))
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
                interrupt(RosterClient.wrapped(error))
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
        case .interrupted(let error):
            interrupt(error)
        case .resumed(let endpoint, let revision):
            state.withLock { state in
                state.watch.node = endpoint
                state.watch.since = Date()
                state.isInterrupted = false
                Self.emit(.watching(node: endpoint, fromRevision: revision), &state)
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

    /// The watch lost its node (or the list failed): mark the list stale and report it once per streak.
    private func interrupt(_ error: RosterClientError) {
        state.withLock { state in
            let node = state.watch.node
            state.watch.node = nil
            state.watch.lastError = error
            if !state.isInterrupted {
                state.isInterrupted = true
                state.watch.interruptions += 1
                state.watch.since = Date()
                Self.emit(.interrupted(node: node, error: error), &state)
            }
            guard state.staleSince == nil else { return }
            state.staleSince = Date()
            Self.publish(&state)
        }
    }

    private static func emit(_ change: InstanceChange, _ state: inout State) {
        for listener in state.changeListeners.values { listener.yield(change) }
    }

    private static func emit(_ event: CacheWatchEvent, _ state: inout State) {
        for listener in state.watchListeners.values { listener.yield(event) }
    }

    private static func publish(_ state: inout State) {
        guard state.isReady else { return }
        let snapshot = state.snapshot
        for listener in state.listeners.values { listener.yield(snapshot) }
    }
}

extension RosterClient {
    /// `error` as a `RosterClientError` (anything else is reported as `.unavailable`).
    static func wrapped(_ error: any Error) -> RosterClientError {
        if let error = error as? RosterClientError { return error }
        return RosterClientError(.unavailable, "\(error)", cause: error)
    }
}
