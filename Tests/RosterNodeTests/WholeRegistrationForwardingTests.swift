// Goal: a follower hands a registration with a lease to the leader whole (`ForwardMessage.registerWithLease`), so
// it costs one forward and one commit notice, not two; a leader of an earlier version, which takes the message for
// a `propose` whose command does not decode, answers `malformed`, and the follower then registers in two writes
// without losing the request.
// Method: a deterministic `DriverCluster`; the forwards a follower sends are inspected, and an earlier leader's
// answer is played by hand in place of delivering the forward.
import Codec
import Raft
import Registry
import RosterNode
import Testing

@Suite("Registration handed to the leader whole")
struct WholeRegistrationForwardingTests {
    static func isWholeRegistration(_ forward: ForwardMessage) -> Bool {
        if case .registerWithLease = forward { true } else { false }
    }

    static func isPropose(_ forward: ForwardMessage) -> Bool {
        if case .propose = forward { true } else { false }
    }

    static func grantedLease(_ response: NodeResponse?) -> LeaseID? {
        guard case .written(let applied)? = response, case .leaseGranted(let lease, _) = applied.response else { return nil }
        return lease
    }

    static func registeredLease(_ response: NodeResponse?) -> LeaseID? {
        guard case .written(let applied)? = response, case .instanceRegistered(let instance, _) = applied.response else { return nil }
        return instance.lease
    }

    /// A 3-member cluster with a leader, and a registration of r1 with a lease submitted to a follower.
    static func registrationThroughFollower() -> (DriverCluster, follower: String, request: RequestID) {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let follower = NodeDriverTests.follower(of: cluster)
        let request = cluster.submit(.registerWithLease(DriverCluster.instance("r1"), ttlMilliseconds: 5_000), to: follower)
        return (cluster, follower, request)
    }

    @Test("a follower sends one forward for a registration with a lease, and nothing more until it is answered")
    func oneForward() {
        var (cluster, follower, request) = Self.registrationThroughFollower()
        let sent = cluster.delivered(follower).forwards.map(\.message)
        #expect(sent.count == 1 && sent.allSatisfy(Self.isWholeRegistration), "one whole registration forwarded: \(sent)")
        // Count every forward the follower sends until the answer: the leader's answer needs no second one.
        var forwardsSent = sent.count
        for _ in 0..<20 where cluster.response(request, on: follower) == nil {
            cluster.deliver(rounds: 1)
            forwardsSent += cluster.delivered(follower).forwards.count
        }
        #expect(forwardsSent == 1)
        let lease = Self.registeredLease(cluster.response(request, on: follower))
        #expect(lease != nil, "answered: \(String(describing: cluster.response(request, on: follower)))")
        cluster.run(milliseconds: 300)
        for node in ["n1", "n2", "n3"] {
            #expect(cluster[node].registry.instance(named: RegisterWithLeaseTests.name)?.lease == lease)
            #expect(cluster[node].registry.leases().map(\.id) == lease.map { [$0] } ?? [])
        }
    }

    @Test("a whole registration delivered twice is granted and registered once")
    func duplicateTakenOnce() {
        var (cluster, follower, request) = Self.registrationThroughFollower()
        let leader = cluster.leader!
        guard let forward = cluster.delivered(follower).forwards.first?.message else {
            Issue.record("nothing forwarded")
            return
        }
        // The network delivers it a second time, before and after the first has gone through.
        cluster[cluster.leaderName!].receive(forward, from: cluster.id(follower))
        cluster.processReady(leader)
        cluster.run(milliseconds: 500)
        cluster[cluster.leaderName!].receive(forward, from: cluster.id(follower))
        cluster.processReady(leader)
        cluster.run(milliseconds: 500)
        let lease = Self.registeredLease(cluster.response(request, on: follower))
        #expect(lease != nil)
        for node in ["n1", "n2", "n3"] {
            #expect(cluster[node].registry.leases().map(\.id) == lease.map { [$0] } ?? [], "\(node): one lease")
            #expect(cluster[node].registry.instance(named: RegisterWithLeaseTests.name)?.lease == lease, "\(node): under the lease told")
        }
    }

    @Test("on the wire a whole registration is a propose whose command an earlier leader cannot decode")
    func earlierLeaderReadsMalformedPropose() throws {
        let register = RegistryCommand.registerInstance(DriverCluster.instance("r1")).encoded()
        let message = ForwardMessage.registerWithLease(request: 42, ttlMilliseconds: 5_000, register: register)
        let bytes = message.encoded()
        #expect(try ForwardMessage.decode(bytes, maxCommandBytes: 1 << 20) == message)
        // What an earlier version reads: tag 1 (propose), the request, then a command it decodes and refuses.
        var reader = ByteReader(bytes)
        #expect(try reader.readByte() == 1)
        #expect(try reader.readVarint() == 42)
        let command = try reader.readLengthPrefixed("command", limit: 1 << 20)
        #expect(throws: CodecError.self) { try RegistryCommand.decode(command, limits: RegistryLimits()) }
        // And a plain propose still decodes as one.
        let propose = ForwardMessage.propose(request: 7, command: register)
        #expect(try ForwardMessage.decode(propose.encoded(), maxCommandBytes: 1 << 20) == propose)
    }

    @Test("a truncated or over-long whole registration is refused, never trapped on")
    func truncatedIsRefused() {
        let register = RegistryCommand.registerInstance(DriverCluster.instance("r1")).encoded()
        let bytes = ForwardMessage.registerWithLease(request: 42, ttlMilliseconds: 5_000, register: register).encoded()
        for cut in 1..<bytes.count {
            #expect(throws: CodecError.self) { try ForwardMessage.decode(Array(bytes[..<cut]), maxCommandBytes: 1 << 20) }
        }
        #expect(throws: CodecError.self) { try ForwardMessage.decode(bytes, maxCommandBytes: 8) }
    }

    @Test("a leader that answers the whole registration malformed gets it in two writes, and so does the next one this term")
    func earlierLeaderFallsBackToTwoWrites() {
        var (cluster, follower, request) = Self.registrationThroughFollower()
        let leader = cluster.leader!
        guard case .registerWithLease(let internalID, _, _)? = cluster.delivered(follower).forwards.first?.message else {
            Issue.record("no whole registration forwarded: \(cluster.delivered(follower).forwards)")
            return
        }
        // The earlier leader's answer, in place of delivering the forward.
        cluster.delivered[cluster.id(follower)]!.forwards = []
        cluster[follower].receive(
            .proposed(request: internalID, outcome: .malformed(reason: "unknown command version 241")), from: leader)
        cluster.processReady(follower)
        let resent = cluster.delivered(follower).forwards.map(\.message)
        #expect(resent.count == 1 && resent.allSatisfy(Self.isPropose), "the grant forwarded on its own: \(resent)")
        cluster.run(milliseconds: 500)
        #expect(Self.registeredLease(cluster.response(request, on: follower)) != nil)

        let second = cluster.submit(.registerWithLease(DriverCluster.instance("r2"), ttlMilliseconds: 5_000), to: follower)
        let sent = cluster.delivered(follower).forwards.map(\.message)
        #expect(sent.count == 1 && sent.allSatisfy(Self.isPropose), "two writes again this term: \(sent)")
        cluster.run(milliseconds: 500)
        #expect(Self.registeredLease(cluster.response(second, on: follower)) != nil)
        #expect(cluster[follower].registry.leases().count == 2)
    }

    @Test("a whole registration whose leader steps down before it registers is answered once and leaves no lease")
    func leaderChangeMidway() {
        var (cluster, follower, request) = Self.registrationThroughFollower()
        let leader = cluster.leaderName!
        // Deliver until the grant applied on the leader, then cut the leader off before its registration commits.
        for _ in 0..<10 where cluster[leader].registry.leases().isEmpty {
            cluster.deliver(rounds: 1)
        }
        #expect(cluster[leader].registry.leases().count == 1)
        cluster.isolated.insert(cluster.id(leader))
        cluster.run(milliseconds: 3_000)
        cluster.isolated.remove(cluster.id(leader))
        cluster.run(milliseconds: 3_000)
        let response = cluster.response(request, on: follower)
        #expect(response != nil, "answered once (Delivered traps on a second answer)")
        let lease = Self.registeredLease(response)
        for node in ["n1", "n2", "n3"] {
            // Either it registered and the follower said so, or it did not and no lease is left behind.
            #expect(cluster[node].registry.instance(named: RegisterWithLeaseTests.name)?.lease == lease, "\(node)")
            #expect(cluster[node].registry.leases().map(\.id) == lease.map { [$0] } ?? [], "\(node) keeps no orphan lease")
        }
    }
}
