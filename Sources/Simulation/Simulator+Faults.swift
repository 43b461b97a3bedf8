import Raft
import Registry
import RosterNode

// MARK: - Faults: partitions, crashes, restarts, membership changes, transfers

extension Simulator {
    mutating func injectFaults() throws(Violation) {
        if chance(perTenThousand: options.partitionPerTenThousand) { partition() }
        if !network.blockedLinks.isEmpty && chance(perTenThousand: 150) {
            trace?("t\(now) heal network")
            network.heal()
        }
        if chance(perTenThousand: options.crashPerTenThousand), let victim = pick(liveIDs) {
            crash(victim, reason: "crash")
        }
        let down = order.filter { !nodes[$0].isUp }
        if chance(perTenThousand: options.restartPerTenThousand), let revived = pick(down) {
            try restart(revived)
        }
        if chance(perTenThousand: options.membershipPerTenThousand) { try changeMembership() }
        if chance(perTenThousand: options.transferPerTenThousand), let leader = currentLeader {
            let voters = nodes[leader].box.driver.raft.configuration.voters.filter { $0 != leader }.sorted()
            if let target = pick(voters) {
                trace?("t\(now) transfer \(name(leader))->\(name(target))")
                statistics.transfers += 1
                try submit(.admin(.transferLeadership(to: name(target))), to: leader, purpose: .admin)
            }
        }
    }

    mutating func partition() {
        let ids = order
        statistics.partitions += 1
        switch random.next() % 3 {
        case 0:
            var shuffled = ids
            shuffled.shuffle(using: &random)
            let cut = 1 + Int(random.next() % UInt64(max(1, ids.count / 2)))
            let minority = Array(shuffled.prefix(cut)).sorted()
            network.isolate(minority, from: ids.filter { !minority.contains($0) })
            trace?("t\(now) partition \(minority.map(name)) | rest")
        case 1:
            guard let from = pick(ids), let to = pick(ids.filter { $0 != from }) else { return }
            network.block(SimNetwork.Link(from: from, to: to))
            trace?("t\(now) drop one way \(name(from))->\(name(to))")
        default:
            var shuffled = ids
            shuffled.shuffle(using: &random)
            guard shuffled.count >= 3 else { return }
            network.isolate([shuffled[0]], from: [shuffled[2]])
            trace?("t\(now) bridge: \(name(shuffled[0])) and \(name(shuffled[2])) meet only through \(name(shuffled[1]))")
        }
    }

    // MARK: - Crash and restart

    mutating func crash(_ id: NodeID, reason: String) {
        trace?("t\(now) \(reason) \(name(id))")
        statistics.crashes += 1
        nodes[id].crash(seed: random.next())
        checker.forget(id)
        clients.forget(node: id)
        if leaderSince?.id == id {
            leaderSince = nil
            leaseFloors = [:]
        }
    }

    /// Adds a member that is down until `start`, with a fresh disk holding `persisted`.
    mutating func addNode(_ member: Member, persisted: PersistentState) throws(Violation) {
        let disk = try SimDisk(node: member.id, initial: persisted, useStorage: options.usesStorage)
        nodes.append(SimNode(id: member.id, name: member.name, environment: SimEnvironment(id: member.id, disk: disk, seed: random.next())))
        order.append(member.id)
    }

    /// Starts a node's driver from what its disk holds.
    mutating func start(_ id: NodeID) throws(Violation) {
        var environment = nodes[id].parked!.restarted(seed: random.next())
        environment.crashBeforePersistPerTenThousand = isFaulty ? options.crashBeforePersistPerTenThousand : 0
        environment.writesInBackground = options.persistsInBackground
        environment.backgroundWriteMaxMilliseconds = backgroundWriteMaxMilliseconds
        environment.nowMilliseconds = nowMilliseconds
        let persisted = try environment.disk.recover()
        guard persisted.hardState.term >= environment.durableTerm, persisted.hardState.commit >= environment.durableCommit else {
            throw checker.violation("durability", "node \(name(id)) restarted behind its own durable state")
        }
        var nodeOptions = NodeOptions(
            id: id, raft: options.raft, tickMilliseconds: UInt64(options.unitsPerTick * options.millisecondsPerUnit),
            initialMembers: initialMembers)
        nodeOptions.snapshotEveryEntries = UInt64(options.compactionThreshold)
        nodeOptions.faults = options.nodeFaults
        nodes[id].restarts += 1
        do {
            nodes[id].run(try NodeDriver(
                options: nodeOptions, persisted: persisted, environment: environment, randomSeed: options.seed &+ UInt64(nodes[id].restarts)))
        } catch {
            throw checker.violation("snapshot", "node \(name(id)) cannot decode its own snapshot: \(error)")
        }
        nodes[id].runCommit = .zero
        nodes[id].runApplied = .zero
        nodes[id].checkedApplied = nil
        nodes[id].checkedSignature = nil
        nodes[id].lastLedTerm = nil
        try input(id) { _ in }
    }

    /// Up to a tick while faults happen, so that requests, acknowledgements and crashes fall while a write is under
    /// way; the next step once the cluster is calm, where a slow disk would only stretch the time to converge.
    var backgroundWriteMaxMilliseconds: UInt64 {
        isFaulty ? UInt64(options.unitsPerTick * options.millisecondsPerUnit) : 1
    }

    mutating func restart(_ id: NodeID) throws(Violation) {
        trace?("t\(now) restart \(name(id))")
        try start(id)
    }

    // MARK: - Membership

    mutating func changeMembership() throws(Violation) {
        guard let leader = currentLeader else { return }
        let configuration = nodes[leader].box.driver.raft.configuration
        let request: AdminRequest
        if let learner = configuration.learners.sorted().first {
            request = .promote(name: name(learner))
        } else if configuration.voters.count > 3 && random.next() % 2 == 0, let victim = pick(configuration.voters.sorted()) {
            request = .remove(name: name(victim))
        } else if nodes.count < options.nodeCount + 3 {
            let joiner = Self.member(nodes.count + 1)
            try addNode(joiner, persisted: PersistentState.bootstrap(configuration: Configuration(voters: [])))
            try start(joiner.id)
            request = .addLearner(name: joiner.name, peerAddress: joiner.peerAddress)
            trace?("t\(now) \(joiner.name) starts empty")
        } else {
            return
        }
        trace?("t\(now) membership \(request)")
        try submit(.admin(request), to: leader, purpose: .admin)
    }
}
