import Raft

/// A seeded, single-threaded simulation of a whole Raft cluster (the VOPR / FoundationDB approach).
///
/// One `UInt64` seed decides everything: the cluster's shape, every message delay, loss and
/// duplicate, partitions, crashes (losing all that was not persisted, sometimes in the middle of a
/// `Ready`), restarts, membership changes, leadership transfers, compactions, and the client
/// proposals and reads. After every single input to a node, `SafetyChecker` checks the cluster.
///
/// A run has two phases, as in TigerBeetle's VOPR: a safety phase under faults, then a liveness
/// phase in which the network heals and every member is up, and a leader must commit a new
/// proposal on every member within a bounded number of steps.
public struct Simulator {
    public let options: SimulationOptions
    var random: SplitMix64
    var network: SimNetwork
    var nodes: [NodeID: SimNode] = [:]
    var checker = SafetyChecker()
    var now = 0
    var nextOperation: UInt64 = 1
    var nextRequest: UInt64 = 1
    var nextNodeID: UInt64
    var trace: ((String) -> Void)?
    /// False in the liveness phase: no more crashes.
    var isFaulty = true
    public private(set) var statistics = Statistics()

    public struct Statistics: Sendable, CustomStringConvertible {
        public var acknowledgedWrites = 0
        public var servedReads = 0
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
            crashes += other.crashes
            elections += other.elections
            snapshotsInstalled += other.snapshotsInstalled
            membershipChanges += other.membershipChanges
            transfers += other.transfers
            partitions += other.partitions
        }

        public var description: String {
            "elections:\(elections) acked:\(acknowledgedWrites) reads:\(servedReads) crashes:\(crashes) snapshots:\(snapshotsInstalled) "
                + "membership:\(membershipChanges) transfers:\(transfers) partitions:\(partitions)"
        }
    }

    public init(options: SimulationOptions, trace: ((String) -> Void)? = nil) throws(Violation) {
        self.options = options
        self.trace = trace
        self.random = SplitMix64(seed: options.seed ^ 0x5EED)
        self.network = SimNetwork(
            dropPercent: options.dropPercent, duplicatePercent: options.duplicatePercent,
            maxDelayUnits: options.maxDelayUnits)
        let members = (1...options.nodeCount).map { NodeID(UInt64($0)) }
        let bootstrap = PersistentState.bootstrap(configuration: Configuration(voters: members))
        nextNodeID = UInt64(options.nodeCount + 1)
        for member in members {
            nodes[member] = try SimNode(id: member, persisted: bootstrap, options: options.raft, seed: options.seed, useStorage: options.usesStorage)
        }
    }

    /// Runs both phases; throws the first violation seen.
    public mutating func run() throws(Violation) {
        trace?("seed \(options.seed): \(options)")
        for _ in 0..<options.safetySteps {
            try stepSafety()
        }
        try runLiveness()
    }

    mutating func chance(perTenThousand: Int) -> Bool {
        Int(random.next() % 10_000) < perTenThousand
    }

    mutating func pick<T>(_ items: [T]) -> T? {
        items.isEmpty ? nil : items[Int(random.next() % UInt64(items.count))]
    }

    var liveIDs: [NodeID] { nodes.keys.sorted().filter { nodes[$0]!.isUp } }

    var currentLeader: NodeID? {
        liveIDs.filter { nodes[$0]!.raft!.role == .leader }.max { nodes[$0]!.raft!.term < nodes[$1]!.raft!.term }
    }

    // MARK: - Steps

    mutating func stepSafety() throws(Violation) {
        try advanceTime()
        try injectFaults()
        try clientRequests()
    }

    /// One unit of time: ticks for nodes whose tick falls now, then due messages.
    mutating func advanceTime() throws(Violation) {
        now += 1
        checker.step = now
        for id in liveIDs where (now + Int(id.rawValue)) % options.unitsPerTick == 0 {
            nodes[id]!.raft!.tick()
            try settle(id)
        }
        for message in network.due(now: now) {
            guard nodes[message.to]?.isUp == true else { continue }
            trace?("t\(now) deliver \(message)")
            nodes[message.to]!.raft!.step(message)
            try settle(message.to)
        }
    }

    mutating func injectFaults() throws(Violation) {
        if chance(perTenThousand: options.partitionPerTenThousand) { partition() }
        if !network.blockedLinks.isEmpty && chance(perTenThousand: 150) {
            trace?("t\(now) heal network")
            network.heal()
        }
        if chance(perTenThousand: options.crashPerTenThousand), let victim = pick(liveIDs) {
            crash(victim, reason: "crash")
        }
        let down = nodes.keys.sorted().filter { !nodes[$0]!.isUp }
        if chance(perTenThousand: options.restartPerTenThousand), let revived = pick(down) {
            try restart(revived)
        }
        if chance(perTenThousand: options.membershipPerTenThousand) { try changeMembership() }
        if chance(perTenThousand: options.transferPerTenThousand), let leader = currentLeader {
            let voters = nodes[leader]!.raft!.configuration.voters.filter { $0 != leader }
            if let target = pick(voters) {
                let outcome = nodes[leader]!.raft!.transferLeadership(to: target)
                trace?("t\(now) transfer \(leader)->\(target): \(outcome)")
                statistics.transfers += 1
                try settle(leader)
            }
        }
    }

    mutating func partition() {
        let ids = nodes.keys.sorted()
        statistics.partitions += 1
        switch random.next() % 3 {
        case 0:
            var shuffled = ids
            shuffled.shuffle(using: &random)
            let cut = 1 + Int(random.next() % UInt64(max(1, ids.count / 2)))
            let minority = Array(shuffled.prefix(cut)).sorted()
            network.isolate(minority, from: ids.filter { !minority.contains($0) })
            trace?("t\(now) partition \(minority) | rest")
        case 1:
            guard let from = pick(ids), let to = pick(ids.filter { $0 != from }) else { return }
            network.block(SimNetwork.Link(from: from, to: to))
            trace?("t\(now) drop one way \(from)->\(to)")
        default:
            var shuffled = ids
            shuffled.shuffle(using: &random)
            guard shuffled.count >= 3 else { return }
            network.isolate([shuffled[0]], from: [shuffled[2]])
            trace?("t\(now) bridge: \(shuffled[0]) and \(shuffled[2]) meet only through \(shuffled[1])")
        }
    }

    mutating func crash(_ id: NodeID, reason: String) {
        trace?("t\(now) \(reason) \(id)")
        statistics.crashes += 1
        nodes[id]!.crash(seed: random.next())
        checker.forget(id)
    }

    mutating func restart(_ id: NodeID) throws(Violation) {
        trace?("t\(now) restart \(id)")
        try nodes[id]!.restart(options: options.raft, seed: options.seed)
        let node = nodes[id]!
        guard node.raft!.term >= node.durableTerm, node.raft!.commitIndex >= node.durableCommit else {
            throw checker.violation("durability", "node \(id) restarted behind its own durable state")
        }
        try checker.checkSnapshot(node: id, index: node.app.appliedIndex, chain: node.app.chain)
        try settle(id)
    }

    mutating func changeMembership() throws(Violation) {
        guard let leader = currentLeader else { return }
        let configuration = nodes[leader]!.raft!.configuration
        let change: MembershipChange
        if let learner = configuration.learners.first {
            change = .promoteLearner(learner)
        } else if configuration.voters.count > 3 && random.next() % 2 == 0, let victim = pick(configuration.voters) {
            change = .remove(victim)
        } else if nodes.count < options.nodeCount + 3 {
            let joiner = NodeID(nextNodeID)
            let joining = PersistentState.bootstrap(configuration: Configuration(voters: []))
            change = .addLearner(joiner)
            if case .accepted = nodes[leader]!.raft!.proposeMembershipChange(change) {
                nextNodeID += 1
                nodes[joiner] = try SimNode(
                    id: joiner, persisted: joining, options: options.raft, seed: options.seed, useStorage: options.usesStorage)
                trace?("t\(now) membership \(change) accepted; \(joiner) starts empty")
                statistics.membershipChanges += 1
            }
            try settle(leader)
            return
        } else {
            return
        }
        let outcome = nodes[leader]!.raft!.proposeMembershipChange(change)
        trace?("t\(now) membership \(change): \(outcome)")
        if case .accepted = outcome { statistics.membershipChanges += 1 }
        try settle(leader)
    }

    mutating func clientRequests() throws(Violation) {
        if Int(random.next() % 100) < options.proposePercent, let target = pick(liveIDs) {
            try propose(on: target)
        }
        if Int(random.next() % 100) < options.readPercent, let target = pick(liveIDs) {
            let request = nextRequest
            nextRequest += 1
            nodes[target]!.pendingReads[request] = checker.highestAcknowledged
            nodes[target]!.raft!.readIndex(requestID: request)
            try settle(target)
        }
    }

    @discardableResult
    mutating func propose(on target: NodeID) throws(Violation) -> Bool {
        let operation = nextOperation
        nextOperation += 1
        let command = (0..<8).map { UInt8(truncatingIfNeeded: operation >> UInt64($0 * 8)) }
        let outcome = nodes[target]!.raft!.propose(command)
        if case .accepted(let index, let term) = outcome {
            nodes[target]!.pendingProposals[index] = (term, operation)
            try settle(target)
            return true
        }
        return false
    }

    // MARK: - The Ready loop

    /// Runs a node's Ready loop until it has nothing left to do, checking the cluster after each Ready.
    mutating func settle(_ id: NodeID) throws(Violation) {
        while let raft = nodes[id]?.raft, raft.hasReady {
            let ready = nodes[id]!.raft!.drainReady()
            for message in ready.messages { network.send(message, now: now, random: &random) }
            if isFaulty && chance(perTenThousand: options.crashBeforePersistPerTenThousand) {
                nodes[id]!.disk.persistTorn(ready)
                crash(id, reason: "crash before persisting a Ready of")
                return
            }
            try nodes[id]!.disk.persist(ready)
            try checkDurable(id, persisted: nodes[id]!.disk.usesStorage && !ready.mustSync ? nil : ready.hardState)
            for message in ready.messagesAfterPersist { network.send(message, now: now, random: &random) }
            try apply(ready, on: id)
            nodes[id]!.raft!.advance(past: ready)
            try serveReads(on: id)
            try compactIfDue(id)
            try observe(id, ready: ready)
        }
        if let raft = nodes[id]?.raft { try checker.observe(raft) }
    }

    mutating func checkDurable(_ id: NodeID, persisted: HardState?) throws(Violation) {
        guard let hardState = persisted else { return }
        guard hardState.term >= nodes[id]!.durableTerm, hardState.commit >= nodes[id]!.durableCommit else {
            throw checker.violation("durability", "node \(id) persisted \(hardState), below term \(nodes[id]!.durableTerm) commit \(nodes[id]!.durableCommit)")
        }
        nodes[id]!.durableTerm = hardState.term
        nodes[id]!.durableCommit = hardState.commit
    }

    mutating func apply(_ ready: Ready, on id: NodeID) throws(Violation) {
        if let snapshot = ready.snapshotToInstall {
            nodes[id]!.app = SimStateMachine(snapshotData: snapshot.data)
            statistics.snapshotsInstalled += 1
            trace?("t\(now) \(id) installs \(snapshot.metadata)")
            try checker.checkSnapshot(node: id, index: snapshot.metadata.index, chain: nodes[id]!.app.chain)
        }
        for entry in ready.committedEntries {
            nodes[id]!.app.apply(entry)
            try checker.recordApply(node: id, entry: entry, chain: nodes[id]!.app.chain)
            if let pending = nodes[id]!.pendingProposals.removeValue(forKey: entry.index), pending.term == entry.term {
                try checker.acknowledge(index: entry.index, term: entry.term)
                statistics.acknowledgedWrites += 1
            }
        }
        for result in ready.readResults {
            guard let mustSee = nodes[id]!.pendingReads.removeValue(forKey: result.requestID) else { continue }
            if case .ready(let index) = result.outcome {
                nodes[id]!.readsToServe.append((result.requestID, index, mustSee))
            }
        }
    }

    /// Serves reads whose read index is applied, checking that each sees every write acknowledged
    /// before it began (linearizability of ReadIndex, thesis §6.4).
    mutating func serveReads(on id: NodeID) throws(Violation) {
        let applied = nodes[id]!.app.appliedIndex
        for read in nodes[id]!.readsToServe where read.index <= applied {
            guard applied >= read.mustSee else {
                throw checker.violation(
                    "linearizable read",
                    "node \(id) served read #\(read.requestID) at \(applied), missing acknowledged write \(read.mustSee)")
            }
            statistics.servedReads += 1
        }
        nodes[id]!.readsToServe.removeAll { $0.index <= applied }
    }

    mutating func compactIfDue(_ id: NodeID) throws(Violation) {
        guard let raft = nodes[id]!.raft else { return }
        let applied = nodes[id]!.app.appliedIndex
        guard applied.rawValue >= raft.snapshotMetadata.index.rawValue + UInt64(options.compactionThreshold) else { return }
        let snapshot = nodes[id]!.raft!.compact(through: applied, data: nodes[id]!.app.snapshotData)
        try nodes[id]!.disk.save(snapshot)
    }

    mutating func observe(_ id: NodeID, ready: Ready) throws(Violation) {
        guard let raft = nodes[id]!.raft else { return }
        guard raft.commitIndex >= nodes[id]!.runCommit, nodes[id]!.app.appliedIndex >= nodes[id]!.runApplied else {
            throw checker.violation("monotonicity", "node \(id) commit or applied index went back")
        }
        // A restarted node may be behind what it applied before (its commit index was not fsynced),
        // but it must not offer local reads until it has caught up.
        guard !raft.allowsLocalReads || nodes[id]!.app.appliedIndex >= nodes[id]!.appliedEver else {
            throw checker.violation(
                "monotonicity",
                "node \(id) allows local reads at applied \(nodes[id]!.app.appliedIndex), below \(nodes[id]!.appliedEver) applied before")
        }
        nodes[id]!.runCommit = raft.commitIndex
        nodes[id]!.runApplied = nodes[id]!.app.appliedIndex
        nodes[id]!.appliedEver = max(nodes[id]!.appliedEver, nodes[id]!.app.appliedIndex)
        if ready.status.role == .leader && ready.status.term != lastTracedTerm[id] {
            lastTracedTerm[id] = ready.status.term
            statistics.elections += 1
            trace?("t\(now) \(id) leads term \(ready.status.term)")
        }
    }

    var lastTracedTerm: [NodeID: Term] = [:]

    // MARK: - Liveness

    /// Heals everything and requires that, within `livenessSteps`, a leader commits a new proposal
    /// and every member applies it along with every acknowledged write.
    mutating func runLiveness() throws(Violation) {
        trace?("t\(now) liveness phase: heal, calm, restart every node")
        isFaulty = false
        network.heal()
        network.calm()
        for id in nodes.keys.sorted() where !nodes[id]!.isUp { try restart(id) }
        var marker: (leader: NodeID, index: LogIndex, term: Term)?
        for _ in 0..<options.livenessSteps {
            try advanceTime()
            if marker == nil, let leader = currentLeader, case .accepted(let index, let term) = nodes[leader]!.raft!.propose([0xFF]) {
                marker = (leader, index, term)
                try settle(leader)
            }
            if let marker, let leader = currentLeader {
                let members = nodes[leader]!.raft!.configuration.members
                let target = max(marker.index, checker.highestAcknowledged)
                let converged = members.allSatisfy { member in
                    guard let node = nodes[member] else { return false }
                    // A restarted node's local-read fence must lift once a leader is reachable.
                    return node.isUp && node.app.appliedIndex >= target && node.raft!.allowsLocalReads
                }
                if converged && checker.canonical[marker.index]?.term == marker.term {
                    trace?("t\(now) converged: \(members) applied through \(target) and allow local reads")
                    return
                }
            }
            if let current = marker, checker.canonical[current.index]?.term != current.term,
                let leader = currentLeader, nodes[leader]!.raft!.term != current.term
            {
                marker = nil  // Its leader lost the term before committing it; propose again.
            }
        }
        let summary = nodes.keys.sorted().map { "\(nodes[$0]!.raft.map { "\($0.status)" } ?? "\($0) down")" }
        throw checker.violation("liveness", "no convergence within \(options.livenessSteps) healed steps: \(summary)")
    }
}
