/// The state Raft must persist before it answers any message that depends on it (Raft Figure 2):
/// the current term, the vote cast in it, and the highest index known to be committed.
public struct HardState: Hashable, Sendable, CustomStringConvertible {
    public var term: Term
    public var vote: NodeID?
    /// Persisted so a restarted node re-applies committed entries without waiting for a leader.
    public var commit: LogIndex

    public init(term: Term = .zero, vote: NodeID? = nil, commit: LogIndex = .zero) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }

    public var description: String { "term:\(term) vote:\(vote.map { "\($0)" } ?? "-") commit:\(commit)" }
}
