// Goal: a leader appends a registration with a TTL as its lease grant and the registration under the lease together,
// so both commit in one round, naming the lease in the grant; it does so only when nothing can take that ID first
// (`GrantsInFlight`), and otherwise registers in two steps as before. No lease it did not grant is ever revoked.
// Method: a deterministic `DriverCluster`; the leader's log is read right after the Ready that took the request,
// before any entry commits, and the registry on every node once the cluster settles.
import Raft
import Registry
import RosterNode
import Testing

@Suite("Registration with a lease in one commit round")
struct PipelinedRegistrationTests {
    /// The registry commands of the leader's log after `index`.
    static func commands(of cluster: DriverCluster, after index: LogIndex) -> [RegistryCommand] {
        cluster[cluster.leaderName!].raft.entries.filter { $0.index > index }.compactMap { entry in
            guard case .command(let bytes) = entry.payload else { return nil }
            return try? RegistryCommand.decode(bytes, limits: RegistryLimits()).payload
        }
    }

    static func isGrant(_ command: RegistryCommand, naming lease: LeaseID?) -> Bool {
        if case .grantLease(let id, _, _) = command { id == lease } else { false }
    }

    @Test("on the leader the grant naming its index and the registration under it are appended in one Ready")
    func appendedTogether() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let leader = cluster.leaderName!
        let before = cluster[leader].raft.lastIndex
        let request = cluster.submit(.registerWithLease(DriverCluster.instance("r1"), ttlMilliseconds: 5_000), to: leader)
        let lease = LeaseID(before.rawValue + 1)
        let appended = Self.commands(of: cluster, after: before)
        #expect(appended.count == 2, "\(appended)")
        #expect(appended.first.map { Self.isGrant($0, naming: lease) } == true)
        if case .registerInstance(let instance)? = appended.last {
            #expect(instance.lease == lease)
        } else {
            Issue.record("no registration appended with the grant: \(appended)")
        }
        cluster.run(milliseconds: 300)
        #expect(WholeRegistrationForwardingTests.registeredLease(cluster.response(request, on: leader)) == lease)
        for node in ["n1", "n2", "n3"] {
            #expect(cluster[node].registry.instance(named: RegisterWithLeaseTests.name)?.lease == lease)
            #expect(cluster[node].registry.leases().map(\.id) == [lease])
        }
    }

    @Test("a follower's whole registration gets both indexes at once, and its client the lease the leader named")
    func throughFollower() {
        var (cluster, follower, request) = WholeRegistrationForwardingTests.registrationThroughFollower()
        let leader = cluster.leaderName!
        let before = cluster[leader].raft.lastIndex
        cluster.deliver(rounds: 1)
        let answers = cluster.delivered(leader).forwards.compactMap { forward -> ForwardOutcome? in
            if case .proposed(_, let outcome) = forward.message { outcome } else { nil }
        }
        #expect(answers == [.grantAccepted(index: before.next, term: cluster[leader].raft.term),
                            .accepted(index: before.next.next, term: cluster[leader].raft.term)])
        cluster.run(milliseconds: 300)
        #expect(WholeRegistrationForwardingTests.registeredLease(cluster.response(request, on: follower)) == LeaseID(before.rawValue + 1))
    }

    @Test("while a grant without an ID is in flight the registration waits for its own grant to apply")
    func unnamedGrantAhead() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let leader = cluster.leaderName!
        let before = cluster[leader].raft.lastIndex
        cluster[leader].submit(.write(.grantLease(id: nil, ttlMilliseconds: 5_000, grantedAtMilliseconds: 0)), id: RequestID(900))
        let request = cluster.submit(.registerWithLease(DriverCluster.instance("r1"), ttlMilliseconds: 5_000), to: leader)
        // The unnamed grant could take any ID from its index up: the registration's grant names none either.
        let appended = Self.commands(of: cluster, after: before)
        #expect(appended.count == 2 && appended.allSatisfy { Self.isGrant($0, naming: nil) }, "\(appended)")
        cluster.run(milliseconds: 300)
        let lease = WholeRegistrationForwardingTests.registeredLease(cluster.response(request, on: leader))
        #expect(lease != nil)
        #expect(cluster[leader].registry.leases().count == 2)
    }

    @Test("a lease a client named at the next index is not named again: the registration takes another")
    func clientNamedTheNextIndex() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let leader = cluster.leaderName!
        let clientLease = LeaseID(cluster[leader].raft.lastIndex.rawValue + 2)
        let grant = RequestID(900)
        cluster[leader].submit(.write(.grantLease(id: clientLease, ttlMilliseconds: 5_000, grantedAtMilliseconds: 0)), id: grant)
        // The registration's grant lands at the index the client's lease is named after.
        let request = cluster.submit(.registerWithLease(DriverCluster.instance("r1"), ttlMilliseconds: 7_000), to: leader)
        cluster.run(milliseconds: 500)
        let lease = WholeRegistrationForwardingTests.registeredLease(cluster.response(request, on: leader))
        #expect(lease != nil && lease != clientLease)
        #expect(cluster[leader].registry.lease(clientLease)?.grantedTTLMilliseconds == 5_000)
        #expect(lease.flatMap { cluster[leader].registry.lease($0)?.grantedTTLMilliseconds } == 7_000)
    }

    @Test("a leader cut off with the grant and the registration appended but unsent loses both; the follower's client hears once")
    func leaderCutOffBeforeReplicating() {
        var (cluster, follower, request) = WholeRegistrationForwardingTests.registrationThroughFollower()
        let leader = cluster.leaderName!
        let before = cluster[leader].raft.lastIndex
        cluster.deliver(rounds: 1)
        #expect(Self.commands(of: cluster, after: before).count == 2, "both appended on the leader")
        // Its appends never leave: the others elect a leader without them.
        cluster.isolated.insert(cluster.id(leader))
        cluster.run(milliseconds: 3_000)
        cluster.isolated.remove(cluster.id(leader))
        cluster.run(milliseconds: 3_000)
        #expect(cluster.response(request, on: follower) != nil, "answered once (Delivered traps on a second answer)")
        #expect(WholeRegistrationForwardingTests.registeredLease(cluster.response(request, on: follower)) == nil)
        for node in ["n1", "n2", "n3"] {
            #expect(cluster[node].registry.instance(named: RegisterWithLeaseTests.name) == nil, "\(node)")
            #expect(cluster[node].registry.leases().isEmpty, "\(node)")
        }
    }

    @Test("a registration cancelled before its grant applied leaves no lease and no instance")
    func cancelledBeforeGrantApplied() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let leader = cluster.leaderName!
        let request = cluster.submit(.registerWithLease(DriverCluster.instance("r1"), ttlMilliseconds: 5_000), to: leader)
        cluster[leader].cancel(request)
        cluster.processReady(leader)
        cluster.run(milliseconds: 500)
        #expect(cluster.response(request, on: leader) == nil)
        for node in ["n1", "n2", "n3"] {
            #expect(cluster[node].registry.leases().isEmpty, "\(node): the lease granted for it is revoked")
            #expect(cluster[node].registry.instance(named: RegisterWithLeaseTests.name) == nil, "\(node)")
        }
    }
}
