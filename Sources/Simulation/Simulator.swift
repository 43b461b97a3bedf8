import Raft
import Registry
import RosterNode

/// A seeded, single-threaded simulation of a whole Roster cluster (the VOPR / FoundationDB approach):
/// every member runs the production `NodeDriver` (Raft, the registry, leases, forwarding, reads, the
/// restart fence) on a simulated clock, disk and network, under a simulated client population.
///
/// One `UInt64` seed decides everything: the cluster's shape, every message delay, loss and
/// duplicate, partitions, crashes (losing all that was not persisted, sometimes in the middle of a
/// `Ready`), restarts, membership changes, leadership transfers, compactions, and the clients'
/// registrations, keepalives, deregistrations, writes, reads and watches. After every single input to
/// a node, `SafetyChecker` (Raft) and `NodeChecker` (registry, clients, leases, watches) check it.
///
/// A run has two phases, as in TigerBeetle's VOPR: a safety phase under faults, then a liveness
/// phase in which the network heals, every member is up and the clients stop: a leader must commit a
/// new write on every member, and every lease of a silent holder must end, within bounded time.
public struct Simulator {
    public let options: SimulationOptions
    var random: SplitMix64
    var network: SimNetwork
    var nodes = SimNodes()
    /// Node IDs in a fixed order (by name), for deterministic iteration.
    var order: [NodeID] = []
    var checker = SafetyChecker()
    var nodeChecker: NodeChecker
    var clients: SimClients
    let initialMembers: [Member]
    var now = 0
    var trace: ((String) -> Void)?
    /// False in the liveness phase: no more crashes or client work.
    var isFaulty = true
    /// The latest leader, the last index it held on taking over, and when it had applied that far (in
    /// simulated milliseconds): from then on its lease deadlines count, for the lease expiry bound.
    var leaderSince: (id: NodeID, term: Term, firstIndex: LogIndex, readyAt: UInt64?)?
    /// Per lease, the earliest time the latest leader may expire it: its takeover time plus the remaining
    /// TTL it found replicated plus the election grace ("no lease expires because of the election"),
    /// until a keepalive for it is sent (a renewal sets the deadline to its time plus the TTL).
    var leaseFloors: [LeaseID: UInt64] = [:]
    /// The revision of the liveness phase's write, once acknowledged.
    var markerAcknowledged: Revision?
    public internal(set) var statistics = Statistics()

    public init(options: SimulationOptions, trace: ((String) -> Void)? = nil) throws(Violation) {
        self.options = options
        self.trace = trace
        self.random = SplitMix64(seed: options.seed ^ 0x5EED)
        self.network = SimNetwork(
            dropPercent: options.dropPercent, duplicatePercent: options.duplicatePercent,
            maxDelayUnits: options.maxDelayUnits)
        self.nodeChecker = NodeChecker(checksLeases: options.raft.checkQuorum)
        self.clients = SimClients(holders: options.leaseHolders)
        initialMembers = (1...options.nodeCount).map(Self.member)
        let bootstrap = PersistentState.bootstrap(configuration: Configuration(voters: initialMembers.map(\.id)))
        for member in initialMembers {
            try addNode(member, persisted: bootstrap)
            try start(member.id)
        }
    }

    static func member(_ number: Int) -> Member {
        Member(id: Member.id(forName: "n\(number)"), name: "n\(number)", peerAddress: "sim:\(number)")
    }

    var nowMilliseconds: UInt64 { UInt64(now * options.millisecondsPerUnit) }

    /// Runs both phases; throws the first violation seen.
    public mutating func run() throws(Violation) {
        trace?("seed \(options.seed): \(options)")
        do {
            for _ in 0..<options.safetySteps {
                try stepSafety()
            }
            try runLiveness()
        } catch {
            throw Violation(step: error.step, property: error.property, detail: named(error.detail))
        }
    }

    mutating func chance(perTenThousand: Int) -> Bool {
        Int(random.next() % 10_000) < perTenThousand
    }

    mutating func pick<T>(_ items: [T]) -> T? {
        items.isEmpty ? nil : items[Int(random.next() % UInt64(items.count))]
    }

    var liveIDs: [NodeID] { order.filter { nodes[$0].isUp } }

    var currentLeader: NodeID? {
        liveIDs.filter { nodes[$0].role == .leader }.max { nodes[$0].term < nodes[$1].term }
    }

    func name(_ id: NodeID) -> String { nodes.contains(id) ? nodes[id].name : "\(id)" }

    /// `text` with node IDs (hashes of the names) replaced by names, for readable traces.
    func named(_ text: String) -> String {
        nodes.all.reduce(text) { $0.replacing("\($1.id.rawValue)", with: $1.name) }
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
        nodeChecker.step = now
        for (position, id) in order.enumerated() where nodes[id].isUp && (now + position) % options.unitsPerTick == 0 {
            try input(id) { $0.tick() }
        }
        try advanceSnapshotWrites()
        try advanceBackgroundWrites()
        for delivery in network.due(now: now) {
            guard nodes.contains(delivery.to), nodes[delivery.to].isUp else { continue }
            switch delivery {
            case .raft(let message):
                trace?("t\(now) deliver \(named("\(message)"))")
                try input(message.to) { $0.receive(message) }
            case .forward(let forward, let link):
                trace?("t\(now) forward \(name(link.from))->\(name(link.to)) \(forward)")
                try input(link.to) { $0.receive(forward, from: link.from) }
            }
        }
    }

    // MARK: - One input to one node

    /// Gives a node one input at the current time, runs its Ready loop, carries out what it asked
    /// of the world, and checks the cluster.
    mutating func input(_ id: NodeID, _ body: (inout NodeDriver<SimEnvironment>) -> Void) throws(Violation) {
        guard nodes[id].isUp else { return }
        nodes[id].box.driver.environment.nowMilliseconds = nowMilliseconds
        if nodes[id].role != .leader { nodes[id].registryBefore = nodes[id].box.driver.registry }
        body(&nodes[id].box.driver)
        let effects = nodes[id].box.driver.processReady()
        if nodes[id].isUp { noteReadGate(id) }
        try carryOut(effects, of: id)
    }

    /// Moves a node's read gate to where it stands after a Ready and before its answers leave, and publishes a view
    /// of its applied state if a read asked for one, as the server does (`LocalReads`).
    mutating func noteReadGate(_ id: NodeID) {
        let box = nodes[id].box
        let key = LocalReadGate.Key(status: box.driver.status, appliedIndex: box.driver.registry.lastAppliedIndex)
        nodes[id].readGate.note(key)
        if let generation = nodes[id].readGate.takePublication() {
            var viewKey = key
            // Planted fault: the view answers linearizable reads whatever the node's role and configuration.
            if options.plantedFaults.contains(.linearizableView) { viewKey.isSoleVoterCaughtUp = true }
            nodes[id].readView = LocalReadView(registry: box.driver.registry, generation: generation, key: viewKey)
        }
    }

    /// Carries out a node's effects: sends onto the network, changes to the watch checker, answers to
    /// the clients (unless the node stopped in the middle of a Ready: then it crashes instead).
    mutating func carryOut(_ effects: NodeEffects, of id: NodeID) throws(Violation) {
        for message in effects.messages { network.send(message, now: now, random: &random) }
        for (forward, peer) in effects.forwards {
            network.send(forward, link: SimNetwork.Link(from: id, to: peer), now: now, random: &random)
        }
        try notify(id, effects.changes)
        let environment = nodes[id].box.driver.environment
        if let problem = environment.problem {
            throw Violation(step: now, property: problem.property, detail: problem.detail)
        }
        if environment.hasStopped {
            crash(id, reason: "crash before persisting a Ready of")
            return
        }
        for (request, response) in effects.responses { try answered(request, response, on: id) }
        if let capture = effects.snapshotToWrite {
            nodes[id].snapshotWrite = SimSnapshotWrite(capture: capture, due: now + snapshotWriteDelay())
        }
        try observe(id)
    }

    /// The checks after each input: Raft's, then monotonicity, the read fence and the registry state.
    mutating func observe(_ id: NodeID) throws(Violation) {
        guard nodes[id].isUp else { return }
        let signature = RaftSignature(nodes[id].box.driver.raft)
        nodes[id].role = signature.role
        nodes[id].term = signature.term
        // Raft's checks only when its state moved: most inputs (heartbeats) change nothing they check.
        if signature != nodes[id].checkedSignature {
            nodes[id].checkedSignature = signature
            try checker.observe(nodes[id].box.driver.raft)
        }
        let applied = signature.applied
        guard signature.commit >= nodes[id].runCommit, applied >= nodes[id].runApplied else {
            throw checker.violation("monotonicity", "node \(name(id)) commit or applied index went back")
        }
        // A restarted node may be behind what it applied before (its commit index was not fsynced),
        // but it must not offer local reads until it has caught up.
        guard !nodes[id].box.driver.raft.allowsLocalReads || applied >= nodes[id].appliedEver else {
            throw checker.violation(
                "monotonicity", "node \(name(id)) allows local reads at applied \(applied), below \(nodes[id].appliedEver) applied before")
        }
        nodes[id].runCommit = signature.commit
        nodes[id].runApplied = applied
        nodes[id].appliedEver = max(nodes[id].appliedEver, applied)
        nodes[id].revisionEver = max(nodes[id].revisionEver, nodes[id].box.driver.registry.revision)
        if nodes[id].checkedApplied != applied {
            nodes[id].checkedApplied = applied
            try nodeChecker.checkState(of: id, applied: applied, registry: nodes[id].box.driver.registry)
        }
        if signature.role == .leader && nodes[id].lastLedTerm != signature.term {
            nodes[id].lastLedTerm = signature.term
            // A deposed leader may learn of its election late (a vote delivered after a higher term's
            // leader took over): it must not displace the record of the leader that counts, or the lease
            // bound is never checked again once it crashes (simulator seed 1796495191919369893, a checker bug).
            if leaderSince.map({ signature.term > $0.term || !stillLeads($0.id, term: $0.term) }) ?? true {
                leaderSince = (id, signature.term, signature.lastIndex, nil)
                recordLeaseFloors(id)
            }
            statistics.elections += 1
            trace?("t\(now) \(name(id)) leads term \(signature.term)")
        }
        if var since = leaderSince, since.id == id, since.term == signature.term, since.readyAt == nil, applied >= since.firstIndex {
            since.readyAt = nowMilliseconds
            leaderSince = since
        }
    }

    /// Whether `id` is up and still the leader of `term`.
    func stillLeads(_ id: NodeID, term: Term) -> Bool {
        nodes.contains(id) && nodes[id].isUp && nodes[id].role == .leader && nodes[id].term == term
    }

    /// The grace floors of a new leader. It took over somewhere in its last Ready loop, so only leases it
    /// held before that input count, at the lower of their remaining TTLs before and after it.
    mutating func recordLeaseFloors(_ id: NodeID) {
        let grace = 2 * nodes[id].box.driver.options.electionTimeoutMilliseconds
        var before: [LeaseID: Int64] = [:]
        for lease in nodes[id].registryBefore?.leases() ?? [] { before[lease.id] = lease.remainingTTLMilliseconds }
        leaseFloors = [:]
        for lease in nodes[id].box.driver.registry.leases() {
            guard let earlier = before[lease.id] else { continue }
            leaseFloors[lease.id] = nowMilliseconds + UInt64(max(min(earlier, lease.remainingTTLMilliseconds), 0)) + grace
        }
    }
}
