import Posix
import Raft
import Registry
import RosterNode

/// The shell's side of the driver: inputs go in through `withDriver`, one Ready loop per loop
/// iteration runs in `flush`, and `carryOut` performs the `NodeEffects` it returns. The driver never
/// calls back into the shell, and the one shell call made inside the Ready loop (the environment's early
/// send to peers) reports link loss on a later loop turn (`PeerTransport.onPeerDown`), so no re-entrancy
/// guard or outbox is needed.
extension RosterServer {
    /// Gives the driver an input, and schedules the Ready loop for the end of this loop iteration so
    /// that everything queued in one iteration shares one Ready (and one fsync).
    @discardableResult
    func withDriver<Result>(_ body: (inout NodeDriver<ServerEnvironment>) -> Result) -> Result {
        defer { scheduleFlush() }
        return withDriverInPlace(body)
    }

    /// Lends the driver for reading as well as changing, without scheduling a Ready loop. Reading a computed
    /// property through `driver` copied the whole driver first (callgrind: `driver.status` twice per Ready loop,
    /// 2,600 instructions each under load); through an inout borrow the getter reads it in place.
    func withDriverInPlace<Result>(_ body: (inout NodeDriver<ServerEnvironment>) -> Result) -> Result {
        body(&driver)
    }

    func scheduleFlush() {
        guard !isFlushScheduled else { return }
        isFlushScheduled = true
        _ = loop.schedule(after: .zero) { [unowned self] in self.flush() }
    }

    /// One Ready loop for everything queued, then the effects it returned.
    ///
    /// First, what arrived while this loop iteration's events were handled (a follower's forwarded proposals, an
    /// I/O thread's relayed requests, acknowledgements) is taken in without waiting, so it shares this Ready's
    /// fsync instead of waiting for the next one behind it. Measured (2026-12-06, `scripts/bench --quick
    /// --baseline-bin`, alternating on fresh 3-member clusters): at 16 clients +6 % registrations through the
    /// leader (every round) and +5 % through all members; at 1 and 64 clients no change beyond the rounds' scatter.
    func flush() {
        loop.dispatchReadyEventsNow()
        isFlushScheduled = false
        let started = MonotonicClock.seconds()
        var fsyncs: [Double] = []
        let effects = withDriverInPlace { driver in
            let effects = driver.processReady()
            lastStatus = driver.status
            swap(&fsyncs, &driver.environment.fsyncSeconds)
            return effects
        }
        armLeaseTimer()
        for seconds in fsyncs { metrics.fsync.observe(seconds) }
        let processed = MonotonicClock.seconds()
        // Before this Ready's answers leave: an I/O loop must not answer a client's read from a view older than
        // a write that client was told about.
        noteLocalReadState()
        publishLocalReadsIfWanted()
        carryOut(effects)
        // The answers leave for the I/O threads now, not on the next loop turn.
        clientLoops?.flush()
        reportIfSlow(since: started, processed: processed, fsyncSeconds: fsyncs.reduce(0, +))
    }

    /// The storage's thread made background writes through `ticket` durable: their acknowledgements may leave, and
    /// their entries apply (`NodeDriver.persisted(ticket:)`).
    func backgroundWriteFinished(ticket: UInt64, fsyncSeconds: Double?) {
        if let fsyncSeconds { metrics.fsync.observe(fsyncSeconds) }
        withDriver { $0.persisted(ticket: ticket) }
    }

    /// A Ready loop long enough to cost the leader its followers (half an election timeout, during which this loop
    /// sent no heartbeat) is logged with where its time went, so an operator can tell a slow disk from a busy CPU.
    private func reportIfSlow(since started: Double, processed: Double, fsyncSeconds: Double) {
        let total = MonotonicClock.seconds() - started
        guard total * 1_000 >= Double(configuration.electionMilliseconds) / 2 else { return }
        reportedSlowFlush = true
        logger.warning(
            "slow Ready loop: no heartbeat could leave meanwhile",
            ["ms": "\(Int(total * 1_000))", "fsync_ms": "\(Int(fsyncSeconds * 1_000))",
             "ready_ms": "\(Int((processed - started) * 1_000))", "effects_ms": "\(Int((MonotonicClock.seconds() - processed) * 1_000))"])
    }

    /// Performs what the driver decided: sends to peers, member changes, watch events, answers.
    ///
    /// Who waits on what sets the order. A follower's Raft messages are acknowledgements that every write in the
    /// cluster waits for, so they leave first. A leader's are commit notices and heartbeats that no client waits
    /// for, while its answers (and its answers to forwarded requests) end a client's wait: those leave first, and
    /// its local answers are handed to the I/O loops before the notices are written. With one client writing
    /// through the leader, two peer writes no longer precede every answer. The exception, a notice that a
    /// follower's forwarded write waits on, has already left, before the leader applied
    /// (`NodeDriver.commitNoticesBeforeApply`).
    func carryOut(_ effects: NodeEffects) {
        var effects = effects
        let answersFirst = lastStatus.raft.role == .leader
        if answersFirst { transport.sendForwards(&effects) } else { transport.send(&effects) }
        if let members = effects.members { transport.update(members: members) }
        if registry.auth.revision != watchedAuthRevision {
            // Before this batch's events go out: a watch whose permission went away sees none of them.
            watchedAuthRevision = registry.auth.revision
            watchHub.endUnpermitted(registry: registry)
            for session in grpcSessions.values { session.grpc?.cancelUnpermittedWatches(registry: registry) }
        }
        publish(effects.changes)
        for (request, response) in effects.responses { complete(request, response) }
        if answersFirst {
            clientLoops?.flush()
            transport.send(&effects)
        }
        if let capture = effects.snapshotToWrite { writeSnapshot(capture) }
    }

    /// Has the loop report any other iteration as long as a slow Ready loop (timers, jobs, events), so every stall
    /// that could cost the leader its followers is in the log.
    func reportSlowIterations() {
        loop.slowIterationNanoseconds = UInt64(configuration.electionMilliseconds) * 1_000_000 / 2
        loop.onSlowIteration = { [unowned self] nanoseconds in
            guard !self.reportedSlowFlush else {
                self.reportedSlowFlush = false
                return
            }
            self.logger.warning("slow Raft loop iteration: no heartbeat could leave meanwhile", ["ms": "\(nanoseconds / 1_000_000)"])
        }
    }

    /// Wakes the leader at its next lease deadline rather than at the next tick, so an expired lease's
    /// instances go away within a commit latency of the TTL's end. One timer, moved earlier as needed;
    /// a wake-up that finds nothing due (a renewed lease) re-arms for the next deadline.
    func armLeaseTimer() {
        guard let due = withDriverInPlace({ $0.nextLeaseExpiryMilliseconds }) else { return }
        if let armed = leaseTimer {
            guard due < armed.at else { return }
            loop.cancel(armed.id)
        }
        let now = MonotonicClock.milliseconds()
        let delay = due > now ? due - now : 0
        let id = loop.schedule(after: .milliseconds(delay)) { [unowned self] in
            self.leaseTimer = nil
            self.withDriver { $0.proposeDueLeaseCommands() }
        }
        leaseTimer = (id, due)
    }

    /// Hands applied events to the watches (HTTP streams and etcd gRPC watches).
    func publish(_ changes: [RegistryChange]) {
        guard !changes.isEmpty else { return }
        let now = MonotonicClock.milliseconds()
        if changes.contains(where: { if case .replaced = $0 { true } else { false } }) {
            // A snapshot replaced the state: the batches may not follow on from what watchers have, and
            // the registry already holds all of them, so everyone reads from it instead.
            Heap.releaseFreePages()  // The whole previous state was just freed.
            watchHub.catchUpAll(registry: registry, now: now)
            for session in grpcSessions.values { session.grpc?.catchUpWatches(registry: registry) }
            return
        }
        let batches = changes.compactMap { change -> (events: [RegistryEvent], revision: Revision)? in
            if case .applied(let events, let revision) = change { (events, revision) } else { nil }
        }
        watchHub.publish(batches, now: now)
        for session in grpcSessions.values where session.grpc?.hasWatches == true {
            session.grpc?.publish(batches, registry: registry)
        }
    }

    // MARK: - Local reads

    /// Tells the I/O loops' local reads where the node stands now; see `LocalReads`.
    func noteLocalReadState() {
        guard let localReads = clientLoops?.localReads else { return }
        let key = LocalReadGate.Key(status: lastStatus, appliedIndex: registry.lastAppliedIndex, isShuttingDown: isShuttingDown)
        let contactAt = lastStatus.leaderContactAgeMilliseconds.map { MonotonicClock.milliseconds() &- $0 }
        localReads.noteState(key, authEnabled: registry.auth.isEnabled, leaderContactAtMilliseconds: contactAt)
    }

    /// Hands the I/O loops a view of the applied state if one of them asked for a newer one.
    func publishLocalReadsIfWanted() {
        guard let localReads = clientLoops?.localReads else { return }
        localReads.publishIfWanted(
            registry: registry, isLeader: lastStatus.raft.role == .leader, makeContext: { context },
            makeEtcdHeader: { etcdHeaderContext })
    }
}
