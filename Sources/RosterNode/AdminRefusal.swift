/// Why the leader refused a membership request. Typed, so each API can answer with its own error (etcd's
/// clients match the exact etcd error for each of these), and each says what to do about it.
public enum AdminRefusal: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// No member of the configuration has this name (or the ID derived from it).
    case memberNotFound(name: String)
    /// The configuration already has a member of this name.
    case memberExists(name: String)
    /// Another member of the configuration already uses this peer address.
    case peerAddressInUse(address: String, member: String)
    /// The configuration already holds `limit` learners (etcd 3.4 allows one at a time).
    case tooManyLearners(limit: Int)
    /// The learner has not caught up with the leader's log yet; promote it once it has.
    case learnerNotReady(name: String, matchIndex: UInt64, lastIndex: UInt64)
    /// Only a learner can be promoted; this member already votes.
    case notLearner(name: String)
    /// After the change too few voters would be reachable to form a quorum, or none would be left.
    case notEnoughVoters(reason: String)
    /// Another membership change is still uncommitted; changes go one at a time. Retry shortly.
    case changeInProgress
    /// A new leader has not yet committed an entry of its term. Retry shortly.
    case leaderNotReady
    /// Any other refusal (leadership transfer), as text.
    case other(String)

    public init(stringLiteral value: String) { self = .other(value) }

    public var description: String {
        switch self {
        case .memberNotFound(let name): "no member named \(name) in the configuration"
        case .memberExists(let name): "\(name) is already a member; remove it first to add it again"
        case .peerAddressInUse(let address, let member): "peer address \(address) is already used by member \(member)"
        case .tooManyLearners(let limit):
            "the cluster already has \(limit) learner(s), the limit; promote or remove it before adding another"
        case .learnerNotReady(let name, let match, let last):
            "learner \(name) has replicated up to index \(match) of \(last); promote it once it has caught up"
        case .notLearner(let name): "\(name) is not a learner: only a learner can be promoted"
        case .notEnoughVoters(let reason): reason
        case .changeInProgress: "another membership change is not committed yet; retry when it is"
        case .leaderNotReady: "the leader has not committed an entry of its term yet; retry shortly"
        case .other(let text): text
        }
    }
}
