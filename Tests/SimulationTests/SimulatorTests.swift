// Goal: the whole-node simulator both passes the correct node and catches a broken one.
// Method: run a fixed list of seeds (calm and hostile swarms) through `Simulator`, which runs the
// production `NodeDriver` (Raft, registry, leases, forwarding, reads, restart fence) on a simulated
// clock, disk and network under simulated clients, and checks after every input: election safety,
// log matching, leader completeness, commit safety, durability, monotonicity, equal registry state
// at equal applied index, canonical history and acknowledged writes, linearizable reads, the read
// fence, lease TTL (lower bound from the last acknowledged keepalive, the election grace, the upper
// bound after healing) and gapless watches; then liveness after healing. Planted faults
// (`PlantedFault`) must be reported on seeds known to expose them (found with
// `simulate --fault NAME --seeds 3000 --first 1`; re-pin them when the simulator's draws change), bugs the
// simulator found stay fixed on the seed that found them, and a seed replays to the identical
// trace. The wide sweep (1,000 seeds and every fault) runs in release mode from scripts/test.
import Raft
import Simulation
import Testing

@Suite("Whole-node simulation")
struct SimulatorTests {
    @Test("seeded runs keep every safety property and converge after healing", arguments: 1...30)
    func seedPasses(seed: UInt64) throws {
        var simulator = try Simulator(options: SimulationOptions(seed: seed, safetySteps: 400))
        try simulator.run()
    }

    @Test("the seed list exercises writes, registrations with a lease, reads (also from views, after read barriers), keepalives, expiries, watches, crashes, snapshots, membership and transfers")
    func seedListCoversFeatures() throws {
        var totals = Simulator.Statistics()
        for seed in UInt64(1)...30 {
            var simulator = try Simulator(options: SimulationOptions(seed: seed, safetySteps: 400))
            try simulator.run()
            totals.add(simulator.statistics)
        }
        #expect(totals.acknowledgedWrites > 100)
        #expect(totals.servedReads > 50)
        #expect(totals.viewReads > 10)
        #expect(totals.barrierReads > 10)
        #expect(totals.keepAlives > 50)
        #expect(totals.registrationsWithLease > 20)
        #expect(totals.expiredLeases > 10)
        #expect(totals.watchedEvents > 100)
        #expect(totals.crashes > 10)
        #expect(totals.snapshotsInstalled > 5)
        #expect(totals.membershipChanges > 3)
        #expect(totals.transfers > 3)
        #expect(totals.partitions > 10)
        #expect((UInt64(1)...30).contains { SimulationOptions(seed: $0).usesStorage })
    }

    @Test("hostile seeded runs (many crashes, elections, lost messages) keep every property", arguments: 1...20)
    func hostileSeedPasses(seed: UInt64) throws {
        var simulator = try Simulator(options: SimulationOptions(seed: seed, safetySteps: 400, hostile: true))
        try simulator.run()
    }

    /// Bugs the whole-node simulator found, on the seed that found each (default options).
    @Test(
        "regression seeds of bugs the simulator found stay fixed",
        arguments: [
            // A new leader acknowledged keepalives before applying its predecessor's committed
            // `expireLeases`, so a lease ended right after a renewal was acknowledged (lease TTL). Found
            // before the client population gained registrations with a lease, which changed what each
            // seed does; NewLeaderKeepAliveTests (RosterNodeTests) keeps the scenario itself.
            UInt64(252),
            // A keepalive was acknowledged at once while a checkpoint measured before it was still in flight;
            // that checkpoint then committed a short remaining TTL, the leader crashed, and the next leader
            // expired the lease before its renewed TTL had passed (lease TTL).
            UInt64(1_796_355_163_638_653),
            // A follower restarted while its read-index request was in flight numbered its requests from 1 again, and
            // took the leader's answer to that old request for a new read made after a write acknowledged since: it
            // served the value from before the write (linearizable read). Request IDs now start at a seeded point.
            UInt64(1_796_493_589_082_789_772),
            // Not a node bug: a deposed leader learnt of its lower-term election late and displaced the checker's
            // record of the real leader; once it crashed, the lease bound was never checked again and the
            // liveness phase failed with every lease long ended.
            UInt64(1_796_495_191_919_369_893),
            // A leader acknowledged a keepalive at once while four elapses it proposed were stalled uncommitted: they
            // counted down time from before the renewal, the next leader resumed the lease with 500 ms and expired it
            // 425 ms before renewal + TTL (lease TTL). A renewal now waits for a checkpoint while an elapse is in flight.
            UInt64(1_797_800_000_000_028_415),
        ])
    func regressionSeedPasses(seed: UInt64) throws {
        var simulator = try Simulator(options: SimulationOptions(seed: seed))
        try simulator.run()
    }

    /// Bugs the whole-node simulator found on its hostile network, on the seed that found each.
    @Test(
        "hostile regression seeds stay fixed",
        arguments: [
            // The checker's record of the leader displaced by a deposed one (as 1796495191919369893 above).
            UInt64(108_080),
            // A restarted follower took the leader's delayed answer to its earlier start's fence read for its new one
            // (the ID was fixed) and allowed local reads at applied 6, below the 9 it applied before the crash
            // (monotonicity). The fence read's ID is now drawn per start (`RaftNode.localReadFenceRequestID`).
            UInt64(1_797_910_000_000_002_336),
        ])
    func hostileRegressionSeedPasses(seed: UInt64) throws {
        var simulator = try Simulator(options: SimulationOptions(seed: seed, hostile: true))
        try simulator.run()
    }

    @Test(
        "a planted rule violation is caught by the checkers",
        arguments: [
            (PlantedFault.skipLogCheck, UInt64(4), "leader completeness"),
            // A node that forgot its vote after a crash votes again: two leaders of one term.
            (PlantedFault.voteBeforePersisting, UInt64(839), "election safety"),
            (PlantedFault.commitPreviousTerm, UInt64(304), "leader completeness"),
            (PlantedFault.noReadFence, UInt64(2), "monotonicity"),
            (PlantedFault.expireLeasesOnFollowers, UInt64(1), "lease grace"),
            (PlantedFault.noLeaseGrace, UInt64(1), "lease grace"),
            (PlantedFault.readBeforeReadIndex, UInt64(1), "linearizable read"),
            // A follower installed a snapshot labelled later than its state and never applied the entries between.
            (PlantedFault.snapshotLabelledLate, UInt64(40), "registry state"),
            // A read joined a read-index request already on its way; the leader answered it with a commit index from
            // before a write that was acknowledged before the read began.
            (PlantedFault.readJoinsEarlierReadIndex, UInt64(25), "linearizable read"),
            // A node restarted behind the state it served before answered a serializable read at once from its older
            // applied state, below a write it had acknowledged before the restart.
            (PlantedFault.localAnswerWithoutFence, UInt64(36), "read your writes"),
            // A serializable read was answered from a view of a follower's state published before that follower
            // applied (and acknowledged) a write of the same client's.
            (PlantedFault.staleLocalView, UInt64(2), "read your writes"),
            // A linearizable read was answered from a follower's view of its applied state, behind the leader's.
            (PlantedFault.linearizableView, UInt64(34), "linearizable read"),
            // A linearizable read whose read barrier passed was answered from a view the follower published before it
            // applied up to the barrier's index.
            (PlantedFault.barrierAnyView, UInt64(130), "linearizable read"),
            // A leader named a registration's lease after the next index while a client's grant naming that ID was in
            // flight: the client's grant took it, the registration's grant was refused, and its client told so.
            (PlantedFault.leasesNamedUnchecked, UInt64(156), "registration with lease"),
            // A follower acknowledged entries its background write had not yet made durable, crashed, lost them, and a
            // leader elected without them lacked an entry the acknowledgement had let commit.
            (PlantedFault.acknowledgeBeforeDurable, UInt64(37), "leader completeness"),
        ])
    func plantedFaultCaught(fault: PlantedFault, seed: UInt64, property: String) throws {
        var broken = try Simulator(options: SimulationOptions(seed: seed, faults: [fault]))
        let violation = #expect(throws: Violation.self) { try broken.run() }
        #expect(violation?.property == property)
        var correct = try Simulator(options: SimulationOptions(seed: seed, hostile: true))
        try correct.run()
    }

    @Test("a restarted node that numbers its requests from 1 again is caught serving a stale read")
    func restartedRequestIDsCaught() throws {
        // The fresh-seed sweep found the bug (2026-12-05, seed 1796493589082789772, kept in `regressionSeedPasses`);
        // the client population has changed since, so this seed near it is the one that trips the planted fault now
        // (`simulate --seeds 60000 --first 1796493589082789000 --fault internal-ids-restart`, 2026-12-06). It passes
        // with request IDs drawn per incarnation.
        let seed: UInt64 = 1_796_493_589_082_792_063
        var broken = try Simulator(options: SimulationOptions(seed: seed, faults: [.internalIDsRestart]))
        let violation = #expect(throws: Violation.self) { try broken.run() }
        #expect(violation?.property == "linearizable read")
        var correct = try Simulator(options: SimulationOptions(seed: seed, hostile: true))
        try correct.run()
    }

    @Test("a seed replays to exactly the same trace")
    func deterministicReplay() throws {
        func trace(of seed: UInt64) throws -> [String] {
            var lines: [String] = []
            var simulator = try Simulator(options: SimulationOptions(seed: seed, safetySteps: 300)) { lines.append($0) }
            try simulator.run()
            return lines
        }
        let first = try trace(of: 77)
        #expect(first.count > 100)
        #expect(try trace(of: 77) == first)
    }
}
