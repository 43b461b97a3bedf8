// Goal: shared helpers for the registry tests, so that each test states its scenario and nothing else.
// Method: a seeded SplitMix64 generator (no global randomness, every failure names its seed), byte-string
// shorthands, and a generator of random but plausible command sequences for the property tests.
import Registry
import Raft

/// The project's one seeded generator (`Raft.SplitMix64`), for every file of this suite.
typealias SplitMix64 = Raft.SplitMix64

/// UTF-8 bytes of a string.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A state that applies commands at consecutive indexes.
struct Harness {
    var state: RegistryState
    var nextIndex: UInt64 = 1

    init(limits: RegistryLimits = .standard, layouts: [FrameworkLayout] = []) {
        state = RegistryState(limits: limits, layouts: layouts)
    }

    @discardableResult
    mutating func apply(_ command: RegistryCommand) -> CommandResult {
        defer { nextIndex += 1 }
        return state.apply(command, at: nextIndex)
    }

    @discardableResult
    mutating func put(_ key: String, _ value: String, lease: LeaseID? = nil) -> CommandResult {
        apply(.put(PutRequest(key: bytes(key), value: bytes(value), lease: lease)))
    }

    @discardableResult
    mutating func grant(_ id: LeaseID, ttl: Int64 = 10_000) -> CommandResult {
        apply(.grantLease(id: id, ttlMilliseconds: ttl, grantedAtMilliseconds: 0))
    }

    func get(_ key: String) -> KeyValue? {
        (try? state.range(RangeRequest(.key(bytes(key)))))?.keyValues.first
    }
}

extension CommandResult {
    var applied: AppliedCommand? {
        if case .applied(let applied) = self { return applied }
        return nil
    }
}

/// A plausible instance.
func makeInstance(
    _ id: String, service: String = "payments", namespace: String = "prod", lease: LeaseID? = nil,
    incarnation: UInt64 = 1
) -> ServiceInstance {
    ServiceInstance(
        namespace: namespace, service: service, id: id, version: "v1.2.3",
        endpoints: ["grpc://10.0.0.5:9000", "http://10.0.0.5:8080"], metadata: ["zone": "eu-1", "env": "prod"],
        weight: 10, status: .up, lease: lease, incarnation: incarnation)
}

/// Limits small enough that random sequences hit compaction and the history bounds.
func smallLimits() -> RegistryLimits {
    var limits = RegistryLimits()
    limits.historyRevisions = 25
    limits.historyEvents = 80
    limits.historyBytes = 4_096
    limits.instancesPerService = 4
    limits.minimumTTLMilliseconds = 1_000
    return limits
}

/// Random command sequences over a small key and name space, so that commands collide: overwrites,
/// deletes of leased keys, duplicate lease grants, stale incarnations and rejections all happen.
struct CommandGenerator {
    var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    private mutating func pick<T>(_ values: [T]) -> T { values[Int.random(in: 0..<values.count, using: &random)] }
    private mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }

    mutating func key() -> [UInt8] { bytes(pick(["a", "ab", "abc", "b", "ba", "c", "prod/x", "z"])) }
    mutating func value() -> [UInt8] { (0..<Int.random(in: 0...6, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) } }
    mutating func lease() -> LeaseID? { chance(40) ? LeaseID(UInt64(Int.random(in: 1...6, using: &random))) : nil }
    mutating func range() -> KeyRange {
        switch Int.random(in: 0..<4, using: &random) {
        case 0: return .key(key())
        case 1: return .prefix(bytes(pick(["", "a", "b", "prod/"])))
        case 2:
            let (first, second) = (key(), key())
            let ordered = [first, second].sorted { $0.lexicographicallyPrecedes($1) }
            return .interval(start: ordered[0], end: ordered[1])
        default: return .fromKey(key())
        }
    }
    mutating func name() -> InstanceName {
        InstanceName(namespace: pick(["prod", "dev"]), service: pick(["pay", "auth"]), id: pick(["i1", "i2", "i3", "10.0.0.1:80"]))
    }
    mutating func operation() -> TransactionOperation {
        switch Int.random(in: 0..<3, using: &random) {
        case 0: return .range(RangeRequest(range(), limit: Int.random(in: 0...2, using: &random)))
        case 1: return .put(PutRequest(key: key(), value: value(), lease: lease(), returnPrevious: chance(50)))
        default: return .deleteRange(DeleteRangeRequest(range(), returnPrevious: chance(50)))
        }
    }
    mutating func compare() -> Compare {
        let target: Compare.Target
        switch Int.random(in: 0..<5, using: &random) {
        case 0: target = .value(value())
        case 1: target = .version(Int64.random(in: 0...3, using: &random))
        case 2: target = .createRevision(Revision(Int64.random(in: 0...20, using: &random)))
        case 3: target = .modRevision(Revision(Int64.random(in: 0...20, using: &random)))
        default: target = .lease(lease())
        }
        return Compare(key: key(), target, pick(Compare.Relation.allCases))
    }

    /// Auth commands over two users and two roles, so that grants, revocations, refusals and enabling collide.
    mutating func authCommand() -> AuthCommand {
        let user = pick(["root", "u1"])
        let role = pick(["root", "r1"])
        switch Int.random(in: 0..<9, using: &random) {
        case 0: return .addUser(name: user, credential: chance(70) ? PasswordCredential(iterations: 1, salt: [1], hash: [2]) : nil)
        case 1: return .grantRole(user: user, role: role)
        case 2: return .revokeRole(user: user, role: role)
        case 3: return .addRole(name: role)
        case 4: return .grantPermission(role: role, permission: AuthPermission(pick(AuthPermission.Access.allCases), range()))
        case 5: return .revokePermission(role: role, range: range())
        case 6: return .enable(tokenSigningKey: [UInt8(Int.random(in: 1...9, using: &random))])
        case 7: return .disable
        default: return chance(50) ? .deleteUser(name: user) : .deleteRole(name: role)
        }
    }

    /// A command; one in ten carries an auth revision near the ones the generated auth commands reach.
    mutating func command(revision: Revision) -> RegistryCommand {
        let command = uncheckedCommand(revision: revision)
        return chance(10) ? command.checked(atAuthRevision: UInt64.random(in: 0...6, using: &random)) : command
    }

    mutating func uncheckedCommand(revision: Revision) -> RegistryCommand {
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<22: return .put(PutRequest(key: key(), value: value(), lease: lease(), returnPrevious: chance(50)))
        case 22..<26: return .deleteRange(DeleteRangeRequest(range(), returnPrevious: chance(50)))
        case 26..<36:
            return .transaction(
                TransactionRequest(
                    compares: (0..<Int.random(in: 0...2, using: &random)).map { _ in compare() },
                    success: (0..<Int.random(in: 0...3, using: &random)).map { _ in operation() },
                    failure: (0..<Int.random(in: 0...2, using: &random)).map { _ in operation() }))
        case 36..<48:
            return .grantLease(
                id: chance(90) ? LeaseID(UInt64(Int.random(in: 1...6, using: &random))) : nil,
                ttlMilliseconds: pick([500, 2_000, 10_000]), grantedAtMilliseconds: random.next() % 1_000)
        case 48..<52: return .revokeLease(LeaseID(UInt64(Int.random(in: 1...6, using: &random))))
        case 52..<53: return .elapseLeases(milliseconds: UInt64(pick([100, 1_000, 20_000])))
        case 53..<55:
            return .checkpointLeases(
                (0..<Int.random(in: 0...3, using: &random)).map { _ in
                    LeaseCheckpoint(id: LeaseID(UInt64(Int.random(in: 1...6, using: &random))), remainingMilliseconds: Int64.random(in: -5...12_000, using: &random))
                })
        case 55..<59:
            return .expireLeases((0..<Int.random(in: 0...3, using: &random)).map { _ in LeaseID(UInt64(Int.random(in: 1...6, using: &random))) })
        case 59..<78:
            let name = name()
            return .registerInstance(
                ServiceInstance(
                    namespace: name.namespace, service: name.service, id: name.id, version: pick(["", "v1", "v2"]),
                    endpoints: chance(90) ? ["grpc://h:1"] : ["bad endpoint"], metadata: chance(50) ? ["k": "v"] : [:],
                    weight: UInt32.random(in: 0...20, using: &random), status: pick(InstanceStatus.allCases), lease: lease(),
                    incarnation: UInt64.random(in: 0...3, using: &random)))
        case 78..<86:
            return .updateInstance(
                InstanceUpdate(
                    name: name(), incarnation: UInt64.random(in: 0...3, using: &random),
                    status: chance(50) ? pick(InstanceStatus.allCases) : nil, metadata: chance(30) ? ["a": "b"] : nil,
                    weight: chance(50) ? UInt32.random(in: 0...9, using: &random) : nil))
        case 86..<94:
            return .deregisterInstance(name(), incarnation: chance(50) ? UInt64.random(in: 0...3, using: &random) : nil)
        case 94..<97:
            return .auth(authCommand())
        default:
            return .compact(Revision(max(0, revision.rawValue - Int64.random(in: -1...8, using: &random))))
        }
    }

    /// A sequence of `count` commands, generated against a scratch state so that compactions aim near the
    /// live revision.
    mutating func commands(_ count: Int, limits: RegistryLimits) -> [RegistryCommand] {
        var scratch = RegistryState(limits: limits)
        var commands: [RegistryCommand] = []
        for position in 0..<count {
            let command = command(revision: scratch.revision)
            _ = scratch.apply(command, at: UInt64(position + 1))
            commands.append(command)
        }
        return commands
    }
}
