import EtcdAPI
import Raft
import RosterNode

/// Answers to the calls served from the node's own status: MemberList, Status, Alarm and Defragment.
public enum EtcdLocalAnswer {
    /// The version Roster reports: the etcd API level it implements, so tools that check it enable exactly
    /// the 3.4 features.
    public static let apiVersion = "3.4.0"

    /// - Parameters:
    ///   - ownClientURL: This member's client URL (`http://host:port`), used when the directory lacks it.
    ///   - storageBytes: The on-disk state's size, reported as `db_size`.
    public static func answer(
        _ call: EtcdLocalCall, status: NodeStatus, context: EtcdHeaderContext, ownClientURL: String, storageBytes: Int64
    ) -> [UInt8] {
        let header = context.header(revision: status.revision)
        switch call {
        case .memberList:
            var answer = MemberListResponse()
            answer.header = context.header(revision: .zero)
            answer.members = members(status, ownID: context.memberID, ownClientURL: ownClientURL)
            return answer.encoded()
        case .status:
            var answer = StatusResponse()
            answer.header = header
            answer.version = apiVersion
            answer.dbSize = max(storageBytes, 1)
            answer.dbSizeInUse = max(storageBytes, 1)
            answer.leader = status.raft.leader?.rawValue ?? 0
            answer.raftIndex = status.raft.commitIndex.rawValue
            answer.raftTerm = status.raft.term.rawValue
            answer.raftAppliedIndex = status.raft.appliedIndex.rawValue
            return answer.encoded()
        case .alarmList:
            var answer = AlarmResponse()
            answer.header = header
            return answer.encoded()
        case .defragment:
            var answer = DefragmentResponse()
            answer.header = header
            return answer.encoded()
        case .leadershipAlreadyThere:
            var answer = MoveLeaderResponse()
            answer.header = header
            return answer.encoded()
        }
    }

    /// Every member with its peer and client URLs, voters and learners, in ID order. A member whose client
    /// address nobody announced yet has not started (as far as this node knows): like etcd's unstarted
    /// members it is listed without a name (etcdctl prints it "unstarted").
    public static func members(_ status: NodeStatus, ownID: UInt64, ownClientURL: String) -> [EtcdAPI.Member] {
        members(configuration: status.raft.configuration, directory: status.members, ownID: ownID, ownClientURL: ownClientURL)
    }

    /// Every member of `configuration`, described from the member `directory`.
    static func members(
        configuration: Configuration, directory: [RosterNode.Member], ownID: UInt64, ownClientURL: String
    ) -> [EtcdAPI.Member] {
        let ids = (configuration.voters + configuration.learners).sorted { $0.rawValue < $1.rawValue }
        return ids.map { id in
            var member = EtcdAPI.Member()
            member.id = id.rawValue
            member.isLearner = configuration.learners.contains(id)
            if let known = directory.first(where: { $0.id == id }) {
                member.peerURLs = ["http://\(known.peerAddress)"]
                if let client = known.clientAddress {
                    member.name = known.name
                    member.clientURLs = ["http://\(client)"]
                } else if id.rawValue == ownID {
                    member.name = known.name
                }
            }
            if id.rawValue == ownID && member.clientURLs.isEmpty { member.clientURLs = [ownClientURL] }
            return member
        }
    }
}
