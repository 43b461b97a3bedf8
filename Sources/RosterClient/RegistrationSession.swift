import Foundation

/// Something a registration session reports, in order, so the application can log it or alert on it.
public enum SessionEvent: Sendable {
    /// The session holds a new lease.
    case leaseGranted(LeaseID, ttlMilliseconds: Int64)
    /// An instance is registered (first time, or after an update of its description).
    case registered(ServiceInstance)
    /// The cluster no longer knows the lease (it expired during an outage, or was revoked).
    case leaseLost(LeaseID)
    /// Every instance was registered again on a new lease with a higher incarnation.
    case reregistered([ServiceInstance], lease: LeaseID)
    /// Keepalives have been failing since `since`; the session keeps trying and re-registers once it can.
    case failing(since: Date, error: RosterClientError)
    /// Keepalives work again after failing.
    case recovered(after: Duration)
    /// A newer incarnation of this instance is registered elsewhere; the session stops maintaining it.
    case superseded(ServiceInstance)
    /// An instance was removed on request.
    case deregistered(ServiceInstance)
    /// The session was closed; nothing is maintained any more.
    case closed
}

/// Registers service instances and keeps them registered for as long as the session is open.
///
/// The session holds one lease for all its instances and renews it every third of the TTL, so two renewals can
/// fail before the lease is at risk. It never gives up: while keepalives fail it reports `.failing` and retries
/// faster; when the cluster answers that the lease is gone (an outage longer than the TTL, a revoke), it grants a
/// new lease and registers every instance again with a higher incarnation, so a stale copy (a delayed retry, an
/// old process) can never overwrite the new registration. This is the failure that leaves services of other
/// registries silently unregistered until a restart.
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
    private let eventSink: AsyncStream<SessionEvent>.Continuation

    private var lease: LeaseID?
    private var leaseGrant: Task<LeaseGrant, any Error>?
    /// Maintained instances by key, with the incarnation last written.
    private var instances: [String: ServiceInstance] = [:]
    private var keeper: Task<Void, Never>?
    private var failingSince: (date: Date, instant: ContinuousClock.Instant)?
    private var isClosed = false
    /// Keepalive rounds since the last check that every instance is still registered.
    private var roundsSinceCheck = 0
    /// Check the instances every this many rounds (about once per TTL × 3): anti-entropy against an out-of-band
    /// deregistration, which a lease that stays alive would never reveal.
    private static let roundsBetweenChecks = 9
    /// The first incarnation for instances registered without one: the session's start time in milliseconds, so a
    /// restarted process supersedes whatever its predecessor left behind.
    private let incarnationBase: UInt64

    /// Creates a session; nothing is granted until the first `register`.
    /// - Parameters:
    ///   - ttl: How long the cluster keeps the instances after the process stops renewing (at least 1.5 × the
    ///     election timeout; 10–30 s is typical).
    ///   - eventBuffer: How many unread events are kept (the newest).
    public init(client: RosterClient, ttl: Duration = .seconds(10), eventBuffer: Int = 256) {
        self.client = client
        self.ttl = ttl
        (events, eventSink) = AsyncStream.makeStream(
            of: SessionEvent.self, bufferingPolicy: .bufferingNewest(eventBuffer))
        incarnationBase = UInt64(max(1, Date().timeIntervalSince1970 * 1000))
    }

    /// The lease the session currently holds.
    public var currentLease: LeaseID? { lease }

    /// The instances the session maintains, as last written.
    public var registeredInstances: [ServiceInstance] { instances.values.sorted { $0.key < $1.key } }

    /// Since when keepalives have been failing, if they are.
    public var failingSinceDate: Date? { failingSince?.date }

    /// Registers `instance` on the session's lease and keeps it registered until `deregister`, `drain` or `close`.
    ///
    /// An instance with incarnation 0 gets the session's (start-time based) incarnation.
    /// - Returns: The instance as stored.
    /// - Throws: `.staleIncarnation` when a newer incarnation is registered; `.unavailable`/`.timedOut` when the
    ///   cluster cannot be reached within the call timeout (the session does not keep an instance it could not
    ///   register the first time; retry the call).
    @discardableResult
    public func register(_ instance: ServiceInstance) async throws -> ServiceInstance {
        guard !isClosed else { throw RosterClientError(.closed, "the registration session is closed") }
        var instance = instance
        if instance.incarnation == 0 { instance.incarnation = incarnationBase }
        if let existing = instances[instance.key] {
            instance.incarnation = max(instance.incarnation, existing.incarnation)
        }
        let lease = try await ensureLease()
        instance.lease = lease
        let stored = try await client.register(instance).instance
        instances[stored.key] = stored
        eventSink.yield(.registered(stored))
        startKeeper()
        return stored
    }

    /// Stops maintaining and removes an instance (fenced by its incarnation).
    public func deregister(service: String, id: String, namespace: String = "default") async throws {
        let key = "\(namespace)/\(service)/\(id)"
        guard let instance = instances.removeValue(forKey: key) else {
            try await client.deregister(service: service, id: id, namespace: namespace)
            return
        }
        try await client.deregister(
            service: service, id: id, namespace: namespace, incarnation: instance.incarnation)
        eventSink.yield(.deregistered(instance))
    }

    /// Removes an instance this session registered.
    public func deregister(_ instance: ServiceInstance) async throws {
        try await deregister(service: instance.service, id: instance.id, namespace: instance.namespace)
    }

    /// Graceful drain: marks every instance `draining` (consumers stop sending new work), waits `grace` for
    /// in-flight work and caches to catch up, then deregisters everything and closes the session.
    public func drain(grace: Duration) async throws {
        for instance in instances.values {
            let updated = try await client.update(
                service: instance.service, id: instance.id, namespace: instance.namespace,
                incarnation: instance.incarnation, status: .draining)
            instances[updated.key] = updated
        }
        do {
            try await Task.sleep(for: grace)
        } catch {
            throw RosterClientError(.cancelled, "drain was cancelled during its grace period", cause: error)
        }
        for instance in registeredInstances { try await deregister(instance) }
        await close()
    }

    /// Stops renewing and revokes the lease (removing any instance still attached), then ends `events`.
    public func close() async {
        guard !isClosed else { return }
        isClosed = true
        keeper?.cancel()
        keeper = nil
        if let lease {
            do {
                try await client.revokeLease(lease, timeout: .seconds(3))
            } catch {
                // The lease expires by itself within the TTL; nothing more to do.
                eventSink.yield(.failing(since: Date(), error: Self.wrap(error)))
            }
        }
        lease = nil
        instances.removeAll()
        eventSink.yield(.closed)
        eventSink.finish()
    }

    // MARK: - Lease maintenance

    /// The current lease, granting one (only once for concurrent callers) when there is none.
    private func ensureLease() async throws -> LeaseID {
        if let lease { return lease }
        if let leaseGrant { return try await leaseGrant.value.id }
        let client = self.client
        let ttl = self.ttl
        let task = Task { try await client.grantLease(ttl: ttl) }
        leaseGrant = task
        defer { leaseGrant = nil }
        let granted = try await task.value
        lease = granted.id
        eventSink.yield(.leaseGranted(granted.id, ttlMilliseconds: granted.ttlMilliseconds))
        return granted.id
    }

    private func startKeeper() {
        guard keeper == nil else { return }
        keeper = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                let interval = await self.nextInterval()
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                await self.maintain()
            }
        }
    }

    /// A third of the TTL normally; faster while failing, so recovery is noticed promptly.
    private func nextInterval() -> Duration {
        let third = ttl / 3
        return failingSince == nil ? third : min(third, .milliseconds(500))
    }

    /// One keepalive round: renew, or re-grant and re-register when the lease is gone.
    func maintain() async {
        guard !isClosed else { return }
        do {
            guard let lease else {
                try await reregisterAll(lostLease: nil)
                return
            }
            try await client.keepAlive(lease, timeout: ttl / 3)
            roundsSinceCheck += 1
            if let failing = failingSince {
                failingSince = nil
                eventSink.yield(.recovered(after: failing.instant.duration(to: .now)))
                roundsSinceCheck = Self.roundsBetweenChecks
            }
            if roundsSinceCheck >= Self.roundsBetweenChecks {
                roundsSinceCheck = 0
                try await verifyInstances()
            }
        } catch let error as RosterClientError where error.code == .leaseNotFound {
            let lost = lease
            lease = nil
            if let lost { eventSink.yield(.leaseLost(lost)) }
            do {
                try await reregisterAll(lostLease: lost)
            } catch {
                markFailing(error)
            }
        } catch {
            markFailing(error)
        }
    }

    /// After an outage the lease may have survived while an instance did not (deregistered out of band): check
    /// each one and register the missing ones again.
    private func verifyInstances() async throws {
        for instance in registeredInstances {
            let live = try await client.instance(
                service: instance.service, id: instance.id, namespace: instance.namespace)
            if live == nil || live?.lease != instance.lease {
                try await registerAgain(instance, lease: try await ensureLease())
            }
        }
    }

    /// Grants a new lease and registers every instance on it with a higher incarnation.
    private func reregisterAll(lostLease: LeaseID?) async throws {
        guard !instances.isEmpty else { return }
        let newLease = try await ensureLease()
        var done: [ServiceInstance] = []
        for instance in registeredInstances {
            if let stored = try await registerAgain(instance, lease: newLease) { done.append(stored) }
        }
        if failingSince != nil { failingSince = nil }
        eventSink.yield(.reregistered(done, lease: newLease))
    }

    /// Registers one instance again with the next incarnation; nil when a newer incarnation superseded it.
    @discardableResult
    private func registerAgain(_ instance: ServiceInstance, lease: LeaseID) async throws -> ServiceInstance? {
        var next = instance
        next.incarnation += 1
        next.lease = lease
        do {
            let stored = try await client.register(next).instance
            instances[stored.key] = stored
            return stored
        } catch let error as RosterClientError where error.code == .staleIncarnation {
            instances.removeValue(forKey: instance.key)
            eventSink.yield(.superseded(instance))
            return nil
        }
    }

    private func markFailing(_ error: any Error) {
        guard failingSince == nil else { return }
        let now = (Date(), ContinuousClock.now)
        failingSince = now
        eventSink.yield(.failing(since: now.0, error: Self.wrap(error)))
    }

    static func wrap(_ error: any Error) -> RosterClientError {
        if let error = error as? RosterClientError { return error }
        return RosterClientError(.unavailable, "\(error)")
    }
}
