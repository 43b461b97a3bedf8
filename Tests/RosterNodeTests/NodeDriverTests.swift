// Goal: the node driver keeps the promises the server makes to clients: writes through any node,
// answered only once applied on the node asked; linearizable reads on any node; serializable and
// minimum-revision reads; keepalives through followers; lease expiry proposed by the leader; typed
// failures when there is no leader; membership through the replicated member directory; snapshots
// that bring a lagging node up to date.
// Method: a deterministic `DriverCluster` of three drivers with in-memory environments, a manual
// clock and a message queue the test delivers.
import Raft
import Registry
import RosterNode
import Testing

@Suite("Node driver")
struct NodeDriverTests {
    static func follower(of cluster: DriverCluster) -> String {
        ["n1", "n2", "n3"].first { $0 != cluster.leaderName }!
    }

    @Test("a registration through a follower is answered once that follower has applied it")
    func registerThroughFollower() throws {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let follower = Self.follower(of: cluster)
        let request = cluster.submit(.write(.registerInstance(DriverCluster.instance("i1"))), to: follower)
        #expect(cluster.response(request, on: follower) == nil)
        cluster.deliver()
        cluster.run(milliseconds: 200)
        guard case .written(let applied) = cluster.response(request, on: follower) else {
            Issue.record("no write answer: \(String(describing: cluster.response(request, on: follower)))")
            return
        }
        #expect(cluster[follower].registry.revision >= applied.revision)
        #expect(cluster[follower].registry.instance(named: InstanceName(namespace: "default", service: "payments", id: "i1")) != nil)
    }

    @Test("a linearizable read on another follower sees a write acknowledged before it began")
    func linearizableReadOnFollower() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let leader = cluster.leaderName!
        let write = cluster.submit(.write(.registerInstance(DriverCluster.instance("i2"))), to: leader)
        cluster.run(milliseconds: 200)
        #expect(cluster.response(write, on: leader).map { if case .written = $0 { true } else { false } } == true)
        for follower in ["n1", "n2", "n3"] where follower != leader {
            let read = cluster.submit(.read(.instances(namespace: "default", service: "payments"), ReadOptions()), to: follower)
            cluster.run(milliseconds: 200)
            guard case .read(.instances(let list), let context) = cluster.response(read, on: follower) else {
                Issue.record("no read answer on \(follower)")
                continue
            }
            #expect(list.instances.map(\.id) == ["i2"])
            #expect(context.consistency == .linearizable)
        }
    }

    @Test("reads submitted in one loop turn share one read-index request; a later read waits for a request of its own")
    func readsShareOneReadIndexRequest() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let follower = Self.follower(of: cluster)
        func readIndexRequests() -> Int {
            cluster.delivered(follower).messages.filter { if case .readIndex = $0.body { true } else { false } }.count
        }
        let query = RegistryQuery.instances(namespace: "default", service: "payments")
        let together = (0..<3).map { index in
            let id = RequestID(UInt64(9_000 + index))
            cluster[follower].submit(.read(query, ReadOptions()), id: id)
            return id
        }
        cluster.processReady(follower)
        #expect(readIndexRequests() == 1)
        // A read begun while that request is on its way waits for one of its own: the leader may have fixed the
        // first request's index before a write that completed before this read began (the simulator's planted fault
        // `read-joins-earlier-read-index` shows the checker catching exactly that).
        let later = cluster.submit(.read(query, ReadOptions()), to: follower)
        #expect(readIndexRequests() == 2)
        cluster.run(milliseconds: 200)
        for id in together + [later] {
            guard case .read(.instances, let context) = cluster.response(id, on: follower) else {
                Issue.record("read \(id) not answered")
                continue
            }
            #expect(context.consistency == .linearizable)
        }
    }

    @Test("a serializable read is answered at once from local state, with the leader contact age")
    func serializableRead() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let follower = Self.follower(of: cluster)
        let read = cluster.submit(.read(.services(namespace: "default"), ReadOptions(consistency: .serializable)), to: follower)
        guard case .read(_, let context) = cluster.response(read, on: follower) else {
            Issue.record("serializable read not answered at once")
            return
        }
        #expect(context.consistency == .serializable)
        #expect(context.leaderContactAgeMilliseconds != nil)
    }

    @Test("a read with a minimum revision waits until the node has applied that revision")
    func minimumRevisionRead() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let follower = Self.follower(of: cluster)
        let target = Revision(cluster[follower].registry.revision.rawValue + 1)
        let read = cluster.submit(
            .read(.services(namespace: "default"), ReadOptions(consistency: .serializable, minRevision: target)), to: follower)
        #expect(cluster.response(read, on: follower) == nil)
        _ = cluster.submit(.write(.registerInstance(DriverCluster.instance("i3"))), to: cluster.leaderName!)
        cluster.run(milliseconds: 300)
        guard case .read(_, let context) = cluster.response(read, on: follower) else {
            Issue.record("read not served after the revision was applied")
            return
        }
        #expect(context.revision >= target)
    }

    @Test("with no leader a write fails at once with noLeader, never hangs")
    func noLeader() {
        var cluster = DriverCluster(3)
        let request = cluster.submit(.write(.registerInstance(DriverCluster.instance("i4"))), to: "n1")
        #expect(cluster.response(request, on: "n1") == .failed(.noLeader(retryAfterMilliseconds: 1_000)))
    }

    @Test("a keepalive through a follower renews the lease on the leader")
    func keepAliveThroughFollower() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let leader = cluster.leaderName!
        let grant = cluster.submit(.write(.grantLease(id: LeaseID(7), ttlMilliseconds: 5_000, grantedAtMilliseconds: 0)), to: leader)
        cluster.run(milliseconds: 200)
        #expect(cluster.response(grant, on: leader) != nil)
        let follower = Self.follower(of: cluster)
        let keepAlive = cluster.submit(.keepAlive(LeaseID(7)), to: follower)
        cluster.deliver()
        #expect(cluster.response(keepAlive, on: follower) == .keptAlive(LeaseID(7), ttlMilliseconds: 5_000))
        let unknown = cluster.submit(.keepAlive(LeaseID(99)), to: follower)
        cluster.deliver()
        #expect(cluster.response(unknown, on: follower) == .rejected(.leaseNotFound(LeaseID(99)), evaluatedAt: cluster[follower].registry.revision))
    }

    @Test("an instance whose lease is not kept alive is removed by the leader after its TTL, with a leaseExpired event")
    func leaseExpiry() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let leader = cluster.leaderName!
        _ = cluster.submit(.write(.grantLease(id: LeaseID(3), ttlMilliseconds: 2_000, grantedAtMilliseconds: 0)), to: leader)
        cluster.run(milliseconds: 200)
        _ = cluster.submit(.write(.registerInstance(DriverCluster.instance("i5", lease: LeaseID(3)))), to: leader)
        cluster.run(milliseconds: 1_000)
        let name = InstanceName(namespace: "default", service: "payments", id: "i5")
        #expect(cluster[leader].registry.instance(named: name) != nil)
        cluster.run(milliseconds: 2_000)
        for node in ["n1", "n2", "n3"] {
            #expect(cluster[node].registry.instance(named: name) == nil)
            #expect(cluster.delivered(node).events.contains { $0.cause == .leaseExpired })
        }
    }

    @Test("a kept-alive lease outlives many TTLs")
    func keptAliveLeaseSurvives() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let leader = cluster.leaderName!
        _ = cluster.submit(.write(.grantLease(id: LeaseID(4), ttlMilliseconds: 2_000, grantedAtMilliseconds: 0)), to: leader)
        cluster.run(milliseconds: 200)
        _ = cluster.submit(.write(.registerInstance(DriverCluster.instance("i6", lease: LeaseID(4)))), to: leader)
        for _ in 0..<10 {
            cluster.run(milliseconds: 600)
            _ = cluster.submit(.keepAlive(LeaseID(4)), to: "n2")
        }
        #expect(cluster[leader].registry.instance(named: InstanceName(namespace: "default", service: "payments", id: "i6")) != nil)
    }

    @Test("a write on an isolated old leader is answered notApplied or never acknowledged, not lost silently")
    func writeOnDeposedLeader() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let old = cluster.leaderName!
        cluster.isolated = [cluster.id(old)]
        let request = cluster.submit(.write(.registerInstance(DriverCluster.instance("lost"))), to: old)
        cluster.run(milliseconds: 3_000)
        #expect(cluster.leaderName != nil && cluster.leaderName != old)
        _ = cluster.submit(.write(.registerInstance(DriverCluster.instance("kept"))), to: cluster.leaderName!)
        cluster.run(milliseconds: 300)
        cluster.isolated = []
        cluster.run(milliseconds: 1_000)
        let answer = cluster.response(request, on: old)
        #expect(answer == .failed(.notApplied))
        #expect(cluster[old].registry.instance(named: InstanceName(namespace: "default", service: "payments", id: "lost")) == nil)
    }

    @Test("a write and a keepalive forwarded to a leader that went silent are answered once a new leader is known")
    func forwardToFrozenLeader() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let old = cluster.leaderName!
        let follower = ["n1", "n2", "n3"].first { $0 != old }!
        let grant = cluster.submit(.write(.grantLease(id: 9, ttlMilliseconds: 10_000, grantedAtMilliseconds: 0)), to: old)
        cluster.run(milliseconds: 200)
        #expect(cluster.response(grant, on: old) != nil)
        // Frozen: it neither answers nor is deposed by closed connections.
        cluster.isolated = [cluster.id(old)]
        let write = cluster.submit(.write(.registerInstance(DriverCluster.instance("frozen"))), to: follower)
        let keepAlive = cluster.submit(.keepAlive(9), to: follower)
        #expect(cluster.response(write, on: follower) == nil, "forwarded, waiting")
        for _ in 0..<40 where cluster[follower].raft.leader == cluster.id(old) { cluster.run(milliseconds: 100) }
        #expect(cluster[follower].raft.leader != cluster.id(old))
        guard case .failed(.indeterminate) = cluster.response(write, on: follower) else {
            Issue.record("write: \(String(describing: cluster.response(write, on: follower)))")
            return
        }
        #expect(cluster.response(keepAlive, on: follower) == .failed(.noLeader(retryAfterMilliseconds: 0)))
    }

    @Test("a learner added by name joins through the member directory, is promoted, and another member is removed")
    func membership() {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let leader = cluster.leaderName!
        let add = cluster.submit(.admin(.addLearner(name: "n4", peerAddress: "127.0.0.1:2390")), to: leader)
        let joiner = Member(id: Member.id(forName: "n4"), name: "n4", peerAddress: "127.0.0.1:2390")
        cluster.start(joiner, persisted: .bootstrap(configuration: Configuration(voters: [])))
        cluster.run(milliseconds: 1_000)
        guard case .admin(.membershipChanged(let configuration)) = cluster.response(add, on: leader) else {
            Issue.record("learner not added: \(String(describing: cluster.response(add, on: leader)))")
            return
        }
        #expect(configuration.isLearner(joiner.id))
        #expect(cluster["n1"].memberDirectory.contains { $0.name == "n4" && $0.peerAddress == "127.0.0.1:2390" })
        let promote = cluster.submit(.admin(.promote(name: "n4")), to: leader)
        cluster.run(milliseconds: 500)
        #expect(cluster.response(promote, on: leader).map { if case .admin = $0 { true } else { false } } == true)
        let victim = ["n1", "n2", "n3"].first { $0 != leader }!
        let remove = cluster.submit(.admin(.remove(name: victim)), to: leader)
        cluster.run(milliseconds: 500)
        guard case .admin(.membershipChanged(let final)) = cluster.response(remove, on: leader) else {
            Issue.record("member not removed")
            return
        }
        #expect(final.voters.count == 3)
        #expect(final.isVoter(joiner.id))
        #expect(!final.contains(cluster.id(victim)))
    }

    @Test("a node cut off while the others snapshot catches up through the snapshot, with watches told to resync")
    func snapshotCatchUp() {
        var cluster = DriverCluster(3, snapshotEveryEntries: 5)
        cluster.electLeader()
        let leader = cluster.leaderName!
        let lagging = Self.follower(of: cluster)
        cluster.isolated = [cluster.id(lagging)]
        for number in 0..<20 {
            _ = cluster.submit(.write(.registerInstance(DriverCluster.instance("s\(number)"))), to: leader)
            cluster.run(milliseconds: 100)
        }
        cluster.isolated = []
        cluster.run(milliseconds: 1_000)
        #expect(cluster[lagging].registry == cluster[leader].registry)
        #expect(!cluster.delivered(lagging).replacedAt.isEmpty)
    }

    @Test("a periodic snapshot is written off the loop: the log waits for its file, one at a time, and a newer one supersedes it")
    func periodicSnapshotWrittenOffTheLoop() {
        var cluster = DriverCluster(3, snapshotEveryEntries: 5)
        cluster.defersSnapshotWrites = true
        cluster.electLeader()
        let leader = cluster.leaderName!
        for number in 0..<12 {
            _ = cluster.submit(.write(.registerInstance(DriverCluster.instance("s\(number)"))), to: leader)
            cluster.run(milliseconds: 100)
        }
        let id = cluster.id(leader)
        let captures = cluster.capturedSnapshots[id] ?? []
        #expect(captures.count == 1, "a second snapshot does not start while one is being written")
        guard let capture = captures.first else { return }
        var driver = cluster[leader]
        #expect(driver.raft.appliedIndex > capture.metadata.index, "entries applied while the file is written")
        #expect(capture.state.lastAppliedIndex == capture.metadata.index.rawValue, "the capture keeps the state at its index")
        #expect(driver.raft.snapshotMetadata.index < capture.metadata.index, "nothing compacted before the file is durable")

        driver.snapshotWritten(capture.metadata, data: capture.encode())
        #expect(driver.raft.snapshotMetadata == capture.metadata)
        #expect(driver.environment.snapshots.last?.metadata == capture.metadata)
        #expect(driver.environment.snapshots.last?.data == capture.encode())

        // The next one is superseded by a snapshot taken on this thread (a graceful stop) before its file is written.
        cluster[leader] = driver
        for number in 12..<20 {
            _ = cluster.submit(.write(.registerInstance(DriverCluster.instance("s\(number)"))), to: leader)
            cluster.run(milliseconds: 100)
        }
        guard let next = cluster.capturedSnapshots[id]?.last, next.metadata != capture.metadata else {
            Issue.record("no second periodic snapshot")
            return
        }
        driver = cluster[leader]
        driver.snapshotApplied()
        let newest = driver.raft.snapshotMetadata
        #expect(newest.index > next.metadata.index)
        driver.snapshotWritten(next.metadata, data: next.encode())
        #expect(driver.raft.snapshotMetadata == newest, "an older snapshot never replaces a newer one")
        #expect(driver.environment.discarded == [next.metadata], "its file is deleted")
    }

    @Test("a large state snapshots only once the log since the last snapshot reaches half its size, or the cap")
    func snapshotWaitsForItsLogShare() {
        func snapshotIndexes(floorBytes: Int, capBytes: Int = 1 << 30) -> [LogIndex] {
            var cluster = DriverCluster(1, snapshotEveryEntries: 2)
            cluster.snapshotLogShareFloorBytes = floorBytes
            cluster.snapshotLogCapBytes = capBytes
            cluster.drivers = [:]
            cluster.start(cluster.initialMembers[0], persisted: .bootstrap(configuration: Configuration(voters: [cluster.id("n1")])))
            cluster.electLeader()
            // The first snapshot holds 10 instances; each later write logs one more, far less than its half.
            for number in 0..<40 {
                _ = cluster.submit(.write(.registerInstance(DriverCluster.instance("s\(number)"))), to: "n1")
                cluster.run(milliseconds: 100)
            }
            return cluster["n1"].environment.snapshots.map(\.metadata.index)
        }
        let byCount = snapshotIndexes(floorBytes: 1 << 30)
        let byShare = snapshotIndexes(floorBytes: 0)
        let byCap = snapshotIndexes(floorBytes: 0, capBytes: 1)
        #expect(byCount.count >= 15, "under the floor, every 2 entries: \(byCount)")
        #expect(!byShare.isEmpty && byShare.count < byCount.count / 2, "over it, the log share decides: \(byShare)")
        for (previous, next) in zip(byShare, byShare.dropFirst()) {
            #expect(next.rawValue - previous.rawValue >= 2, "never more often than the entry count allows")
        }
        #expect(byCap == byCount, "a log past the cap snapshots by the entry count again")
    }

    @Test("a snapshot of the applied state on stop leaves a restart nothing to replay and the same registry")
    func snapshotOnStop() throws {
        var cluster = DriverCluster(3)
        cluster.electLeader()
        let leader = cluster.leaderName!
        for number in 0..<7 {
            _ = cluster.submit(.write(.registerInstance(DriverCluster.instance("s\(number)"))), to: leader)
            cluster.run(milliseconds: 100)
        }
        let stopping = Self.follower(of: cluster)
        var driver = cluster[stopping]
        let applied = driver.raft.appliedIndex
        #expect(applied > driver.raft.snapshotMetadata.index)
        driver.snapshotApplied()
        #expect(driver.environment.snapshots.last?.metadata.index == applied)
        driver.snapshotApplied()
        #expect(driver.environment.snapshots.count == 1, "nothing applied since: no second snapshot")
        // A restart from what it persisted restores that snapshot and has no entries at or below it to apply.
        let persisted = driver.environment.persisted
        #expect(persisted.snapshot.metadata.index == applied)
        #expect(persisted.entries.allSatisfy { $0.index > applied })
        var options = NodeOptions(id: driver.options.id, raft: RaftOptions(), tickMilliseconds: 100, initialMembers: cluster.initialMembers)
        options.snapshotEveryEntries = driver.options.snapshotEveryEntries
        let restarted = try NodeDriver(
            options: options, persisted: persisted, environment: TestEnvironment(persisted: persisted), randomSeed: 1)
        #expect(restarted.registry == driver.registry)
        #expect(restarted.raft.appliedIndex == applied)
    }

    @Test("requests beyond the pending limit are refused as overloaded; a cancelled request gets no answer")
    func overloadAndCancel() {
        var cluster = DriverCluster(3, maxPendingRequests: 2)
        cluster.electLeader()
        let waiting = ReadOptions(consistency: .serializable, minRevision: Revision(1_000))
        let first = cluster.submit(.read(.services(namespace: "default"), waiting), to: "n1")
        let second = cluster.submit(.read(.services(namespace: "default"), waiting), to: "n1")
        let third = cluster.submit(.read(.services(namespace: "default"), waiting), to: "n1")
        #expect(cluster.response(third, on: "n1") == .failed(.overloaded(limit: 2)))
        cluster["n1"].cancel(first)
        cluster.processReady("n1")
        cluster.run(milliseconds: 1_000)
        #expect(cluster.response(first, on: "n1") == nil)
        #expect(cluster.response(second, on: "n1") == nil)
        #expect(cluster["n1"].status.pendingRequests == 1)
    }
}
