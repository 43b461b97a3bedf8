import Raft
import RosterNode

/// A rule the simulator can be told to break, to show that its checkers catch the broken node:
/// Raft rules (`RaftFault`) and the node's lease and read rules (`NodeFault`).
public enum PlantedFault: String, CaseIterable, Hashable, Sendable {
    case commitPreviousTerm = "commit-previous-term"
    case voteBeforePersisting = "vote-before-persisting"
    case skipLogCheck = "skip-log-check"
    case noReadFence = "no-read-fence"
    case expireLeasesOnFollowers = "expire-on-follower"
    case noLeaseGrace = "no-lease-grace"
    case readBeforeReadIndex = "read-before-read-index"
    case snapshotLabelledLate = "snapshot-labelled-late"
    case readJoinsEarlierReadIndex = "read-joins-earlier-read-index"
    case localAnswerWithoutFence = "local-answer-without-fence"
    /// A view of the applied state (the server's I/O loops answer serializable reads from one) answers after its
    /// generation passed (`LocalReadGate`).
    case staleLocalView = "stale-local-view"
    /// A view of the applied state answers linearizable reads though the node is not the caught-up sole voter
    /// (`LocalReadGate.answersLinearizable`).
    case linearizableView = "linearizable-view"
    /// A linearizable read whose read barrier passed is answered from whatever view the node last published, without
    /// the node publishing one at or after the barrier's index (`LocalReadView.answer(afterBarrierAt:…)`).
    case barrierAnyView = "barrier-any-view"
    /// A restarted node numbers its requests from 1 again, so an answer sent to its previous incarnation can match
    /// one of its new requests (`NodeDriver.nextInternalID`).
    case internalIDsRestart = "internal-ids-restart"
    /// A leader names the lease of a registration it proposes together with the grant without checking that no lease
    /// has that ID and no grant ahead of it takes it (`GrantsInFlight`).
    case leasesNamedUnchecked = "leases-named-unchecked"
    /// A Ready written in the background sends its votes and acknowledgements before the write is durable
    /// (`NodeDriver.persistInBackground`).
    case acknowledgeBeforeDurable = "ack-before-durable"

    var raftFault: RaftFault? {
        switch self {
        case .commitPreviousTerm: .commitPreviousTermByCounting
        case .voteBeforePersisting: .voteBeforePersisting
        case .skipLogCheck: .skipLogUpToDateCheck
        case .noReadFence: .localReadsWithoutFence
        default: nil
        }
    }

    var nodeFault: NodeFault? {
        switch self {
        case .expireLeasesOnFollowers: .expireLeasesOnFollowers
        case .noLeaseGrace: .noLeaseGraceOnLeaderChange
        case .readBeforeReadIndex: .linearizableReadsWithoutReadIndex
        case .snapshotLabelledLate: .snapshotLabelledAtCompletion
        case .readJoinsEarlierReadIndex: .readsJoinEarlierReadIndex
        case .localAnswerWithoutFence: .localAnswersWithoutFence
        case .internalIDsRestart: .internalIDsRestartAtOne
        case .leasesNamedUnchecked: .leasesNamedUnchecked
        case .acknowledgeBeforeDurable: .acknowledgeBeforeDurable
        default: nil
        }
    }
}
