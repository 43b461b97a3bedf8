import Raft
import Registry
import RosterNode

// MARK: - Liveness

extension Simulator {
    /// Heals everything, restarts every node and stops the clients; then requires that, within
    /// `livenessSteps`, a leader acknowledges a new write and every member applies it (and every
    /// acknowledged write), and that every lease of the now silent holders ends within the bound of
    /// `LeaseKeeper`: TTL + election grace + checkpoint lag + commit latency after the later of the
    /// clients stopping and the current leader taking over.
    mutating func runLiveness() throws(Violation) {
        trace?("t\(now) liveness phase: heal, calm, restart every node, clients stop")
        isFaulty = false
        network.heal()
        network.calm()
        for id in order where nodes[id].isUp {
            nodes[id].box.driver.environment.crashBeforePersistPerTenThousand = 0
            nodes[id].box.driver.environment.backgroundWriteMaxMilliseconds = backgroundWriteMaxMilliseconds
        }
        for id in order where !nodes[id].isUp { try restart(id) }
        let stoppedAt = nowMilliseconds
        var marker: RequestID?
        var converged = false
        for _ in 0..<options.livenessSteps {
            try advanceTime()
            if let request = marker, let waiting = clients.pending[request], nowMilliseconds > waiting.sentAt + 2_000 {
                // Appended by a leader that lost its term, and nothing else writes to reach its index: a
                // client times out and writes again.
                clients.pending[request] = nil
                if nodes[waiting.node].isUp { nodes[waiting.node].box.driver.cancel(request) }
            }
            if markerAcknowledged == nil, marker.map({ clients.pending[$0] == nil }) ?? true, let leader = currentLeader {
                // First write, or the last one was answered without applying (a leader change): write again.
                marker = RequestID(clients.nextRequest)
                try submit(.write(.put(PutRequest(key: Array("marker".utf8), value: []))), to: leader, purpose: .marker)
            }
            if !converged, let target = markerAcknowledged, hasConverged(through: max(target, nodeChecker.highestAcknowledged)) {
                converged = true
                trace?("t\(now) converged: every member applied through revision \(target) and allows local reads")
                try checkWatchesComplete()
            }
            if converged, try leasesEnded(since: stoppedAt) { return }
        }
        let summary = order.map { "\(name($0)): " + (nodes[$0].isUp ? "\(nodes[$0].box.driver.raft.status)" : "down") }
        let what = converged ? "leases of silent holders did not end" : "no convergence"
        throw checker.violation("liveness", named("\(what) within \(options.livenessSteps) healed steps: \(summary)"))
    }

    /// Whether every member of the leader's configuration is up, has applied through `revision`, and
    /// allows local reads (a restarted node's fence must lift once a leader is reachable).
    func hasConverged(through revision: Revision) -> Bool {
        guard let leader = currentLeader else { return false }
        return nodes[leader].box.driver.raft.configuration.members.allSatisfy { member in
            nodes.contains(member) && nodes[member].isUp && nodes[member].box.driver.registry.revision >= revision
                && nodes[member].box.driver.raft.allowsLocalReads
        }
    }

    /// Whether the leader's registry holds no lease any more; throws once the bound has passed.
    mutating func leasesEnded(since stoppedAt: UInt64) throws(Violation) -> Bool {
        // Without check-quorum a removed member's campaigns depose leader after leader (thesis §4.2.3),
        // and each new leader grants the election grace again: no bound to check.
        guard options.raft.checkQuorum else { return true }
        guard let leader = currentLeader, let since = leaderSince, since.id == leader, let readyAt = since.readyAt else { return false }
        let remaining = nodes[leader].box.driver.registry.leases()
        if remaining.isEmpty { return true }
        let electionTimeout = nodes[leader].box.driver.options.electionTimeoutMilliseconds
        // The leader's deadlines count from when it has applied the entries of earlier terms, and from the
        // grant or last renewal (acknowledged no earlier than applied); grace is two election timeouts; a
        // tick plus commit latency in a calm network stay under two more. Leases whose grant no client
        // heard of may have applied at any time, so they only have to end eventually.
        let start = max(stoppedAt, readyAt)
        let late = remaining.filter { lease in
            guard let acknowledged = nodeChecker.lastAcknowledgement(of: lease.id) else { return false }
            return nowMilliseconds > max(start, acknowledged.at) + acknowledged.ttlMilliseconds + 4 * electionTimeout + 1_000
        }
        guard late.isEmpty else {
            throw nodeChecker.violation(
                "lease expiry", "lease(s) \(late.map(\.id)) of silent holders still live past TTL + grace + lag + commit latency")
        }
        return false
    }
}

extension Simulator {
    /// Counts of what a run exercised.
    public struct Statistics: Sendable, CustomStringConvertible {
        public var acknowledgedWrites = 0
        public var servedReads = 0
        /// Serializable reads answered from a published view of a node's state (`LocalReadGate`).
        public var viewReads = 0
        /// Linearizable reads answered from a view after their read barrier passed (`NodeRequest.readBarrier`).
        public var barrierReads = 0
        public var keepAlives = 0
        /// Registrations with a lease (grant and register in one request) acknowledged.
        public var registrationsWithLease = 0
        public var expiredLeases = 0
        public var watchedEvents = 0
        public var crashes = 0
        public var elections = 0
        public var snapshotsInstalled = 0
        public var membershipChanges = 0
        public var transfers = 0
        public var partitions = 0
        public init() {}

        public mutating func add(_ other: Statistics) {
            acknowledgedWrites += other.acknowledgedWrites
            servedReads += other.servedReads
            viewReads += other.viewReads
            barrierReads += other.barrierReads
            keepAlives += other.keepAlives
            registrationsWithLease += other.registrationsWithLease
            expiredLeases += other.expiredLeases
            watchedEvents += other.watchedEvents
            crashes += other.crashes
            elections += other.elections
            snapshotsInstalled += other.snapshotsInstalled
            membershipChanges += other.membershipChanges
            transfers += other.transfers
            partitions += other.partitions
        }

        public var description: String {
            "elections:\(elections) acked:\(acknowledgedWrites) reads:\(servedReads) view-reads:\(viewReads) barrier-reads:\(barrierReads) keepalives:\(keepAlives) "
                + "leased-registrations:\(registrationsWithLease) expired:\(expiredLeases) "
                + "watched:\(watchedEvents) crashes:\(crashes) snapshots:\(snapshotsInstalled) membership:\(membershipChanges) "
                + "transfers:\(transfers) partitions:\(partitions)"
        }
    }
}
