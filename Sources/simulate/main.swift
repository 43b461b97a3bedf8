// Runs seeded whole-cluster simulations of the whole node: Raft, registry, leases, forwarding and
// reads under simulated clients, clock, disk and network (see `Simulator`).
//
//   simulate --seed S [--trace]     replay one seed (with a readable trace)
//   simulate --seeds N [--first S]  run N seeds starting at S (default: a fresh random start)
//   simulate --steps N              safety-phase steps per seed (default 600)
//   simulate --hostile              many elections, crashes and lost messages
//   simulate --fault NAME           break one rule to show the checkers catch it:
//                                   commit-previous-term | vote-before-persisting | skip-log-check |
//                                   no-read-fence | expire-on-follower | no-lease-grace |
//                                   read-before-read-index
//
// Exit status: 0 all seeds passed, 1 a seed violated a property, 2 bad arguments.
import Posix
import Raft
import Simulation

struct Arguments {
    var seed: UInt64?
    var seeds = 1
    var first: UInt64?
    var steps = 600
    var trace = false
    var faults: Set<PlantedFault> = []
    var hostile = false
}

func fail(_ message: String) -> Never {
    print("simulate: \(message)")
    CurrentProcess.exit(2)
}

func parse(_ words: [String]) -> Arguments {
    var arguments = Arguments()
    var rest = words[...]
    func value(_ flag: String) -> String {
        guard let next = rest.popFirst() else { fail("\(flag) needs a value") }
        return next
    }
    func number(_ flag: String) -> UInt64 {
        let text = value(flag)
        guard let parsed = UInt64(text) else { fail("\(flag) takes a non-negative integer, not '\(text)'") }
        return parsed
    }
    while let word = rest.popFirst() {
        switch word {
        case "--seed": arguments.seed = number(word)
        case "--seeds": arguments.seeds = Int(number(word))
        case "--first": arguments.first = number(word)
        case "--steps": arguments.steps = Int(number(word))
        case "--trace": arguments.trace = true
        case "--hostile": arguments.hostile = true
        case "--fault":
            let name = value(word)
            guard let fault = PlantedFault(rawValue: name) else {
                fail("unknown fault '\(name)' (one of: \(PlantedFault.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            arguments.faults.insert(fault)
        case "--help", "-h":
            print("usage: simulate [--seed S [--trace]] [--seeds N [--first S]] [--steps N] [--hostile] [--fault NAME]")
            CurrentProcess.exit(0)
        default: fail("unknown argument '\(word)' (try --help)")
        }
    }
    return arguments
}

var arguments = parse(Array(CommandLine.arguments.dropFirst()))
if arguments.seed == nil, let replay = CurrentProcess.environment("ROSTER_SIM_SEED").flatMap(UInt64.init) {
    arguments.seed = replay
    arguments.trace = true
}
if let count = CurrentProcess.environment("ROSTER_SIM_SEEDS").flatMap(Int.init), arguments.seed == nil {
    arguments.seeds = count
}

let seeds: [UInt64]
if let seed = arguments.seed {
    seeds = [seed]
} else {
    let start = arguments.first ?? WallClock.nanosecondsSinceEpoch()
    seeds = (0..<UInt64(arguments.seeds)).map { start &+ $0 }
}
print("simulate: \(seeds.count) seed(s) from \(seeds[0]), \(arguments.steps) steps each")
var passed = 0
var totals = Simulator.Statistics()
for seed in seeds {
    let options = SimulationOptions(
        seed: seed, safetySteps: arguments.steps, faults: arguments.faults, hostile: arguments.hostile || !arguments.faults.isEmpty)
    do {
        var simulator = try Simulator(options: options, trace: arguments.trace ? { print($0) } : nil)
        try simulator.run()
        passed += 1
        totals.add(simulator.statistics)
        if arguments.trace { print("seed \(seed) passed: \(simulator.statistics)") }
    } catch {
        print("seed \(seed) FAILED: \(error)")
        print("  options: \(options)")
        let flags = (arguments.steps == 600 ? "" : " --steps \(arguments.steps)") + (options.isHostile && arguments.faults.isEmpty ? " --hostile" : "")
            + arguments.faults.map { " --fault \($0.rawValue)" }.sorted().joined()
        print("  reproduce: swift run -c release simulate --seed \(seed)\(flags) --trace")
        print("\(passed) passed, 1 failed")
        CurrentProcess.exit(1)
    }
}
print("exercised: \(totals)")
print("\(passed) passed, 0 failed")
