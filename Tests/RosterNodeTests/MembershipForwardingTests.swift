// Goal: membership requests work through any member, with typed refusals. A follower forwards add, promote,
// remove and peer-address updates to the leader and answers once it has applied the change itself, so its
// own member list shows the change; the leader refuses what etcd refuses (unknown member, a peer address in
// use, a second learner, a learner not caught up, a voter promoted), and the refusal reaches the follower's
// client typed. Method: the in-memory `DriverCluster` of real drivers, one claim per test.
import Raft
import Registry
@testable import RosterNode
import Testing

@Suite("Membership through any member")
struct MembershipForwardingTests {
    static func follower(of cluster: DriverCluster) -> String {
        ["n1", "n2", "n3"].first { $0 != cluster.leaderName }!
    }

    static func refusal(_ response: NodeResponse?) -> AdminRefusal? {
        if case .failed(.membershipRefused(let refusal)) = response { return refusal }
        return nil
    }

    @Test("a follower forwards add, update, promote and remove, and answers once it applied each")
    func throughAFollower() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let follower = Self.follower(of: cluster)
        let add = cluster.submit(.admin(.addLearner(name: "n4", peerAddress: "127.0.0.1:2390")), to: follower)
        let joiner = Member(id: Member.id(forName: "n4"), name: "n4", peerAddress: "127.0.0.1:2390")
        cluster.start(joiner, persisted: .bootstrap(configuration: Configuration(voters: [])))
        cluster.run(milliseconds: 1_000)
        guard case .admin(.membershipChanged(let added)) = cluster.response(add, on: follower) else {
            Issue.record("learner not added: \(String(describing: cluster.response(add, on: follower)))")
            return
        }
        #expect(added.isLearner(joiner.id))
        #expect(cluster[follower].raft.configuration.isLearner(joiner.id))

        let update = cluster.submit(.admin(.updatePeerAddress(name: "n4", peerAddress: "127.0.0.1:2392")), to: follower)
        cluster.run(milliseconds: 300)
        #expect(cluster.response(update, on: follower).map { if case .admin = $0 { true } else { false } } == true)
        for name in ["n1", "n2", "n3"] {
            #expect(cluster[name].memberDirectory.contains { $0.name == "n4" && $0.peerAddress == "127.0.0.1:2392" }, "\(name)")
        }

        let promote = cluster.submit(.admin(.promote(name: "n4")), to: follower)
        cluster.run(milliseconds: 500)
        #expect(cluster.response(promote, on: follower).map { if case .admin = $0 { true } else { false } } == true)
        #expect(cluster[follower].raft.configuration.isVoter(joiner.id))

        let remove = cluster.submit(.admin(.remove(name: "n4")), to: follower)
        cluster.run(milliseconds: 500)
        guard case .admin(.membershipChanged(let final)) = cluster.response(remove, on: follower) else {
            Issue.record("member not removed: \(String(describing: cluster.response(remove, on: follower)))")
            return
        }
        #expect(!final.contains(joiner.id))
    }

    @Test("refusals are typed and reach a follower's client: unknown member, address in use, voter promoted")
    func refusalsThroughAFollower() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let follower = Self.follower(of: cluster)
        let unknown = cluster.submit(.admin(.remove(name: "nobody")), to: follower)
        let inUse = cluster.submit(.admin(.addLearner(name: "n9", peerAddress: "127.0.0.1:2384")), to: follower)
        let voter = cluster.submit(.admin(.promote(name: "n1")), to: follower)
        let update = cluster.submit(.admin(.updatePeerAddress(name: "n2", peerAddress: "127.0.0.1:2386")), to: follower)
        cluster.run(milliseconds: 300)
        #expect(Self.refusal(cluster.response(unknown, on: follower)) == .memberNotFound(name: "nobody"))
        #expect(Self.refusal(cluster.response(inUse, on: follower)) == .peerAddressInUse(address: "127.0.0.1:2384", member: "n2"))
        #expect(Self.refusal(cluster.response(voter, on: follower)) == .notLearner(name: "n1"))
        #expect(Self.refusal(cluster.response(update, on: follower)) == .peerAddressInUse(address: "127.0.0.1:2386", member: "n3"))
    }

    @Test("one learner at a time, as etcd 3.4: a second one is refused until the first is promoted or removed")
    func oneLearner() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let leader = cluster.leaderName!
        let first = cluster.submit(.admin(.addLearner(name: "n4", peerAddress: "127.0.0.1:2390")), to: leader)
        cluster.run(milliseconds: 300)
        #expect(cluster.response(first, on: leader).map { if case .admin = $0 { true } else { false } } == true)
        let second = cluster.submit(.admin(.addLearner(name: "n5", peerAddress: "127.0.0.1:2392")), to: leader)
        #expect(Self.refusal(cluster.response(second, on: leader)) == .tooManyLearners(limit: 1))
        let again = cluster.submit(.admin(.addLearner(name: "n4", peerAddress: "127.0.0.1:2394")), to: leader)
        #expect(Self.refusal(cluster.response(again, on: leader)) == .memberExists(name: "n4"))
        let sameAddress = cluster.submit(.admin(.addLearner(name: "n6", peerAddress: "127.0.0.1:2390")), to: leader)
        #expect(Self.refusal(cluster.response(sameAddress, on: leader)) == .peerAddressInUse(address: "127.0.0.1:2390", member: "n4"))
    }

    @Test("a learner that never started is not ready to promote")
    func learnerNotReady() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let leader = cluster.leaderName!
        _ = cluster.submit(.admin(.addLearner(name: "n4", peerAddress: "127.0.0.1:2390")), to: leader)
        cluster.run(milliseconds: 300)
        for number in 0..<20 { _ = cluster.submit(.write(.registerInstance(DriverCluster.instance("i\(number)"))), to: leader) }
        cluster.run(milliseconds: 300)
        let promote = cluster.submit(.admin(.promote(name: "n4")), to: leader)
        guard case .learnerNotReady(let name, _, _)? = Self.refusal(cluster.response(promote, on: leader)) else {
            Issue.record("promotion not refused: \(String(describing: cluster.response(promote, on: leader)))")
            return
        }
        #expect(name == "n4")
    }

    @Test("forwarded membership requests and their refusals survive the peer codec")
    func codec() throws {
        let messages: [ForwardMessage] = [
            .admin(request: 7, admin: .addLearner(name: "10.0.0.4-2380", peerAddress: "10.0.0.4:2380")),
            .admin(request: 8, admin: .updatePeerAddress(name: "n2", peerAddress: "h:1")),
            .admin(request: 9, admin: .promote(name: "n4")),
            .admin(request: 10, admin: .remove(name: "n4")),
            .admin(request: 11, admin: .addVoter(name: "n5", peerAddress: "10.0.0.5:2380")),
            .proposed(request: 7, outcome: .adminRefused(.learnerNotReady(name: "n4", matchIndex: 3, lastIndex: 90))),
            .proposed(request: 8, outcome: .adminRefused(.peerAddressInUse(address: "h:1", member: "n3"))),
            .proposed(request: 9, outcome: .adminRefused(.tooManyLearners(limit: 1))),
            .proposed(request: 10, outcome: .adminRefused(.changeInProgress)),
        ]
        for message in messages {
            #expect(try ForwardMessage.decode(message.encoded(), maxCommandBytes: 1_024) == message)
        }
    }
}

@Suite("Members added as voters")
struct AddVoterTests {
    @Test("a member added as a voter through a follower joins as a learner and the leader promotes it once caught up")
    func promotedOnceCaughtUp() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let follower = MembershipForwardingTests.follower(of: cluster)
        let add = cluster.submit(.admin(.addVoter(name: "n4", peerAddress: "127.0.0.1:2390")), to: follower)
        cluster.run(milliseconds: 500)
        guard case .admin(.membershipChanged(let added)) = cluster.response(add, on: follower) else {
            Issue.record("not added: \(String(describing: cluster.response(add, on: follower)))")
            return
        }
        let joiner = Member(id: Member.id(forName: "n4"), name: "n4", peerAddress: "127.0.0.1:2390")
        #expect(added.isLearner(joiner.id))
        // Not started: it stays a learner, however long the leader waits.
        cluster.run(milliseconds: 1_000)
        #expect(cluster[follower].raft.configuration.isLearner(joiner.id))
        // A second voter may be added meanwhile: etcd counts only learners added as learners.
        let second = cluster.submit(.admin(.addVoter(name: "n5", peerAddress: "127.0.0.1:2392")), to: cluster.leaderName!)
        cluster.run(milliseconds: 300)
        #expect(cluster.response(second, on: cluster.leaderName!).map { if case .admin = $0 { true } else { false } } == true)
        cluster.start(joiner, persisted: .bootstrap(configuration: Configuration(voters: [])))
        cluster.run(milliseconds: 2_000)
        #expect(cluster[follower].raft.configuration.isVoter(joiner.id))
        #expect(cluster[follower].memberDirectory.contains { $0.name == "n4" && $0.peerAddress == "127.0.0.1:2390" })
    }
}

@Suite("NOSPACE and nested transactions")
struct NoSpaceNestedTransactionTests {
    @Test("a transaction that puts only inside a nested transaction is refused under NOSPACE; deletes are not")
    func nestedPut() {
        let put = TransactionOperation.put(PutRequest(key: Array("k".utf8), value: Array("v".utf8)))
        let delete = TransactionOperation.deleteRange(DeleteRangeRequest(.key(Array("k".utf8))))
        let nestedPut = TransactionRequest(compares: [], success: [.transaction(TransactionRequest(compares: [], success: [], failure: [put]))])
        let nestedDelete = TransactionRequest(compares: [], success: [.transaction(TransactionRequest(compares: [], success: [delete]))])
        #expect(!AlarmDirectory.isAllowedWithoutSpace(.transaction(nestedPut)))
        #expect(AlarmDirectory.isAllowedWithoutSpace(.transaction(nestedDelete)))
    }
}
