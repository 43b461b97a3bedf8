// Goal: a registration with a TTL is one driver request (`NodeRequest.registerWithLease`): the driver
// grants a lease, registers the instance under it, answers exactly once, and revokes the lease when the
// registration does not apply, so no orphan lease lingers for a TTL.
// Method: a deterministic `DriverCluster` (the answers land in `Delivered`, which traps on a second
// answer); the registry on every node is inspected after the cluster settles.
import Raft
import Registry
import RosterNode
import Testing

@Suite("Registration with a lease")
struct RegisterWithLeaseTests {
    static let name = InstanceName(namespace: "default", service: "payments", id: "r1")

    @Test("a registration with a lease through a follower is answered once, with the instance under a new lease of that TTL")
    func registersUnderNewLease() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let follower = NodeDriverTests.follower(of: cluster)
        let request = cluster.submit(.registerWithLease(DriverCluster.instance("r1"), ttlMilliseconds: 5_000), to: follower)
        cluster.run(milliseconds: 500)
        guard case .written(let applied) = cluster.response(request, on: follower),
            case .instanceRegistered(let instance, _) = applied.response, let lease = instance.lease
        else {
            Issue.record("no registration answer: \(String(describing: cluster.response(request, on: follower)))")
            return
        }
        for node in ["n1", "n2", "n3"] {
            #expect(cluster[node].registry.instance(named: Self.name)?.lease == lease)
            #expect(cluster[node].registry.leases().map(\.id) == [lease])
            #expect(cluster[node].registry.leases().first?.grantedTTLMilliseconds == 5_000)
        }
    }

    @Test("a registration the registry rejects is answered with the rejection and its lease is revoked")
    func rejectedRegistrationRevokesLease() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let leader = cluster.leaderName!
        let current = cluster.submit(.write(.registerInstance(DriverCluster.instance("r1", incarnation: 5))), to: leader)
        cluster.run(milliseconds: 200)
        #expect(cluster.response(current, on: leader).map { if case .written = $0 { true } else { false } } == true)
        let follower = NodeDriverTests.follower(of: cluster)
        let stale = cluster.submit(.registerWithLease(DriverCluster.instance("r1", incarnation: 1), ttlMilliseconds: 5_000), to: follower)
        cluster.run(milliseconds: 500)
        guard case .rejected = cluster.response(stale, on: follower) else {
            Issue.record("stale registration not rejected: \(String(describing: cluster.response(stale, on: follower)))")
            return
        }
        for node in ["n1", "n2", "n3"] {
            #expect(cluster[node].registry.leases().isEmpty, "the lease granted for the rejected registration is revoked")
            #expect(cluster[node].registry.instance(named: Self.name)?.incarnation == 5)
        }
    }

    @Test("with no leader a registration with a lease fails at once with the grant's failure and registers nothing")
    func noLeader() {
        var cluster = DriverCluster(3)
        let request = cluster.submit(.registerWithLease(DriverCluster.instance("r1"), ttlMilliseconds: 5_000), to: "n1")
        #expect(cluster.response(request, on: "n1") == .failed(.noLeader(retryAfterMilliseconds: 1_000)))
        cluster.electLeader()
        #expect(cluster["n1"].registry.leases().isEmpty)
        #expect(cluster["n1"].registry.instance(named: Self.name) == nil)
    }

    @Test("a registration cancelled after its grant applied revokes the lease and is never answered")
    func cancelledAfterGrant() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let leader = cluster.leaderName!
        // A grant without an ID ahead of it, so the registration goes in two steps (`GrantsInFlight`).
        let other = RequestID(900)
        cluster[leader].submit(.write(.grantLease(id: nil, ttlMilliseconds: 5_000, grantedAtMilliseconds: 0)), id: other)
        let request = cluster.submit(.registerWithLease(DriverCluster.instance("r1"), ttlMilliseconds: 5_000), to: leader)
        // Deliver until the grant applied on the leader; the registration is then proposed, not yet committed.
        for _ in 0..<10 where cluster[leader].registry.leases().count < 2 {
            cluster.deliver(rounds: 1)
        }
        #expect(cluster[leader].registry.leases().count == 2)
        cluster[leader].cancel(request)
        cluster.processReady(leader)
        cluster.run(milliseconds: 500)
        #expect(cluster.response(request, on: leader) == nil)
        let otherLease = WholeRegistrationForwardingTests.grantedLease(cluster.response(other, on: leader))
        for node in ["n1", "n2", "n3"] {
            #expect(cluster[node].registry.leases().map(\.id) == otherLease.map { [$0] } ?? [], "only the other grant's lease")
        }
    }
}
