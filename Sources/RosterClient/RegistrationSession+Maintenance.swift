import Foundation

// MARK: - The instance gate

extension RegistrationSession {
    /// Runs `body` while no other write of instances runs: `register`, `deregister`, the drain, repairs and
    /// re-registrations take turns, first come first served.
    ///
    /// An actor alone does not serialise them, because it interleaves at every `await`. Without the gate:
    /// 1. a check decides to restore instance X (missing on the cluster) and sends `register(X, incarnation n+1)`;
    /// 2. while that is in flight, `deregister(X)` removes X from the session and sends a delete fenced at n;
    /// 3. the register lands first, so the delete is refused as stale and X stays registered on the live lease,
    ///    renewed forever, although the application was told it is deregistered.
    /// With the gate, step 2 waits until step 1 is done and then deletes incarnation n+1.
    func serialized<Result>(_ body: () async throws -> Result) async rethrows -> Result {
        if isGateHeld {
            await withCheckedContinuation { gateWaiters.append($0) }
        } else {
            isGateHeld = true
        }
        defer { releaseGate() }
        return try await body()
    }

    /// Hands the gate to the next waiter, or frees it.
    private func releaseGate() {
        if gateWaiters.isEmpty {
            isGateHeld = false
        } else {
            gateWaiters.removeFirst().resume()
        }
    }
}

// MARK: - Lease maintenance

extension RegistrationSession {
    /// The current lease, granting one (only once for concurrent callers) when there is none.
    func ensureLease() async throws -> LeaseID {
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

    func startKeeper() {
        guard keeper == nil else { return }
        switch schedule {
        case .timer:
            keeper = Task { [weak self] in
                while !Task.isCancelled {
                    guard let interval = await self?.nextInterval() else { return }
                    do {
                        try await Task.sleep(for: interval)
                    } catch {
                        return
                    }
                    await self?.maintain()
                }
            }
        case .manual(let rounds):
            keeper = Task { [weak self] in
                for await _ in rounds {
                    guard !Task.isCancelled, let self else { return }
                    await self.maintain()
                }
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
            try await renew(lease)
            roundsSinceCheck += 1
            if let failing = failingSince {
                failingSince = nil
                eventSink.yield(.recovered(after: failing.instant.duration(to: .now)))
                roundsSinceCheck = Self.roundsBetweenChecks
            }
            if roundsSinceCheck >= Self.roundsBetweenChecks {
                roundsSinceCheck = 0
                try await checkInstances()
            }
        } catch let error as RosterClientError where error.code == .leaseNotFound && !isShuttingDown {
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

    /// Whether the session is closing: errors from then on are the shutdown's doing, not failures.
    private var isShuttingDown: Bool { isClosed || Task.isCancelled }

    /// One keepalive.
    private func renew(_ lease: LeaseID) async throws {
        isRenewing = true
        defer { isRenewing = false }
        _ = try await client.keepAlive(lease, timeout: ttl / 3)
        renewals += 1
    }

    /// Anti-entropy: the lease may stay alive while an instance does not (deleted out of band), so read each
    /// instance and register the missing ones again with a higher incarnation, reporting them as `.repaired`.
    ///
    /// The read happens outside the instance gate, so `deregister` is never held up by a long check; the decision
    /// is taken under the gate and only for the very registration that was read (same generation). Without that:
    /// 1. the check copies the instance list and reads X from the cluster;
    /// 2. during the read the application calls `deregister(X)`, which removes X everywhere, so the read finds
    ///    nothing;
    /// 3. the check registers X again, puts it back in the session, and X is renewed forever.
    func checkInstances() async throws {
        var repaired: [ServiceInstance] = []
        var repairLease: LeaseID?
        defer {
            if let repairLease, !repaired.isEmpty { eventSink.yield(.repaired(repaired, lease: repairLease)) }
        }
        for key in instances.keys.sorted() {
            guard !isShuttingDown else { return }
            guard let owned = instances[key] else { continue }
            let instance = owned.instance
            await checkHook?(instance)
            let live = try await client.instance(
                service: instance.service, id: instance.id, namespace: instance.namespace)
            if let live, live.lease == instance.lease { continue }
            let restored = try await serialized { () async throws -> ServiceInstance? in
                // Deregistered, rewritten or closed while the read was in flight: not this check's to repair.
                guard !isClosed, instances[key]?.generation == owned.generation else { return nil }
                let lease = try await ensureLease()
                repairLease = lease
                return try await registerAgain(instance, lease: lease)
            }
            if let restored { repaired.append(restored) }
        }
    }

    /// Grants a new lease and registers every instance on it with a higher incarnation.
    private func reregisterAll(lostLease: LeaseID?) async throws {
        guard !instances.isEmpty else { return }
        let newLease = try await ensureLease()
        var done: [ServiceInstance] = []
        var isComplete = false
        defer {
            // A partial pass is reported too: every incarnation bump is named in an event.
            if isComplete || !done.isEmpty { eventSink.yield(.reregistered(done, lease: newLease)) }
        }
        for key in instances.keys.sorted() {
            let stored = try await serialized { () async throws -> ServiceInstance? in
                guard !isClosed, let owned = instances[key], owned.instance.lease != newLease else { return nil }
                return try await registerAgain(owned.instance, lease: newLease)
            }
            if let stored { done.append(stored) }
        }
        failingSince = nil
        isComplete = true
    }

    /// Registers one instance again with the next incarnation; nil when a newer incarnation superseded it.
    /// Runs under the instance gate.
    private func registerAgain(_ instance: ServiceInstance, lease: LeaseID) async throws -> ServiceInstance? {
        var next = instance
        next.incarnation += 1
        next.lease = lease
        do {
            let stored = try await client.register(next).instance
            own(stored)
            return stored
        } catch let error as RosterClientError where error.code == .staleIncarnation {
            instances.removeValue(forKey: instance.key)
            eventSink.yield(.superseded(instance))
            return nil
        }
    }

    /// Reports the start of a failure streak, unless the error is the session's own shutdown (a keepalive that
    /// `close` cancelled is not a failure).
    private func markFailing(_ error: any Error) {
        guard failingSince == nil, !isShuttingDown else { return }
        let now = (Date(), ContinuousClock.now)
        failingSince = now
        eventSink.yield(.failing(since: now.0, error: Self.wrap(error)))
    }
}
