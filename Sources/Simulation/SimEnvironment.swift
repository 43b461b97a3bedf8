import Raft
import Registry
import RosterNode

/// The world as one simulated node's `NodeDriver` sees it while it runs: a clock the simulator sets
/// and the simulated disk. What the node wants done comes back from `processReady()` as
/// `NodeEffects`, which the simulator carries out after every input (onto the simulated network, to
/// the simulated clients, to the watch checker).
///
/// A power loss in the middle of a Ready happens inside `persist`: the write is torn and the node
/// stops (`hasStopped`), so nothing after step 2 of that Ready reaches the world, as with the real
/// fail-stop shell.
struct SimEnvironment: NodeEnvironment {
    let id: NodeID
    var nowMilliseconds: UInt64 = 0
    var disk: SimDisk
    private(set) var hasStopped = false
    /// A broken promise seen inside a call (a failed write, durable state going back); thrown by the simulator.
    private(set) var problem: Violation?
    /// Chance, per Ready, of a power loss after its early messages left but before it was persisted.
    var crashBeforePersistPerTenThousand = 0
    var random: SplitMix64
    /// Durable term and commit never go back, across restarts too.
    var durableTerm: Term = .zero
    var durableCommit: LogIndex = .zero

    init(id: NodeID, disk: SimDisk, seed: UInt64) {
        self.id = id
        self.disk = disk
        self.random = SplitMix64(seed: seed)
    }

    /// The environment of the next run of a restarted node: the same disk and durable marks.
    func restarted(seed: UInt64) -> SimEnvironment {
        var next = SimEnvironment(id: id, disk: disk, seed: seed)
        next.durableTerm = durableTerm
        next.durableCommit = durableCommit
        next.crashBeforePersistPerTenThousand = crashBeforePersistPerTenThousand
        return next
    }

    /// Persists; the queued sends stay queued (the simulator sends everything after the input, which
    /// is as early as the network looks: delivery waits for a later step anyway).
    mutating func persist(_ ready: Ready, queued: inout NodeEffects) {
        guard !hasStopped else { return }
        if crashBeforePersistPerTenThousand > 0 && Int(random.next() % 10_000) < crashBeforePersistPerTenThousand {
            disk.persistTorn(ready)
            hasStopped = true
            return
        }
        do {
            try disk.persist(ready)
        } catch {
            stop(error)
            return
        }
        // A commit-index-only hard state on the write-ahead log waits for the next fsync (`Ready.mustSync`).
        guard let hardState = ready.hardState, !disk.usesStorage || ready.mustSync else { return }
        guard hardState.term >= durableTerm, hardState.commit >= durableCommit else {
            stop(Violation(step: 0, property: "durability", detail: "node \(id) persisted \(hardState), below term \(durableTerm) commit \(durableCommit)"))
            return
        }
        durableTerm = hardState.term
        durableCommit = hardState.commit
    }

    mutating func saveSnapshot(_ snapshot: Snapshot) {
        do {
            try disk.save(snapshot)
        } catch {
            stop(error)
        }
    }

    mutating func adoptSnapshot(_ snapshot: Snapshot) {
        do {
            try disk.adopt(snapshot)
        } catch {
            stop(error)
        }
    }

    mutating func discardSnapshot(_ metadata: SnapshotMetadata) {
        do {
            try disk.discard(metadata)
        } catch {
            stop(error)
        }
    }

    private mutating func stop(_ violation: Violation) {
        problem = violation
        hasStopped = true
    }

    mutating func log(_ level: LogLevel, _ message: String) {}
}
