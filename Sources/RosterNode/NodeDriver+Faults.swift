import Raft
import Registry

// MARK: - Planted faults (testing only; `NodeOptions.faults` is empty in production)

extension NodeDriver {
    /// Whether this node counts lease deadlines while a follower (`NodeFault.expireLeasesOnFollowers`).
    var followerCountsLeases: Bool { options.faults.contains(.expireLeasesOnFollowers) }

    /// The planted fault's follower: sends the expiries its own clock finds due to the leader, as
    /// forwarded writes whose answers nobody waits for.
    mutating func forwardFollowerExpiries() {
        for command in keeper.commandsDue(nowMilliseconds: now) {
            guard case .expireLeases = command else { continue }
            proposeUnanswered(command)
        }
    }
}
