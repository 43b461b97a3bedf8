import Registry

/// A copy of a node's applied state that answers reads away from the node: on the server's I/O loops, and for the
/// simulator's clients. One decision of which reads a view answers, for both; `LocalReadGate` decides when.
public struct LocalReadView: Sendable {
    public let registry: RegistryState
    /// The gate's generation when the view was taken; the caller checks it first (`LocalReadGate.answers`).
    public let generation: UInt64
    /// `LocalReadGate.mayAnswer` of the key the view was taken at.
    public let mayAnswer: Bool
    /// `LocalReadGate.answersLinearizable` of the key the view was taken at.
    public let answersLinearizable: Bool
    /// The log index applied to `registry`: the view answers linearizable reads whose read barrier passed at or
    /// below it (`answer(afterBarrierAt:…)`).
    public let appliedIndex: UInt64

    /// A view of `registry`, the state `key` describes, at `generation`.
    public init(registry: RegistryState, generation: UInt64, key: LocalReadGate.Key) {
        self.registry = registry
        self.generation = generation
        self.mayAnswer = LocalReadGate.mayAnswer(key)
        self.answersLinearizable = LocalReadGate.answersLinearizable(key)
        self.appliedIndex = key.appliedIndex
    }

    /// The read's answer, exactly as the node would give it; nil when it must go through the node instead: local
    /// reads fenced or the node shutting down, a lease query (its TTL is the leader's countdown), a minimum revision
    /// not reached, or a linearizable read on a node that is not the caught-up sole voter.
    public func answer(_ query: RegistryQuery, options: ReadOptions, leaderContactAgeMilliseconds: UInt64?) -> NodeResponse? {
        guard options.consistency == .serializable || answersLinearizable else { return nil }
        return answerFromState(query, options: options, leaderContactAgeMilliseconds: leaderContactAgeMilliseconds)
    }

    /// A linearizable read's answer after its read barrier (`NodeRequest.readBarrier`, asked after the read arrived)
    /// passed at `barrierIndex`: from this view when it holds that index applied, whatever generation it is of,
    /// since it then holds every write acknowledged anywhere before the read began, which is all a linearizable read
    /// promises. Nil when the read must go through the node instead (as `answer`, and a view older than the barrier).
    ///
    /// Planted fault `barrier-any-view` (the simulator's: a barrier index of zero, so any view answers) shows that
    /// the simulator's linearizable-read check catches a view older than the barrier.
    public func answer(
        afterBarrierAt barrierIndex: UInt64, _ query: RegistryQuery, options: ReadOptions,
        leaderContactAgeMilliseconds: UInt64?
    ) -> NodeResponse? {
        guard appliedIndex >= barrierIndex else { return nil }
        return answerFromState(query, options: options, leaderContactAgeMilliseconds: leaderContactAgeMilliseconds)
    }

    /// The answer from `registry` when the view may answer at all, the state alone answers the query and the minimum
    /// revision is reached.
    private func answerFromState(_ query: RegistryQuery, options: ReadOptions, leaderContactAgeMilliseconds: UInt64?)
        -> NodeResponse?
    {
        guard mayAnswer, query.isAnsweredByStateAlone, registry.revision >= (options.minRevision ?? .zero) else { return nil }
        return registry.answer(query, options: options, leaderContactAgeMilliseconds: leaderContactAgeMilliseconds)
    }
}
