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
    /// See `SimulationOptions.persistsInBackground`.
    var writesInBackground = false
    /// Half the times the driver wants to, at random, so both ways of writing interleave under every schedule.
    var persistsInBackground: Bool {
        mutating get { writesInBackground && random.next() % 2 == 0 }
    }
    /// How long a background write may take, at most, in simulated milliseconds.
    var backgroundWriteMaxMilliseconds: UInt64 = 1
    /// Background writes not yet reported to the driver, oldest first; each is on the disk once `written`.
    private(set) var backgroundWrites: [(ticket: UInt64, ready: Ready, due: UInt64, written: Bool)] = []

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
        next.writesInBackground = writesInBackground
        next.backgroundWriteMaxMilliseconds = backgroundWriteMaxMilliseconds
        return next
    }

    /// Persists; the queued sends stay queued (the simulator sends everything after the input, which
    /// is as early as the network looks: delivery waits for a later step anyway).
    mutating func persist(_ ready: Ready, queued: inout NodeEffects) {
        // One ordered stream of writes: the background ones started before this one reach the disk first.
        for position in backgroundWrites.indices where !backgroundWrites[position].written {
            write(backgroundWrites[position].ready)
            backgroundWrites[position].written = true
        }
        write(ready)
    }

    /// Queues the write; `finishDueBackgroundWrites` carries it out some simulated milliseconds later, in order.
    mutating func startPersisting(_ ready: Ready, ticket: UInt64) {
        let earliest = backgroundWrites.last?.due ?? 0
        let due = max(earliest, nowMilliseconds + 1 + random.next() % backgroundWriteMaxMilliseconds)
        backgroundWrites.append((ticket, ready, due, false))
    }

    /// Writes the background writes due by now to the disk, and returns the last one's ticket for the driver
    /// (`NodeDriver.persisted(ticket:)`); nil if none was due, or if the node stopped in the middle of one.
    mutating func finishDueBackgroundWrites() -> UInt64? {
        var finished: UInt64?
        while let first = backgroundWrites.first, first.due <= nowMilliseconds {
            if !first.written { write(first.ready) }
            if hasStopped { return nil }
            backgroundWrites.removeFirst()
            finished = first.ticket
        }
        return finished
    }

    /// Step 2 of a Ready on the simulated disk, or a power loss in the middle of it.
    private mutating func write(_ ready: Ready) {
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
