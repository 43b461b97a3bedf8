import EtcdAPI
import GRPC
import Raft
import RosterNode

/// etcd's Cluster service (MemberAdd, MemberRemove, MemberUpdate, MemberPromote) on Roster's membership.
///
/// IDs: etcd names a member by a uint64 ID and learns its name only when it starts; Roster derives a member's
/// Raft ID from its name (`Member.id(forName:)`, FNV-1a 64), and that ID is the etcd member ID everywhere
/// (MemberList, response headers, MoveLeader). A member added through MemberAdd gets its name from its peer
/// URL, since etcd's request carries none: `host-port`, every byte of the host outside `[A-Za-z0-9._-]` made
/// `-` (`http://10.0.0.4:2380` is `10.0.0.4-2380`). Start the new member with that `--name` and `--join`.
///
/// Roster adds every member as a learner first (thesis §4.2.1): MemberAdd with `is_learner` adds a learner
/// that MemberPromote promotes; MemberAdd without it adds a learner that the leader promotes by itself as soon
/// as it has caught up, so a member that is slow to start never weakens the quorum. Until then MemberList
/// shows it as a learner.
enum EtcdMembers {
    /// Longest member name a node accepts (`--name`).
    static let nameLimit = 64

    static func add(_ request: MemberAddRequest) -> EtcdUnaryPlan {
        guard let address = peerAddress(request.peerURLs) else { return .fail(EtcdStatus.error(.memberBadURLs)) }
        guard let name = name(forPeerAddress: address) else { return .fail(EtcdStatus.error(.memberBadURLs)) }
        var added = EtcdAPI.Member()
        added.id = RosterNode.Member.id(forName: name).rawValue
        added.peerURLs = request.peerURLs.map(trimmed).sorted()
        added.isLearner = request.isLearner
        let admin: AdminRequest =
            request.isLearner ? .addLearner(name: name, peerAddress: address) : .addVoter(name: name, peerAddress: address)
        return .submit(.admin(admin), .memberAdd(added))
    }

    static func remove(_ request: MemberRemoveRequest, members: [RosterNode.Member]) -> EtcdUnaryPlan {
        guard let member = members.first(where: { $0.id.rawValue == request.id }) else {
            return .fail(EtcdStatus.error(.memberNotFound))
        }
        return .submit(.admin(.remove(name: member.name)), .memberRemove)
    }

    static func promote(_ request: MemberPromoteRequest, members: [RosterNode.Member]) -> EtcdUnaryPlan {
        guard let member = members.first(where: { $0.id.rawValue == request.id }) else {
            return .fail(EtcdStatus.error(.memberNotFound))
        }
        return .submit(.admin(.promote(name: member.name)), .memberPromote)
    }

    static func update(_ request: MemberUpdateRequest, members: [RosterNode.Member]) -> EtcdUnaryPlan {
        guard let address = peerAddress(request.peerURLs) else { return .fail(EtcdStatus.error(.memberBadURLs)) }
        guard let member = members.first(where: { $0.id.rawValue == request.id }) else {
            return .fail(EtcdStatus.error(.memberNotFound))
        }
        return .submit(.admin(.updatePeerAddress(name: member.name, peerAddress: address)), .memberUpdate)
    }

    /// The one `host:port` of `urls`, checked as etcd's `types.NewURLs` checks them (scheme, `host:port`, no
    /// path); nil when they are invalid, or more than one (a Roster member has one peer address), or `unix`.
    static func peerAddress(_ urls: [String]) -> String? {
        guard urls.count == 1 else { return nil }
        let url = trimmed(urls[0])
        guard let schemeEnd = url.firstRange(of: "://") else { return nil }
        let scheme = url[..<schemeEnd.lowerBound]
        guard scheme == "http" || scheme == "https" else { return nil }
        let authority = url[schemeEnd.upperBound...]
        guard !authority.contains("/"), !authority.contains("?"), !authority.contains("#"), !authority.contains("@"),
            let (host, port) = hostAndPort(authority)
        else { return nil }
        return "\(host):\(port)"
    }

    /// `host:port` split as Go's `net.SplitHostPort`, with a non-empty host and a numeric port.
    static func hostAndPort(_ authority: Substring) -> (Substring, UInt16)? {
        guard let colon = authority.lastIndex(of: ":") else { return nil }
        let host = authority[..<colon]
        if host.first == "[" {
            guard host.last == "]", host.count > 2 else { return nil }
        } else {
            guard !host.isEmpty, !host.contains(":"), !host.contains("[") else { return nil }
        }
        guard let port = UInt16(authority[authority.index(after: colon)...]) else { return nil }
        return (host, port)
    }

    /// The name of a member added at `address` ("host:port"); nil when it would be longer than a node accepts.
    static func name(forPeerAddress address: String) -> String? {
        guard let colon = address.lastIndex(of: ":") else { return nil }
        let host = address[..<colon].filter { $0 != "[" && $0 != "]" }
        let safe = String(host.map { character -> Character in
            character.isASCII && (character.isLetter || character.isNumber || "._-".contains(character)) ? character : "-"
        })
        let name = "\(safe)-\(address[address.index(after: colon)...])"
        return name.utf8.count <= nameLimit ? name : nil
    }

    /// Without leading and trailing white space, as Go's `strings.TrimSpace`.
    private static func trimmed(_ text: String) -> String {
        let isSpace = { (character: Character) in character == " " || character == "\t" || character == "\n" || character == "\r" }
        return String(text.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }

    /// The answer to a membership call once the node applied it: etcd's header (no revision) and every member.
    static func reply(_ reply: EtcdReply, header: ResponseHeader, members: [EtcdAPI.Member]) -> [UInt8] {
        switch reply {
        case .memberAdd(let added):
            var answer = MemberAddResponse()
            answer.header = header
            answer.member = added
            answer.members = members
            return answer.encoded()
        case .memberRemove:
            var answer = MemberRemoveResponse()
            answer.header = header
            answer.members = members
            return answer.encoded()
        case .memberUpdate:
            var answer = MemberUpdateResponse()
            answer.header = header
            answer.members = members
            return answer.encoded()
        default:
            var answer = MemberPromoteResponse()
            answer.header = header
            answer.members = members
            return answer.encoded()
        }
    }
}
