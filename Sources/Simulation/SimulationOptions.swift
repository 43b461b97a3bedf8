import Raft
import RosterNode

/// The shape of one simulated run, drawn entirely from its seed (TigerBeetle's "swarm" testing):
/// different seeds explore different cluster sizes, fault mixes and rates, so one seed list covers
/// calm networks and hostile ones alike.
public struct SimulationOptions: Sendable, CustomStringConvertible {
    public var seed: UInt64
    public var nodeCount: Int
    /// Steps of the faulty phase; each step advances simulated time by one unit.
    public var safetySteps: Int
    /// Steps allowed after healing for a leader to be elected and a proposal to commit everywhere.
    public var livenessSteps: Int
    /// Simulated time units per Raft tick.
    public var unitsPerTick: Int
    public var dropPercent: Int
    public var duplicatePercent: Int
    /// Message latency is uniform in `1...maxDelayUnits`; unequal latencies reorder messages.
    public var maxDelayUnits: Int
    /// Per-step chance (in 1/10,000) of each fault kind.
    public var partitionPerTenThousand: Int
    public var crashPerTenThousand: Int
    /// Chance, per Ready, of crashing after its early messages left but before it was persisted.
    public var crashBeforePersistPerTenThousand: Int
    public var restartPerTenThousand: Int
    public var membershipPerTenThousand: Int
    public var transferPerTenThousand: Int
    /// Per-step chance of a client write (put, registration, deregistration, compaction), in percent.
    public var proposePercent: Int
    /// Per-step chance of a client read (linearizable or serializable), in percent.
    public var readPercent: Int
    /// Clients holding a lease and an instance at once; each renews until it stops, then a new one starts.
    public var leaseHolders: Int
    /// Simulated milliseconds per time unit, on every node's clock (which differ only by an offset).
    public var millisecondsPerUnit: Int
    /// Node rules deliberately broken (`NodeFault`).
    public var nodeFaults: Set<NodeFault>
    /// The planted faults, for the description.
    public var plantedFaults: Set<PlantedFault>
    /// Applied entries beyond the snapshot before a node compacts its log.
    public var compactionThreshold: Int
    public var raft: RaftOptions
    public var isHostile: Bool
    /// Persist through the production write-ahead log on a fault-injecting file system, instead of
    /// an in-memory value; crashes then tear unsynced writes and restarts run real recovery.
    public var usesStorage: Bool
    /// Nodes write their Readies in the background, as the server does (`NodeEnvironment.persistsInBackground`):
    /// each write finishes some steps later, and a crash loses the writes not finished (a power loss may also tear
    /// one as it is written, as for a write in place).
    public var persistsInBackground: Bool

    /// Draws a run's shape from `seed`.
    /// - Parameter hostile: many elections, crashes and lost messages; the default when `faults` plants
    ///   a bug, so the interleavings the broken rule exists to prevent become frequent.
    public init(seed: UInt64, safetySteps: Int = 600, faults: Set<PlantedFault> = [], hostile: Bool? = nil) {
        var random = SplitMix64(seed: seed)
        func pick(_ range: ClosedRange<Int>) -> Int {
            range.lowerBound + Int(random.next() % UInt64(range.count))
        }
        self.seed = seed
        nodeCount = pick(0...2) == 0 ? 5 : 3
        self.safetySteps = safetySteps
        livenessSteps = 2_000
        unitsPerTick = 4
        dropPercent = pick(0...3) == 0 ? 0 : pick(1...20)
        duplicatePercent = pick(0...5)
        maxDelayUnits = pick(1...12)
        partitionPerTenThousand = pick(0...60)
        crashPerTenThousand = pick(0...40)
        restartPerTenThousand = 100
        membershipPerTenThousand = pick(0...30)
        transferPerTenThousand = pick(0...15)
        proposePercent = pick(5...40)
        readPercent = pick(0...15)
        leaseHolders = pick(1...6)
        millisecondsPerUnit = 25
        plantedFaults = faults
        nodeFaults = Set(faults.compactMap(\.nodeFault))
        compactionThreshold = pick(0...1) == 0 ? 8 : 64
        var raft = RaftOptions()
        raft.electionTimeoutTicks = 10
        raft.heartbeatTicks = 2
        raft.maxEntriesPerAppend = pick(1...16)
        raft.maxInflightAppends = pick(1...8)
        raft.snapshotChunkBytes = pick(256...4_096)
        raft.preVote = pick(0...4) != 0
        raft.checkQuorum = raft.preVote || pick(0...1) == 0
        raft.faults = Set(faults.compactMap(\.raftFault))
        usesStorage = pick(0...1) == 0
        crashBeforePersistPerTenThousand = crashPerTenThousand > 0 ? 20 : 0
        self.isHostile = hostile ?? !faults.isEmpty
        if isHostile {
            nodeCount = 3
            dropPercent = pick(10...30)
            maxDelayUnits = pick(4...16)
            partitionPerTenThousand = pick(50...200)
            crashPerTenThousand = pick(50...200)
            restartPerTenThousand = 300
            crashBeforePersistPerTenThousand = pick(100...1_000)
            proposePercent = pick(20...60)
            raft.electionTimeoutTicks = 4
            raft.heartbeatTicks = 1
            raft.preVote = false
            // Half keep check-quorum: without it a deposed leader renews leases for as long as it is cut off,
            // so lease bounds are checked only with it (as production runs).
            raft.checkQuorum = pick(0...1) == 0
            leaseHolders = pick(3...8)
            // A planted Raft fault shows under election churn, which check-quorum damps; a planted lease
            // fault is checked only with check-quorum (see `NodeChecker.checksLeases`).
            if !nodeFaults.isEmpty { raft.checkQuorum = true }
            if !raft.faults.isEmpty { raft.checkQuorum = false }
        }
        self.raft = raft
        // Drawn last, so every seed keeps the rest of its shape.
        persistsInBackground = pick(0...1) == 0 || faults.contains(.acknowledgeBeforeDurable)
    }

    public var description: String {
        "nodes:\(nodeCount) steps:\(safetySteps) drop:\(dropPercent)% dup:\(duplicatePercent)% delay:1-\(maxDelayUnits) "
            + "partition:\(partitionPerTenThousand)‱ crash:\(crashPerTenThousand)‱ membership:\(membershipPerTenThousand)‱ "
            + "transfer:\(transferPerTenThousand)‱ propose:\(proposePercent)% read:\(readPercent)% "
            + "compact:\(compactionThreshold) batch:\(raft.maxEntriesPerAppend) inflight:\(raft.maxInflightAppends) "
            + "chunk:\(raft.snapshotChunkBytes)B prevote:\(raft.preVote) checkquorum:\(raft.checkQuorum)"
            + (usesStorage ? " disk:wal" : " disk:memory") + (persistsInBackground ? " writes:background" : "") + (isHostile ? " hostile" : "") + " holders:\(leaseHolders)" + (plantedFaults.isEmpty ? "" : " FAULTS:\(plantedFaults.map(\.rawValue).sorted())")
    }
}
