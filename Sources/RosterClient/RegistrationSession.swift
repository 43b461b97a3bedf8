import Foundation

/// Registers service instances and keeps them registered for as long as the session is open.
///
/// The session holds one lease for all its instances and renews it every third of the TTL, so two renewals can
/// fail before the lease is at risk. It never gives up: while keepalives fail it reports `.failing` and retries
/// faster; when the cluster answers that the lease is gone (an outage longer than the TTL, a revoke), it grants a
/// new lease and registers every instance again with a higher incarnation, so a stale copy (a delayed retry, an
/// old process) can never overwrite the new registration. This is the failure that leaves services of other
/// registries silently unregistered until a restart.
///
/// Every write of an instance (`register`, `deregister`, the drain, the periodic check, re-registration) runs one
/// at a time, and the session's own writes act only on the registration they started from. So an instance the
/// application deregistered stays deregistered, whatever check was in flight (see `checkInstances`).
///
/// Call `close()` (or `drain`) when the service stops: the session's renewal task keeps the session alive until then,
/// and the lease keeps the instances registered until it expires.
///
/// This is the `Registrar` of go-kratos (`Register`/`Deregister`) with its keepalive made explicit and
/// observable through `events`.
public actor RegistrationSession {
    /// The client the session talks through.
    public nonisolated let client: RosterClient
    /// The lease TTL.
    public nonisolated let ttl: Duration
    /// Session events, newest kept when the application does not read them (bounded).
    public nonisolated let events: AsyncStream<SessionEvent>
    let eventSink: AsyncStream<SessionEvent>.Continuation
    /// When maintenance rounds run.
    let schedule: KeeperSchedule

    var lease: LeaseID?
    var leaseGrant: Task<LeaseGrant, any Error>?
    /// Maintained instances by key, with the incarnation last written.
    var instances: [String: OwnedInstance] = [:]
    /// The generation the next write of an instance gets.
    var nextGeneration: UInt64 = 1
    var keeper: Task<Void, Never>?
    var failingSince: (date: Date, instant: ContinuousClock.Instant)?
    var isClosed = false
    /// Whether a writer holds the instance gate (see `serialized`).
    var isGateHeld = false
    /// Writers waiting for the instance gate, first come first served.
    var gateWaiters: [CheckedContinuation<Void, Never>] = []
    /// Keepalive rounds since the last check that every instance is still registered.
    var roundsSinceCheck = 0
    /// Successful keepalives so far (tests wait on it instead of sleeping).
    var renewals = 0
    /// Whether a keepalive is on the wire now (tests wait on it to interrupt one).
    var isRenewing = false
    /// Called with each instance just before the check reads it from the cluster (tests interleave writes here).
    var checkHook: (@Sendable (ServiceInstance) async -> Void)?
    /// Check the instances every this many rounds (about once per TTL × 3): anti-entropy against an out-of-band
    /// deregistration, which a lease that stays alive would never reveal.
    static let roundsBetweenChecks = 9
    /// The first incarnation for instances registered without one: the session's start time in milliseconds, so a
    /// restarted process supersedes whatever its predecessor left behind.
    let incarnationBase: UInt64

    /// Creates a session; nothing is granted until the first `register`.
    /// - Parameters:
    ///   - ttl: How long the cluster keeps the instances after the process stops renewing (at least 1.5 × the
    ///     election timeout; 10–30 s is typical).
    ///   - eventBuffer: How many unread events are kept (the newest).
    public init(client: RosterClient, ttl: Duration = .seconds(10), eventBuffer: Int = 256) {
        self.init(client: client, ttl: ttl, eventBuffer: eventBuffer, schedule: .timer)
    }

    /// Creates a session whose maintenance rounds run on `schedule` (tests drive them by hand).
    init(client: RosterClient, ttl: Duration, eventBuffer: Int = 256, schedule: KeeperSchedule) {
        self.client = client
        self.ttl = ttl
        self.schedule = schedule
        (events, eventSink) = AsyncStream.makeStream(
            of: SessionEvent.self, bufferingPolicy: .bufferingNewest(eventBuffer))
        incarnationBase = UInt64(max(1, Date().timeIntervalSince1970 * 1000))
    }

    /// The lease the session currently holds.
    public var currentLease: LeaseID? { lease }

    /// The instances the session maintains, as last written.
    public var registeredInstances: [ServiceInstance] { instances.values.map(\.instance).sorted { $0.key < $1.key } }

    /// Since when keepalives have been failing, if they are.
    public var failingSinceDate: Date? { failingSince?.date }

    /// Registers `instance` on the session's lease and keeps it registered until `deregister`, `drain` or `close`.
    ///
    /// An instance with incarnation 0 gets the session's (start-time based) incarnation.
    /// - Returns: The instance as stored.
    /// - Throws: `.staleIncarnation` when a newer incarnation is registered; `.unavailable`/`.timedOut` when the
    ///   cluster cannot be reached within the call timeout (the session does not keep an instance it could not
    ///   register the first time; retry the call); `.closed` after `close`.
    @discardableResult
    public func register(_ instance: ServiceInstance) async throws -> ServiceInstance {
        try await serialized {
            guard !isClosed else { throw RosterClientError(.closed, "the registration session is closed") }
            var instance = instance
            if instance.incarnation == 0 { instance.incarnation = incarnationBase }
            if let existing = instances[instance.key] {
                instance.incarnation = max(instance.incarnation, existing.instance.incarnation)
            }
            instance.lease = try await ensureLease()
            let stored = try await client.register(instance).instance
            own(stored)
            eventSink.yield(.registered(stored))
            startKeeper()
            return stored
        }
    }

    /// Stops maintaining and removes an instance (fenced by its incarnation).
    ///
    /// Once this returns, the session never registers the instance again, even if a periodic check was reading it
    /// at that moment. An instance already gone from the cluster counts as removed.
    /// - Throws: `.staleIncarnation` when a newer incarnation, registered elsewhere, replaced it (the session stops
    ///   maintaining it); `.unavailable`/`.timedOut` when the cluster could not be reached: the instance is then
    ///   still maintained, so call again.
    public func deregister(service: String, id: String, namespace: String = "default") async throws {
        let key = "\(namespace)/\(service)/\(id)"
        try await serialized {
            guard let owned = instances.removeValue(forKey: key) else {
                try await client.deregister(service: service, id: id, namespace: namespace)
                return
            }
            do {
                try await client.deregister(
                    service: service, id: id, namespace: namespace, incarnation: owned.instance.incarnation)
            } catch let error as RosterClientError where error.code == .instanceNotFound {
                // Already gone (deleted out of band, or an earlier attempt whose answer was lost): removed.
            } catch let error as RosterClientError where error.isRejection {
                throw error
            } catch {
                // The outcome is unknown: keep maintaining it, so the instance neither lingers unmaintained on a
                // live lease nor disappears without the application knowing; a retry settles it.
                if !isClosed { instances[key] = owned }
                throw error
            }
            eventSink.yield(.deregistered(owned.instance))
        }
    }

    /// Removes an instance this session registered.
    public func deregister(_ instance: ServiceInstance) async throws {
        try await deregister(service: instance.service, id: instance.id, namespace: instance.namespace)
    }

    /// Graceful drain: marks every instance `draining` (consumers stop sending new work), waits `grace` for
    /// in-flight work and caches to catch up, then deregisters everything and closes the session.
    /// - Throws: `.cancelled` when the calling task is cancelled during the grace period (the instances stay
    ///   registered and draining); the errors of `update` and `deregister`.
    public func drain(grace: Duration) async throws {
        try await drain {
            do {
                try await Task.sleep(for: grace)
            } catch {
                throw RosterClientError(.cancelled, "drain was cancelled during its grace period", cause: error)
            }
        }
    }

    /// `drain(grace:)` with the grace period given as a wait (tests end it on a condition instead of a clock).
    func drain(afterGrace grace: @Sendable () async throws -> Void) async throws {
        var marked: [ServiceInstance] = []
        for key in instances.keys.sorted() {
            let updated = try await serialized { () async throws -> ServiceInstance? in
                guard let owned = instances[key] else { return nil }
                let instance = owned.instance
                let updated = try await client.update(
                    service: instance.service, id: instance.id, namespace: instance.namespace,
                    incarnation: instance.incarnation, status: .draining)
                own(updated)
                return updated
            }
            if let updated { marked.append(updated) }
        }
        eventSink.yield(.draining(marked))
        try await grace()
        for key in instances.keys.sorted() {
            guard let owned = instances[key] else { continue }
            try await deregister(owned.instance)
        }
        await close()
    }

    /// Stops renewing and revokes the lease (removing any instance still attached), then ends `events`.
    ///
    /// A write in flight (a `register` of another task, a repair) finishes first; a keepalive in flight is
    /// cancelled, which is not reported as `.failing`.
    public func close() async {
        guard !isClosed else { return }
        isClosed = true
        keeper?.cancel()
        keeper = nil
        await serialized {
            if let lease {
                do {
                    try await client.revokeLease(lease, timeout: .seconds(3))
                } catch {
                    eventSink.yield(.leaseNotRevoked(lease, error: Self.wrap(error)))
                }
            }
            lease = nil
            instances.removeAll()
        }
        eventSink.yield(.closed)
        eventSink.finish()
    }

    /// Records `instance` as the session's latest write of its key, under a new generation.
    func own(_ instance: ServiceInstance) {
        instances[instance.key] = OwnedInstance(instance: instance, generation: nextGeneration)
        nextGeneration += 1
    }

    /// Installs the test hook the check calls before each read.
    func setCheckHook(_ hook: (@Sendable (ServiceInstance) async -> Void)?) { checkHook = hook }

    static func wrap(_ error: any Error) -> RosterClientError {
        if let error = error as? RosterClientError { return error }
        return RosterClientError(.unavailable, "\(error)")
    }
}

/// One instance a session maintains.
struct OwnedInstance: Sendable {
    /// The instance as last written.
    var instance: ServiceInstance
    /// Which write of the key this is; a check acts only if it is unchanged since the check read the instance.
    var generation: UInt64
}

/// When a session runs its maintenance rounds.
enum KeeperSchedule: Sendable {
    /// Every third of the TTL (faster while failing).
    case timer
    /// One round per element: tests run rounds at chosen points instead of waiting for a clock.
    case manual(AsyncStream<Void>)
}
