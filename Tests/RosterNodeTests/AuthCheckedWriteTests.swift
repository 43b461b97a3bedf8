// Goal: a write a member authorized at one auth revision does not apply once the log has moved auth past it: a
// permission revoked on the leader while a follower's forwarded registration is in flight refuses that
// registration (etcd's ErrAuthOldRevision, which clients answer by logging in again), and leaves no instance and no
// lease behind on any member. Method: a deterministic `DriverCluster`; the revoke is proposed on the leader before
// the follower's forward reaches it, so it comes first in the log.
import Raft
import Registry
import RosterNode
import Testing

@Suite("Auth-checked writes through the driver")
struct AuthCheckedWriteTests {
    static let credential = PasswordCredential(iterations: 1, salt: [1], hash: [2])
    static let prefix = KeyRange.prefix(Array("default/payments/".utf8))

    /// Root, and alice with readwrite on the payments service; auth on.
    static func cluster() -> DriverCluster {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let leader = cluster.leaderName!
        let setup: [AuthCommand] = [
            .addUser(name: "root", credential: credential), .grantRole(user: "root", role: "root"),
            .addUser(name: "alice", credential: credential), .addRole(name: "app"),
            .grantPermission(role: "app", permission: AuthPermission(.readWrite, prefix)),
            .grantRole(user: "alice", role: "app"), .enable(tokenSigningKey: Array(repeating: 1, count: 32)),
        ]
        for command in setup {
            let request = cluster.submit(.write(.auth(command)), to: leader)
            cluster.run(milliseconds: 200)
            guard case .written = cluster.response(request, on: leader) else {
                preconditionFailure("\(command): \(String(describing: cluster.response(request, on: leader)))")
            }
        }
        return cluster
    }

    @Test("a registration checked before a revoke that is ahead of it in the log is refused, leaving nothing behind")
    func revokedWhileForwarded() {
        var cluster = Self.cluster()
        let leader = cluster.leaderName!
        let follower = NodeDriverTests.follower(of: cluster)
        let checkedAt = cluster[follower].registry.auth.revision
        #expect(cluster[follower].registry.auth.isEnabled)

        let revoke = cluster.submit(.write(.auth(.revokePermission(role: "app", range: Self.prefix))), to: leader)
        let registration = cluster.submit(
            .registerWithLease(DriverCluster.instance("r1"), ttlMilliseconds: 5_000, authRevision: checkedAt), to: follower)
        cluster.run(milliseconds: 500)

        guard case .written = cluster.response(revoke, on: leader) else {
            Issue.record("revoke: \(String(describing: cluster.response(revoke, on: leader)))")
            return
        }
        guard case .rejected(.auth(.oldRevision(let token, let current)), _) = cluster.response(registration, on: follower) else {
            Issue.record("registration: \(String(describing: cluster.response(registration, on: follower)))")
            return
        }
        #expect(token == checkedAt && current > checkedAt)
        for node in ["n1", "n2", "n3"] {
            #expect(cluster[node].registry.instance(named: InstanceName(namespace: "default", service: "payments", id: "r1")) == nil)
            #expect(cluster[node].registry.leases().isEmpty, "\(node) holds a lease for a refused registration")
            #expect(cluster[node].registry.auth.revision == current)
        }
    }

    @Test("a write checked at the auth revision it applies at goes through, forwarded or not")
    func currentRevisionApplies() {
        var cluster = Self.cluster()
        let follower = NodeDriverTests.follower(of: cluster)
        let checkedAt = cluster[follower].registry.auth.revision
        let registration = cluster.submit(
            .registerWithLease(DriverCluster.instance("r1"), ttlMilliseconds: 5_000, authRevision: checkedAt), to: follower)
        let put = cluster.submit(
            .write(RegistryCommand.put(PutRequest(key: Array("default/payments/x".utf8), value: [1])).checked(atAuthRevision: checkedAt)),
            to: cluster.leaderName!)
        cluster.run(milliseconds: 500)
        guard case .written = cluster.response(registration, on: follower), case .written = cluster.response(put, on: cluster.leaderName!)
        else {
            Issue.record("\(String(describing: cluster.response(registration, on: follower)))")
            return
        }
        #expect(cluster[follower].registry.leases().count == 1)
    }
}
