// Goal: the whole-cluster simulator both passes the correct Raft core and catches a broken one.
// Method: run a fixed list of seeds (calm and hostile swarms) through `Simulator`, which checks
// election safety, log matching, leader completeness, state machine safety, durability,
// monotonicity and linearizable reads after every step, then liveness after healing. Planted
// faults (`RaftFault`) must be reported as violations on seeds known to expose them (found with
// `simulate --fault NAME --seeds 3000 --first 1`; re-pin them when the simulator's draws change), and a
// seed must replay to the identical trace. About half the seeds persist through the production
// write-ahead log on a fault-injecting file system, so crashes tear writes and restarts run recovery. The wide sweep (500+ seeds) runs in release mode from scripts/test.
import Raft
import Simulation
import Testing

@Suite("Whole-cluster simulation")
struct SimulatorTests {
    @Test("seeded runs keep every safety property and converge after healing", arguments: 1...100)
    func seedPasses(seed: UInt64) throws {
        var simulator = try Simulator(options: SimulationOptions(seed: seed, safetySteps: 400))
        try simulator.run()
    }

    @Test("the seed list exercises writes, reads, crashes, snapshots, membership and transfers")
    func seedListCoversFeatures() throws {
        var totals = Simulator.Statistics()
        for seed in UInt64(1)...40 {
            var simulator = try Simulator(options: SimulationOptions(seed: seed, safetySteps: 400))
            try simulator.run()
            totals.add(simulator.statistics)
        }
        #expect(totals.acknowledgedWrites > 100)
        #expect(totals.servedReads > 100)
        #expect(totals.crashes > 10)
        #expect(totals.snapshotsInstalled > 5)
        #expect(totals.membershipChanges > 5)
        #expect(totals.transfers > 5)
        #expect(totals.partitions > 10)
        #expect((UInt64(1)...40).contains { SimulationOptions(seed: $0).usesStorage })
    }

    @Test("hostile seeded runs (many crashes, elections, lost messages) keep every property", arguments: 1...50)
    func hostileSeedPasses(seed: UInt64) throws {
        var simulator = try Simulator(options: SimulationOptions(seed: seed, safetySteps: 400, hostile: true))
        try simulator.run()
    }

    @Test(
        "a planted rule violation is caught by the checkers",
        arguments: [
            (RaftFault.skipLogUpToDateCheck, UInt64(3), "leader completeness"),
            (RaftFault.voteBeforePersisting, UInt64(1027), "election safety"),
            (RaftFault.commitPreviousTermByCounting, UInt64(943), "leader completeness"),
            (RaftFault.localReadsWithoutFence, UInt64(5), "monotonicity"),
        ])
    func plantedFaultCaught(fault: RaftFault, seed: UInt64, property: String) throws {
        var broken = try Simulator(options: SimulationOptions(seed: seed, faults: [fault]))
        let violation = #expect(throws: Violation.self) { try broken.run() }
        #expect(violation?.property == property)
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
