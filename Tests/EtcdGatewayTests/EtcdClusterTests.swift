// Goal: etcd's Cluster calls (MemberAdd, MemberRemove, MemberPromote, MemberUpdate) and Maintenance.Alarm map
// onto Roster's membership as documented (member IDs are the IDs Roster derives from names; a member added
// through etcd is named after its peer URL), and every refusal is etcd 3.4's exact status, since clientv3 and
// etcdctl match on it. Method: plans and reply encodings checked directly, one claim per test; expected
// messages copied from etcd's rpctypes/error.go.
import EtcdAPI
@testable import EtcdGateway
import GRPC
import Protobuf
import Raft
import RosterNode
import Testing

@Suite("etcd Cluster and Alarm")
struct EtcdClusterTests {
    static let n1 = RosterNode.Member(
        id: RosterNode.Member.id(forName: "n1"), name: "n1", peerAddress: "127.0.0.1:2380", clientAddress: "127.0.0.1:2379")
    static let n2 = RosterNode.Member(id: RosterNode.Member.id(forName: "n2"), name: "n2", peerAddress: "127.0.0.1:2382")

    private func plan(_ method: EtcdMethod, _ message: some ProtoMessage) -> EtcdUnaryPlan {
        EtcdUnary.plan(method, payload: message.encoded(), minimumTTLMilliseconds: 2_000, members: [Self.n1, Self.n2])
    }

    private func failure(_ plan: EtcdUnaryPlan) -> GRPCStatus? {
        if case .fail(let status) = plan { return status }
        return nil
    }

    @Test("MemberAdd --learner adds a learner named after its peer URL; its etcd ID is Roster's ID of that name")
    func addLearner() throws {
        let plan = plan(.memberAdd, MemberAddRequest(peerURLs: ["http://10.0.0.4:2380"], isLearner: true))
        guard case .submit(.admin(.addLearner(let name, let address)), .memberAdd(let member)) = plan else {
            Issue.record("unexpected plan \(plan)")
            return
        }
        #expect(name == "10.0.0.4-2380")
        #expect(address == "10.0.0.4:2380")
        #expect(member.id == RosterNode.Member.id(forName: "10.0.0.4-2380").rawValue)
        #expect(member.peerURLs == ["http://10.0.0.4:2380"] && member.isLearner && member.name.isEmpty)
    }

    @Test("an IPv6 peer URL names the member with dashes for the characters a name cannot hold")
    func ipv6Name() {
        #expect(EtcdMembers.name(forPeerAddress: "[fd00::4]:2380") == "fd00--4-2380")
        #expect(EtcdMembers.peerAddress(["http://[fd00::4]:2380"]) == "[fd00::4]:2380")
    }

    @Test("peer URLs etcd's NewURLs refuses, and more than one, are 'etcdserver: given member URLs are invalid'",
          arguments: [[], ["10.0.0.4:2380"], ["ftp://10.0.0.4:2380"], ["http://10.0.0.4"], ["http://10.0.0.4:2380/path"],
                      ["http://10.0.0.4:x"], ["http://:2380"], ["unix://sock:1"], ["http://a:1", "http://b:2"]])
    func badURLs(urls: [String]) {
        let expected = GRPCStatus(code: .invalidArgument, message: "etcdserver: given member URLs are invalid")
        #expect(failure(plan(.memberAdd, MemberAddRequest(peerURLs: urls, isLearner: true))) == expected)
        #expect(failure(plan(.memberUpdate, MemberUpdateRequest(id: Self.n2.id.rawValue, peerURLs: urls))) == expected)
    }

    @Test("MemberAdd of a voter adds a member the leader promotes once it has caught up")
    func addVoter() {
        let plan = plan(.memberAdd, MemberAddRequest(peerURLs: ["http://10.0.0.4:2380"]))
        guard case .submit(.admin(.addVoter(let name, let address)), .memberAdd(let member)) = plan else {
            Issue.record("unexpected plan \(plan)")
            return
        }
        #expect(name == "10.0.0.4-2380" && address == "10.0.0.4:2380")
        #expect(!member.isLearner)
    }

    @Test("remove, promote and update name the member by its ID; an unknown ID is 'etcdserver: member not found'")
    func byID() {
        let id = Self.n2.id.rawValue
        #expect(plan(.memberRemove, MemberRemoveRequest(id: id)) == .submit(.admin(.remove(name: "n2")), .memberRemove))
        #expect(plan(.memberPromote, MemberPromoteRequest(id: id)) == .submit(.admin(.promote(name: "n2")), .memberPromote))
        #expect(
            plan(.memberUpdate, MemberUpdateRequest(id: id, peerURLs: ["http://127.0.0.1:2390"]))
                == .submit(.admin(.updatePeerAddress(name: "n2", peerAddress: "127.0.0.1:2390")), .memberUpdate))
        let notFound = GRPCStatus(code: .notFound, message: "etcdserver: member not found")
        #expect(failure(plan(.memberRemove, MemberRemoveRequest(id: 0x1234))) == notFound)
        #expect(failure(plan(.memberPromote, MemberPromoteRequest(id: 0x1234))) == notFound)
        #expect(failure(plan(.memberUpdate, MemberUpdateRequest(id: 0x1234, peerURLs: ["http://a:1"]))) == notFound)
    }

    @Test("each membership refusal is etcd's status", arguments: [
        (AdminRefusal.memberNotFound(name: "x"), GRPCStatusCode.notFound, "etcdserver: member not found"),
        (.memberExists(name: "x"), .failedPrecondition, "etcdserver: member ID already exist"),
        (.peerAddressInUse(address: "a:1", member: "n1"), .failedPrecondition, "etcdserver: Peer URLs already exists"),
        (.tooManyLearners(limit: 1), .failedPrecondition, "etcdserver: too many learner members in cluster"),
        (.learnerNotReady(name: "x", matchIndex: 1, lastIndex: 9), .failedPrecondition,
         "etcdserver: can only promote a learner member which is in sync with leader"),
        (.notLearner(name: "x"), .failedPrecondition, "etcdserver: can only promote a learner member"),
        (.notEnoughVoters(reason: "r"), .failedPrecondition,
         "etcdserver: re-configuration failed due to not enough started members"),
        (.changeInProgress, .unavailable, "etcdserver: too many requests"),
    ])
    func refusals(refusal: AdminRefusal, code: GRPCStatusCode, message: String) {
        #expect(EtcdStatus.of(NodeFailure.membershipRefused(refusal)) == GRPCStatus(code: code, message: message))
    }

    @Test("an applied MemberAdd answers the added member and every member, with a header without revision")
    func addReply() throws {
        var added = EtcdAPI.Member()
        added.id = 7
        added.peerURLs = ["http://10.0.0.4:2380"]
        added.isLearner = true
        let members = [EtcdAPI.Member(id: 1, name: "n1"), added]
        let bytes = try EtcdReply.memberAdd(added).encode(
            .admin(.membershipChanged(Configuration(voters: [NodeID(1)], learners: [NodeID(7)]))), context: testContext,
            currentRevision: 5, members: members
        ).get()
        let answer = try MemberAddResponse(decoding: bytes)
        #expect(answer.member == added)
        #expect(answer.members == members)
        #expect(answer.header?.revision == 0 && answer.header?.memberID == testContext.memberID)
    }

    @Test("a member no node has heard from is listed without a name, as etcd lists an unstarted member")
    func unstartedMember() {
        let learner = RosterNode.Member(id: RosterNode.Member.id(forName: "x"), name: "x", peerAddress: "10.0.0.9:2380")
        let listed = EtcdLocalAnswer.members(
            configuration: Configuration(voters: [Self.n1.id], learners: [learner.id]), directory: [Self.n1, learner],
            ownID: Self.n1.id.rawValue, ownClientURL: "http://127.0.0.1:2379")
        let unstarted = listed.first { $0.id == learner.id.rawValue }
        #expect(unstarted?.name == "" && unstarted?.clientURLs == [] && unstarted?.isLearner == true)
        #expect(unstarted?.peerURLs == ["http://10.0.0.9:2380"])
        #expect(listed.first { $0.id == Self.n1.id.rawValue }?.name == "n1")
    }

    @Test("Alarm GET lists the replicated NOSPACE alarms by member ID; DEACTIVATE clears one; ACTIVATE is refused")
    func alarms() throws {
        var node = Node()
        node.apply(AlarmDirectory.raiseNoSpace(member: "n2"))
        let get = plan(.alarm, AlarmRequest(action: .get))
        guard case .submit(let read, let reply) = get else {
            Issue.record("unexpected plan \(get)")
            return
        }
        let listed = try AlarmResponse(decoding: try reply.encode(node.serve(read), context: testContext, currentRevision: 1).get())
        #expect(listed.alarms == [AlarmMember(memberID: Self.n2.id.rawValue, alarm: .noSpace)])
        let deactivate = plan(.alarm, AlarmRequest(action: .deactivate, memberID: Self.n2.id.rawValue, alarm: .noSpace))
        guard case .submit(let write, let cleared) = deactivate else {
            Issue.record("unexpected plan \(deactivate)")
            return
        }
        let answer = try AlarmResponse(decoding: try cleared.encode(node.serve(write), context: testContext, currentRevision: 2).get())
        #expect(answer.alarms == [AlarmMember(memberID: Self.n2.id.rawValue, alarm: .noSpace)])
        #expect(AlarmDirectory.alarms(in: node.registry).isEmpty)
        // An unknown member has no alarm to clear: answered at once with none, as etcd does.
        #expect(plan(.alarm, AlarmRequest(action: .deactivate, memberID: 0x1234, alarm: .noSpace)) == .local(.alarmList))
        #expect(failure(plan(.alarm, AlarmRequest(action: .activate, memberID: 1, alarm: .noSpace)))?.code == .unimplemented)
    }
}
