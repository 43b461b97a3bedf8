/// The members of the cluster: voters decide elections and commits, learners only replicate.
///
/// Invariant: `voters` and `learners` are sorted and disjoint, so that every iteration over members is
/// deterministic (Swift's hashing is seeded per process).
public struct Configuration: Hashable, Sendable, CustomStringConvertible {
    public private(set) var voters: [NodeID]
    public private(set) var learners: [NodeID]

    public init(voters: [NodeID], learners: [NodeID] = []) {
        self.voters = Array(Set(voters)).sorted()
        self.learners = Array(Set(learners).subtracting(voters)).sorted()
    }

    /// Every member, voters first, each list sorted.
    public var members: [NodeID] { voters + learners }

    public func isVoter(_ id: NodeID) -> Bool { voters.contains(id) }
    public func isLearner(_ id: NodeID) -> Bool { learners.contains(id) }
    public func contains(_ id: NodeID) -> Bool { isVoter(id) || isLearner(id) }

    /// Votes needed for a majority of voters.
    public var quorum: Int { voters.count / 2 + 1 }

    /// Why a change cannot be applied to this configuration.
    public enum ChangeRejection: Error, Hashable, Sendable {
        case alreadyMember(NodeID)
        case notLearner(NodeID)
        case notMember(NodeID)
        case wouldRemoveLastVoter
    }

    /// The configuration after `change`, or why it does not apply.
    public func applying(_ change: MembershipChange) -> Result<Configuration, ChangeRejection> {
        switch change {
        case .addLearner(let id):
            guard !contains(id) else { return .failure(.alreadyMember(id)) }
            return .success(Configuration(voters: voters, learners: learners + [id]))
        case .promoteLearner(let id):
            guard isLearner(id) else { return .failure(.notLearner(id)) }
            return .success(Configuration(voters: voters + [id], learners: learners.filter { $0 != id }))
        case .remove(let id):
            guard contains(id) else { return .failure(.notMember(id)) }
            guard voters != [id] else { return .failure(.wouldRemoveLastVoter) }
            return .success(Configuration(voters: voters.filter { $0 != id }, learners: learners.filter { $0 != id }))
        }
    }

    public var description: String {
        learners.isEmpty ? "voters=\(voters)" : "voters=\(voters) learners=\(learners)"
    }
}
