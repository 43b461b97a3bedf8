import Raft
import Registry
import RosterNode

// MARK: - The client population

extension Simulator {
    /// One step of client work: each lease holder's next move, then maybe a write, a read, a watch.
    mutating func clientRequests() throws(Violation) {
        for holder in clients.holders.indices { try act(holder) }
        if Int(random.next() % 100) < options.proposePercent, let target = pick(liveIDs) {
            let write: RegistryCommand
            if random.next() % 12 == 0 {
                write = .compact(Revision(max(0, nodeChecker.highestAcknowledged.rawValue - Int64(random.next() % 30))))
            } else {
                let value = (0..<4).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                write = .put(PutRequest(key: Array("k\(random.next() % 8)".utf8), value: value))
            }
            try submit(.write(write), to: target, purpose: .write)
        }
        if Int(random.next() % 100) < options.readPercent, let target = pick(liveIDs) {
            let consistency: Consistency = random.next() % 3 == 0 ? .serializable : .linearizable
            let query: RegistryQuery = random.next() % 2 == 0 ? .instances(namespace: "sim", service: "svc0") : .range(RangeRequest(.prefix([])))
            try submit(.read(query, ReadOptions(consistency: consistency)), to: target, purpose: .read(mustSee: nodeChecker.highestAcknowledged))
        }
        if random.next() % 200 == 0, let target = pick(liveIDs.filter { nodes[$0].watch == nil }) {
            try openWatch(on: target)
        }
    }

    /// A lease holder's next move: grant, register, renew, or stop (deregistering or going silent).
    mutating func act(_ index: Int) throws(Violation) {
        let holder = clients.holders[index]
        let time = nowMilliseconds
        if let request = holder.pending {
            guard time > holder.pendingSince + 4_000 else { return }
            // Timed out, as a client would: cancel and carry on.
            if let waiting = clients.pending.removeValue(forKey: request), nodes[waiting.node].isUp == true {
                nodes[waiting.node].box.driver.cancel(request)
            }
            clients.holders[index].pending = nil
            return
        }
        if holder.node.map({ !nodes[$0].isUp }) ?? true { clients.holders[index].node = pick(liveIDs) }
        guard let target = clients.holders[index].node else { return }
        guard let lease = holder.lease else {
            let minimum = nodes[target].box.driver.options.registryLimits.minimumTTLMilliseconds
            let ttl = minimum * Int64(1 + random.next() % 3)
            clients.holders[index].ttlMilliseconds = ttl
            try submit(.write(.grantLease(id: nil, ttlMilliseconds: ttl, grantedAtMilliseconds: 0)), to: target, purpose: .grant(holder: index))
            return
        }
        if !holder.isRegistered {
            let name = holder.instance
            let instance = ServiceInstance(
                namespace: name.namespace, service: name.service, id: name.id, endpoints: ["sim://\(holder.serial)"], lease: lease, incarnation: 1)
            try submit(.write(.registerInstance(instance)), to: target, purpose: .register(holder: index))
        } else if time >= holder.stopsAt {
            if random.next() % 2 == 0 {
                trace?("t\(now) holder h\(holder.serial) goes silent")
                clients.replace(index)
            } else {
                try submit(.write(.deregisterInstance(holder.instance, incarnation: 1)), to: target, purpose: .deregister(holder: index))
            }
        } else if time >= holder.nextRenewalAt {
            clients.holders[index].nextRenewalAt = time + UInt64(holder.ttlMilliseconds / 3)
            // A renewal moves the deadline to now + TTL, which may be before the grace floor.
            leaseFloors[lease] = nil
            try submit(.keepAlive(lease), to: target, purpose: .keepAlive(holder: index, lease))
        }
    }

    mutating func submit(_ request: NodeRequest, to node: NodeID, purpose: SimClients.Purpose) throws(Violation) {
        let id = clients.makeRequestID()
        clients.pending[id] = SimClients.Pending(purpose: purpose, node: node, sentAt: nowMilliseconds)
        switch purpose {
        case .grant(let holder), .register(let holder), .keepAlive(let holder, _), .deregister(let holder):
            clients.holders[holder].pending = id
            clients.holders[holder].pendingSince = nowMilliseconds
        case .write, .read, .admin, .marker:
            break
        }
        try input(node) { $0.submit(request, id: id) }
    }

    /// Checks an answer and moves its client on.
    mutating func answered(_ request: RequestID, _ response: NodeResponse, on node: NodeID) throws(Violation) {
        guard let waiting = clients.pending.removeValue(forKey: request) else { return }
        clients.release(request, purpose: waiting.purpose)
        if case .written(let applied) = response {
            try nodeChecker.acknowledge(applied, from: node)
            statistics.acknowledgedWrites += 1
        }
        switch (waiting.purpose, response) {
        case (.grant(let holder), .written(let applied)):
            guard case .leaseGranted(let lease, let ttl) = applied.response else { return }
            try nodeChecker.leaseAcknowledged(lease, ttlMilliseconds: ttl, sentAt: waiting.sentAt, at: nowMilliseconds)
            clients.holders[holder].lease = lease
            clients.holders[holder].nextRenewalAt = nowMilliseconds + UInt64(ttl / 3)
            clients.holders[holder].stopsAt = nowMilliseconds + UInt64(ttl) * (1 + random.next() % 6)
        case (.register(let holder), .written):
            clients.holders[holder].isRegistered = true
        case (.register(let holder), .rejected), (.deregister(let holder), .written), (.deregister(let holder), .rejected):
            clients.replace(holder)
        case (.keepAlive(_, let lease), .keptAlive(_, let ttl)):
            statistics.keepAlives += 1
            try nodeChecker.leaseAcknowledged(lease, ttlMilliseconds: ttl, sentAt: waiting.sentAt, at: nowMilliseconds)
        case (.keepAlive(let holder, let lease), .rejected):
            // The lease ended (its holder could not renew in time): start over.
            trace?("t\(now) holder h\(clients.holders[holder].serial) finds lease \(lease) gone")
            if clients.holders[holder].lease == lease { clients.replace(holder) }
        case (.keepAlive(let holder, _), .failed):
            clients.holders[holder].nextRenewalAt = nowMilliseconds
        case (.read(let mustSee), .read(_, let context)):
            statistics.servedReads += 1
            try nodeChecker.checkRead(on: node, context: context, mustSee: mustSee, fence: nodes[node].revisionFence)
        case (.marker, .written(let applied)):
            markerAcknowledged = applied.revision
        case (.admin, .admin(.membershipChanged)):
            statistics.membershipChanges += 1
        default:
            break
        }
    }

    // MARK: - Watches

    /// Opens a watch of every key on `node` from a revision it has applied.
    mutating func openWatch(on node: NodeID) throws(Violation) {
        let revision = nodes[node].box.driver.registry.revision
        let from = Revision(Int64(random.next() % UInt64(revision.rawValue + 1)))
        nodes[node].watch = SimWatch(from: from, delivered: from)
        trace?("t\(now) watch \(name(node)) from \(from) (at \(revision))")
        try catchUp(node)
    }

    /// Reads a watch forward from the registry's history (a new watch, or one whose node installed a
    /// snapshot); a compacted start resyncs the watch at the current revision.
    mutating func catchUp(_ node: NodeID) throws(Violation) {
        guard var watch = nodes[node].watch, nodes[node].isUp else { return }
        let registry = nodes[node].box.driver.registry
        while watch.delivered < registry.revision {
            let batch: WatchBatch
            do {
                batch = try registry.events(after: watch.delivered, matching: .all)
            } catch {
                throw nodeChecker.violation("watch", "node \(name(node)) refused a watch from \(watch.delivered): \(error)")
            }
            switch batch {
            case .resync(_, let revision):
                watch = SimWatch(from: revision, delivered: revision)
            case .events(let events, let through):
                var position = 0
                while position < events.count {
                    let revision = events[position].revision
                    let end = events[position...].firstIndex { $0.revision != revision } ?? events.count
                    try deliver(Array(events[position..<end]), at: revision, to: &watch, on: node)
                    position = end
                }
                watch.delivered = through
            }
        }
        nodes[node].watch = watch
    }

    mutating func deliver(_ events: [RegistryEvent], at revision: Revision, to watch: inout SimWatch, on node: NodeID) throws(Violation) {
        guard revision > watch.delivered else {
            throw nodeChecker.violation("watch order", "node \(name(node)) delivered revision \(revision) after \(watch.delivered)")
        }
        guard nodeChecker.watchableAt[revision] == NodeChecker.digest(events) else {
            throw nodeChecker.violation("watch history", "node \(name(node)) delivered other events at revision \(revision) than were applied")
        }
        watch.delivered = revision
        watch.deliveredRevisions.append(revision)
        statistics.watchedEvents += events.count
    }

    /// What a node published while applying: canonical history, lease expiries, and its watch.
    mutating func notify(_ node: NodeID, _ notifications: [SimEnvironment.Notification]) throws(Violation) {
        var resynced = false
        for notification in notifications {
            switch notification {
            case .events(let events, let revision):
                try nodeChecker.recordEvents(events, at: revision, on: node)
                for event in events where event.cause == .leaseExpired {
                    guard let lease = event.previous?.lease else { continue }
                    statistics.expiredLeases += 1
                    if try nodeChecker.leaseExpired(lease, at: nowMilliseconds) { try checkGrace(lease, expiredOn: node) }
                }
                let watchable = NodeChecker.watchable(events)
                guard !watchable.isEmpty, var watch = nodes[node].watch, !(resynced && revision <= watch.delivered) else { continue }
                try deliver(watchable, at: revision, to: &watch, on: node)
                nodes[node].watch = watch
            case .replaced(let revision):
                trace?("t\(now) \(name(node)) installed a snapshot at \(revision)")
                resynced = true
                try catchUp(node)
            }
        }
    }

    /// A leader that has applied the entries of earlier terms (so the expiry is its own) expires no
    /// lease before the floor it found on taking over.
    func checkGrace(_ lease: LeaseID, expiredOn node: NodeID) throws(Violation) {
        guard let since = leaderSince, since.id == node, since.readyAt != nil, let floor = leaseFloors[lease] else { return }
        guard nowMilliseconds >= floor else {
            throw nodeChecker.violation(
                "lease grace", "leader \(name(node)) of term \(since.term) expired lease \(lease) \(floor - nowMilliseconds) ms before "
                    + "its replicated remaining TTL plus the election grace had passed since it took over")
        }
    }

    /// Every watch delivered each revision with events in its window exactly once.
    func checkWatchesComplete() throws(Violation) {
        for id in order {
            guard let watch = nodes[id].watch else { continue }
            let expected = nodeChecker.eventRevisions(after: watch.from, through: watch.delivered)
            guard expected == watch.deliveredRevisions else {
                let missing = expected.filter { !watch.deliveredRevisions.contains($0) }
                throw nodeChecker.violation(
                    "watch gap", "watch on \(name(id)) from \(watch.from) through \(watch.delivered) missed revisions \(missing)")
            }
        }
    }
}
