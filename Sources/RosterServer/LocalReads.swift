import EtcdGateway
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
    /// What a local answer is computed from: a view of the applied state and the answer headers that go with it.
    struct View: Sendable {
        let state: LocalReadView
        let context: ResponseContext
        /// The header of etcd answers from this view (`GRPCFront`).
        let etcdHeader: EtcdHeaderContext
        let isLeader: Bool
    }

    /// Which requests the I/O loops may answer now, read before anything else so that a node whose views answer
    /// nothing (auth on, reads fenced, shutting down) neither parses requests on its I/O loops nor publishes views.
    enum Answering: UInt8, AtomicRepresentable {
        case nothing, serializableReads, allReads
    }

    /// The Raft loop's gate (a lock nobody else takes, for `Sendable`).
    private let gate = Mutex(LocalReadGate())
    /// The gate's generation, for the I/O loops.
    private let currentGeneration = Atomic<UInt64>(1)
    /// Set by an I/O loop that found no view of the current generation; the first view is wanted from the start.
    private let viewWanted = Atomic<Bool>(true)
    private let published = Mutex<View?>(nil)
    private let answeringNow = Atomic<Answering>(.nothing)
    /// Monotonic milliseconds of the follower's last contact with a leader; `UInt64.max` when it never had one.
    private let leaderContact = Atomic<UInt64>(UInt64.max)
    /// Per I/O loop: the reads it answered and how long each took.
    let statistics: [Statistics]

    final class Statistics: Sendable {
        let latency = Mutex(Metrics.Histogram())
        /// Of those, etcd `Range` calls (`GRPCFront`): counted as gRPC requests, the others as reads.
        let etcdRanges = Atomic<UInt64>(0)
    }

    init(ioLoops: Int) {
        statistics = (0..<ioLoops).map { _ in Statistics() }
    }

    // MARK: - Raft loop

    /// Records where the node stands after a Ready, before its answers leave.
    /// - Parameter authEnabled: with auth on, only the Raft loop answers (it checks each request's permissions).
    func noteState(_ key: LocalReadGate.Key, authEnabled: Bool, leaderContactAtMilliseconds: UInt64?) {
        leaderContact.store(leaderContactAtMilliseconds ?? UInt64.max, ordering: .relaxed)
        let answering: Answering =
            authEnabled || !LocalReadGate.mayAnswer(key)
            ? .nothing : (LocalReadGate.answersLinearizable(key) ? .allReads : .serializableReads)
        answeringNow.store(answering, ordering: .relaxed)
        gate.withLock { gate in
            gate.note(key)
            currentGeneration.store(gate.generation, ordering: .releasing)
        }
    }

    /// Publishes a view of `registry` if an I/O loop asked for one and the published view is older than the current
    /// generation. Called after every Ready and every batch of I/O events: one atomic exchange unless a view is wanted.
    /// - Parameters:
    ///   - makeContext: the answer headers; called only when a view is published.
    ///   - makeEtcdHeader: the etcd answer header; called only when a view is published.
    func publishIfWanted(
        registry: @autoclosure () -> RegistryState, isLeader: Bool, makeContext: () -> ResponseContext,
        makeEtcdHeader: () -> EtcdHeaderContext
    ) {
        guard viewWanted.exchange(false, ordering: .relaxed) else { return }
        let view: View? = gate.withLock { gate in
            gate.isViewWanted = true
            guard let generation = gate.takePublication(), let key = gate.key else { return nil }
            return View(
                state: LocalReadView(registry: registry(), generation: generation, key: key), context: makeContext(),
                etcdHeader: makeEtcdHeader(), isLeader: isLeader)
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

    /// Asks for a view to be published at the next `publishIfWanted`: a read barrier passed, and the reads that
    /// waited for it are answered from a view at or after its index.
    func wantView() {
        viewWanted.store(true, ordering: .relaxed)
    }

    // MARK: - I/O loops

    /// Which requests the I/O loops may answer now (a hint: the view decides).
    var answering: Answering { answeringNow.load(ordering: .relaxed) }

    /// The current view, or nil when there is none of the current generation (then one is asked for).
    func currentView() -> View? {
        let generation = currentGeneration.load(ordering: .acquiring)
        let view = published.withLock { $0 }
        guard let view, LocalReadGate.answers(viewGeneration: view.state.generation, current: generation) else {
            viewWanted.store(true, ordering: .relaxed)
            return nil
        }
        return view
    }

    /// The newest published view, of whatever generation: for linearizable reads whose read barrier passed, which it
    /// answers when it holds the barrier's index applied (`LocalReadView.answer(afterBarrierAt:…)`).
    func newestView() -> View? {
        published.withLock { $0 }
    }

    /// How long ago this node heard from a leader, as a read's answer reports it (0 on the leader).
    func leaderContactAge(isLeader: Bool, nowMilliseconds now: UInt64) -> UInt64? {
        if isLeader { return 0 }
        let contact = leaderContact.load(ordering: .relaxed)
        guard contact != UInt64.max else { return nil }
        return now >= contact ? now - contact : 0
    }

    /// How many of the local answers were etcd `Range` calls, all I/O loops together.
    func etcdRanges() -> UInt64 {
        statistics.reduce(0) { $0 + $1.etcdRanges.load(ordering: .relaxed) }
    }

    /// Every I/O loop's local answers, merged.
    func mergedLatency() -> Metrics.Histogram {
        var merged = Metrics.Histogram()
        for loop in statistics { loop.latency.withLock { merged.add($0) } }
        return merged
    }
}
