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
            try submit(
                .read(query, ReadOptions(consistency: consistency)), to: target,
                purpose: .read(mustSee: nodeChecker.highestAcknowledged, ownWrites: nodes[target].acknowledgedRevision))
        }
        if random.next() % 200 == 0, let target = pick(liveIDs.filter { nodes[$0].watch == nil }) {
            try openWatch(on: target)
        }
    }

    /// A lease holder's next move: grant then register (in two requests, or in one), renew, or stop
    /// (deregistering or going silent).
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
            switch random.next() % 3 {
            case 0:
                try submit(.registerWithLease(instance(of: holder, lease: nil), ttlMilliseconds: ttl), to: target, purpose: .registerWithLease(holder: index))
            case 1:
                try submit(.write(.grantLease(id: nil, ttlMilliseconds: ttl, grantedAtMilliseconds: 0)), to: target, purpose: .grant(holder: index))
            default:
                // A lease ID of the client's choosing, as etcd clients may pick one: just past the log's end, the IDs a
                // leader names for registrations proposed with their grant (`NodeDriver.nameableLease`).
                let end = liveIDs.map { nodes[$0].box.driver.raft.lastIndex.rawValue }.max() ?? 0
                let lease = LeaseID(end + 1 + random.next() % 3)
                try submit(.write(.grantLease(id: lease, ttlMilliseconds: ttl, grantedAtMilliseconds: 0)), to: target, purpose: .grant(holder: index))
            }
            return
        }
        if !holder.isRegistered {
            try submit(.write(.registerInstance(instance(of: holder, lease: lease))), to: target, purpose: .register(holder: index))
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

    func instance(of holder: SimClients.Holder, lease: LeaseID?) -> ServiceInstance {
        let name = holder.instance
        return ServiceInstance(
            namespace: name.namespace, service: name.service, id: name.id, endpoints: ["sim://\(holder.serial)"], lease: lease, incarnation: 1)
    }

    mutating func submit(_ request: NodeRequest, to node: NodeID, purpose: SimClients.Purpose) throws(Violation) {
        let id = clients.makeRequestID()
        clients.pending[id] = SimClients.Pending(purpose: purpose, node: node, sentAt: nowMilliseconds)
        switch purpose {
        case .grant(let holder), .register(let holder), .registerWithLease(let holder), .keepAlive(let holder, _),
            .deregister(let holder):
            clients.holders[holder].pending = id
            clients.holders[holder].pendingSince = nowMilliseconds
        case .write, .read, .barrierRead, .admin, .marker:
            break
        }
        // Every other serializable read asks the node for an answer from its applied state at once, as the server
        // does before submitting one (the parity of the request's ID decides, so no random draw shifts the seeds).
        // A linearizable one asks the node's view, which answers only on a caught-up sole voter; otherwise every
        // other one of those waits for a read barrier and is then answered from the view, as the server's I/O
        // loops answer them.
        if case .read(let query, let readOptions) = request, id.rawValue % 2 == 0, nodes[node].isUp {
            nodes[node].box.driver.environment.nowMilliseconds = nowMilliseconds
            if readOptions.consistency == .serializable,
                let response = viewAnswer(query, options: readOptions, on: node)
                    ?? nodes[node].box.driver.answerLocally(query, options: readOptions)
            {
                return try answered(id, response, on: node)
            }
            if readOptions.consistency == .linearizable, let response = viewAnswer(query, options: readOptions, on: node) {
                return try answered(id, response, on: node)
            }
            if readOptions.consistency == .linearizable, readOptions.minRevision == nil, id.rawValue % 4 == 0,
                case .read(let mustSee, let ownWrites) = purpose
            {
                clients.pending[id]?.purpose = .barrierRead(query, readOptions, mustSee: mustSee, ownWrites: ownWrites)
                return try input(node) { $0.submit(.readBarrier, id: id) }
            }
        }
        try input(node) { $0.submit(request, id: id) }
    }

    /// A linearizable read whose read barrier passed at `barrierIndex`: answered from a view the node publishes now, as
    /// the server does before the barrier's answer leaves (planted fault `barrierAnyView`: from whatever view it last
    /// published, whatever its index); submitted to the node as a read when the view cannot answer it, as the server
    /// does.
    mutating func barrierPassed(
        _ request: RequestID, at barrierIndex: UInt64, _ query: RegistryQuery, _ readOptions: ReadOptions,
        mustSee: Revision, ownWrites: Revision, on node: NodeID
    ) throws(Violation) {
        let planted = options.plantedFaults.contains(.barrierAnyView)
        if !planted {
            nodes[node].readGate.isViewWanted = true
            noteReadGate(node)
        }
        clients.pending[request] = SimClients.Pending(
            purpose: .read(mustSee: mustSee, ownWrites: ownWrites), node: node, sentAt: nowMilliseconds)
        let age = nodes[node].box.driver.status.leaderContactAgeMilliseconds
        if let view = nodes[node].readView,
            let response = view.answer(
                afterBarrierAt: planted ? 0 : barrierIndex, query, options: readOptions, leaderContactAgeMilliseconds: age)
        {
            statistics.barrierReads += 1
            return try answered(request, response, on: node)
        }
        try input(node) { $0.submit(.read(query, readOptions), id: request) }
    }

    /// A serializable read's answer from the node's published view, as the server's I/O loops give it: only from a
    /// view of the current generation (planted fault `staleLocalView`: from any view); otherwise nil, and a view is
    /// asked for. The answer is then the one `answerLocally` gives, from the same state.
    mutating func viewAnswer(_ query: RegistryQuery, options readOptions: ReadOptions, on node: NodeID) -> NodeResponse? {
        let current = nodes[node].readGate.generation
        guard let view = nodes[node].readView,
            LocalReadGate.answers(viewGeneration: view.generation, current: current)
                || options.plantedFaults.contains(.staleLocalView)
        else {
            nodes[node].readGate.isViewWanted = true
            return nil
        }
        let age = nodes[node].box.driver.status.leaderContactAgeMilliseconds
        guard let response = view.answer(query, options: readOptions, leaderContactAgeMilliseconds: age) else { return nil }
        statistics.viewReads += 1
        return response
    }

    /// Checks an answer and moves its client on.
    mutating func answered(_ request: RequestID, _ response: NodeResponse, on node: NodeID) throws(Violation) {
        guard let waiting = clients.pending.removeValue(forKey: request) else {
            guard !clients.wasSent(request) else {
                throw nodeChecker.violation("answered once", "node \(name(node)) answered request \(request) again, or after it was cancelled")
            }
            return
        }
        clients.release(request, purpose: waiting.purpose)
        if case .written(let applied) = response {
            try nodeChecker.acknowledge(applied, from: node)
            statistics.acknowledgedWrites += 1
            nodes[node].acknowledgedRevision = max(nodes[node].acknowledgedRevision, applied.revision)
        }
        switch (waiting.purpose, response) {
        case (.grant(let holder), .written(let applied)):
            guard case .leaseGranted(let lease, let ttl) = applied.response else { return }
            trace?("t\(now) holder h\(clients.holders[holder].serial) granted \(lease) (ttl \(ttl) ms) by \(name(node))")
            try leaseGranted(lease, ttlMilliseconds: ttl, to: holder, sentAt: waiting.sentAt)
        case (.registerWithLease(let holder), .written(let applied)):
            // One answer for both steps: the instance as registered, under the lease granted for it.
            guard case .instanceRegistered(let instance, _) = applied.response, instance.name == clients.holders[holder].instance,
                let lease = instance.lease
            else {
                throw nodeChecker.violation(
                    "registration with lease", "node \(name(node)) answered a registration with a lease with \(applied.response)")
            }
            trace?("t\(now) holder h\(clients.holders[holder].serial) registered under \(lease) by \(name(node)) in one request")
            try leaseGranted(lease, ttlMilliseconds: clients.holders[holder].ttlMilliseconds, to: holder, sentAt: waiting.sentAt)
            clients.holders[holder].isRegistered = true
            statistics.registrationsWithLease += 1
        case (.registerWithLease(let holder), .rejected(let rejection, _)):
            // Its grant names no lease, or one the leader made sure nobody has and no grant ahead of it takes.
            if case .leaseAlreadyExists(let lease) = rejection {
                throw nodeChecker.violation(
                    "registration with lease",
                    "node \(name(node)) refused a registration with a lease because lease \(lease) already exists: its grant named a lease another took")
            }
            clients.replace(holder)
        case (.register(let holder), .written):
            clients.holders[holder].isRegistered = true
        case (.register(let holder), .rejected), (.deregister(let holder), .written), (.deregister(let holder), .rejected):
            clients.replace(holder)
        case (.keepAlive(_, let lease), .keptAlive(_, let ttl)):
            trace?("t\(now) \(lease) kept alive by \(name(node)) (sent t\(waiting.sentAt / UInt64(options.millisecondsPerUnit)))")
            statistics.keepAlives += 1
            // A renewal sent before a new leader took over and carried out by it afterwards moved the deadline to
            // its now + TTL, which may be before the grace floor recorded at the takeover (seed
            // 1797200000000011856: sent at t565, floors recorded at t567, renewed at t571, expired correctly at
            // renewal + TTL and flagged). The floor cleared at sending does not cover it; the answer does.
            leaseFloors[lease] = nil
            try nodeChecker.leaseAcknowledged(lease, ttlMilliseconds: ttl, sentAt: waiting.sentAt, at: nowMilliseconds)
        case (.keepAlive(let holder, let lease), .rejected):
            // The lease ended (its holder could not renew in time): start over.
            trace?("t\(now) holder h\(clients.holders[holder].serial) finds lease \(lease) gone")
            if clients.holders[holder].lease == lease { clients.replace(holder) }
        case (.keepAlive(let holder, _), .failed):
            clients.holders[holder].nextRenewalAt = nowMilliseconds
        case (.barrierRead(let query, let readOptions, let mustSee, let ownWrites), .readBarrierPassed(let index)):
            try barrierPassed(request, at: index, query, readOptions, mustSee: mustSee, ownWrites: ownWrites, on: node)
        case (.read(let mustSee, let ownWrites), .read(_, let context)):
            statistics.servedReads += 1
            try nodeChecker.checkRead(
                on: node, context: context, mustSee: mustSee, ownWrites: ownWrites, fence: nodes[node].revisionFence)
        case (.marker, .written(let applied)):
            markerAcknowledged = applied.revision
        case (.admin, .admin(.membershipChanged)):
            statistics.membershipChanges += 1
        default:
            break
        }
    }

    /// A holder's lease grant was acknowledged (alone, or with its registration): its TTL counts from
    /// when the request was sent, and the holder renews and eventually stops.
    mutating func leaseGranted(_ lease: LeaseID, ttlMilliseconds ttl: Int64, to holder: Int, sentAt: UInt64) throws(Violation) {
        try nodeChecker.leaseAcknowledged(lease, ttlMilliseconds: ttl, sentAt: sentAt, at: nowMilliseconds)
        clients.holders[holder].lease = lease
        clients.holders[holder].nextRenewalAt = nowMilliseconds + UInt64(ttl / 3)
        clients.holders[holder].stopsAt = nowMilliseconds + UInt64(ttl) * (1 + random.next() % 6)
    }
}
