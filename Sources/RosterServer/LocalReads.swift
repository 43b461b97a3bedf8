import Raft
import Registry
import RosterAPI
import RosterNode
import Synchronization

/// The applied state as the I/O loops see it, so they answer serializable reads themselves (`LocalReadServer`)
/// instead of handing each one to the Raft loop and back (issue 19: "serializable reads from an immutable
/// snapshot of the state", spread over the node's cores). `LocalReadGate` says when a view may answer: only while
/// it is of the current generation, which the Raft loop moves before a Ready's answers leave, so a client that was
/// told about a write never reads a view older than it.
///
/// Shared by the Raft loop (the only writer of views and generations) and the I/O loops.
final class LocalReads: Sendable {
    /// What a local answer is computed from: a copy of the applied state and the answer headers that go with it.
    struct View: Sendable {
        let registry: RegistryState
        let context: ResponseContext
        /// `LocalReadGate.mayAnswer` of the key it was taken at.
        let mayAnswer: Bool
        /// `LocalReadGate.answersLinearizable` of the key it was taken at.
        let answersLinearizable: Bool
        let isLeader: Bool
        let generation: UInt64
    }

    /// The Raft loop's gate (a lock nobody else takes, for `Sendable`).
    private let gate = Mutex(LocalReadGate())
    /// The gate's generation, for the I/O loops.
    private let currentGeneration = Atomic<UInt64>(1)
    private let viewWanted = Atomic<Bool>(false)
    /// Whether the node's state answers linearizable reads too, so the I/O loops look at every GET, not only at
    /// those that ask for serializable reads (a hint: the view decides).
    let linearizableHint = Atomic<Bool>(false)
    private let published = Mutex<View?>(nil)
    /// Monotonic milliseconds of the follower's last contact with a leader; `UInt64.max` when it never had one.
    private let leaderContact = Atomic<UInt64>(UInt64.max)
    /// Per I/O loop: the reads it answered and how long each took.
    let statistics: [Statistics]

    final class Statistics: Sendable {
        let latency = Mutex(Metrics.Histogram())
    }

    init(ioLoops: Int) {
        statistics = (0..<ioLoops).map { _ in Statistics() }
    }

    // MARK: - Raft loop

    /// Records where the node stands after a Ready, before its answers leave.
    func noteState(_ key: LocalReadGate.Key, leaderContactAtMilliseconds: UInt64?) {
        leaderContact.store(leaderContactAtMilliseconds ?? UInt64.max, ordering: .relaxed)
        gate.withLock { gate in
            gate.note(key)
            currentGeneration.store(gate.generation, ordering: .releasing)
        }
        linearizableHint.store(LocalReadGate.answersLinearizable(key), ordering: .relaxed)
    }

    /// Publishes a view of `registry` if an I/O loop asked for one since the current generation began.
    /// - Parameter makeContext: the answer headers; called only when a view is published.
    func publishIfWanted(registry: @autoclosure () -> RegistryState, isLeader: Bool, makeContext: () -> ResponseContext) {
        if viewWanted.exchange(false, ordering: .relaxed) { gate.withLock { $0.isViewWanted = true } }
        let view: View? = gate.withLock { gate in
            guard let generation = gate.takePublication(), let key = gate.key else { return nil }
            return View(
                registry: registry(), context: makeContext(), mayAnswer: LocalReadGate.mayAnswer(key),
                answersLinearizable: LocalReadGate.answersLinearizable(key), isLeader: isLeader, generation: generation)
        }
        guard let view else { return }
        // The old view may be the last reference to a whole older state: it goes here, outside the lock.
        let previous = published.withLock { published in
            let previous = published
            published = view
            return previous
        }
        _ = previous
    }

    // MARK: - I/O loops

    /// The current view, or nil when there is none of the current generation (then one is asked for).
    func currentView() -> View? {
        let generation = currentGeneration.load(ordering: .acquiring)
        let view = published.withLock { $0 }
        guard let view, LocalReadGate.answers(viewGeneration: view.generation, current: generation) else {
            viewWanted.store(true, ordering: .relaxed)
            return nil
        }
        return view
    }

    /// How long ago this node heard from a leader, as a read's answer reports it (0 on the leader).
    func leaderContactAge(isLeader: Bool, nowMilliseconds now: UInt64) -> UInt64? {
        if isLeader { return 0 }
        let contact = leaderContact.load(ordering: .relaxed)
        guard contact != UInt64.max else { return nil }
        return now >= contact ? now - contact : 0
    }

    /// Every I/O loop's local answers, merged.
    func mergedLatency() -> Metrics.Histogram {
        var merged = Metrics.Histogram()
        for loop in statistics { loop.latency.withLock { merged.add($0) } }
        return merged
    }
}
