// A deterministic cluster of `NodeDriver`s for tests: an in-memory environment per node, a shared
// message queue the test delivers from, and a manual clock.
import Raft
import Registry
import RosterNode

struct TestEnvironment: NodeEnvironment {
    var nowMilliseconds: UInt64 = 1_000
    var persisted: PersistentState
    var snapshots: [Snapshot] = []

    mutating func persist(_ ready: Ready, queued: inout NodeEffects) { persisted.persist(ready) }

    /// What was queued each time the driver offered its sends early (`sendEarly`); left queued, so they are
    /// delivered with the rest.
    var offeredEarly: [NodeEffects] = []

    mutating func sendEarly(_ queued: inout NodeEffects) { offeredEarly.append(queued) }

    mutating func saveSnapshot(_ snapshot: Snapshot) {
        snapshots.append(snapshot)
        persisted.save(snapshot)
    }

    mutating func adoptSnapshot(_ snapshot: Snapshot) { saveSnapshot(snapshot) }

    var discarded: [SnapshotMetadata] = []

    mutating func discardSnapshot(_ metadata: SnapshotMetadata) { discarded.append(metadata) }

    mutating func log(_ level: LogLevel, _ message: String) {}
}

/// What a node's effects carried out so far, as a shell would have: sends waiting for delivery,
/// answers, applied events and state replacements.
struct Delivered {
    var messages: [Message] = []
    var forwards: [(message: ForwardMessage, peer: NodeID)] = []
    var responses: [RequestID: NodeResponse] = [:]
    var events: [RegistryEvent] = []
    var replacedAt: [Revision] = []

    mutating func absorb(_ effects: NodeEffects) {
        messages += effects.messages
        forwards += effects.forwards
        for (request, response) in effects.responses {
            precondition(responses[request] == nil, "request \(request) answered twice")
            responses[request] = response
        }
        for change in effects.changes {
            switch change {
            case .applied(let applied, _): events += applied
            case .replaced(let revision): replacedAt.append(revision)
            }
        }
    }
}

struct DriverCluster {
    var drivers: [NodeID: NodeDriver<TestEnvironment>] = [:]
    var delivered: [NodeID: Delivered] = [:]
    var names: [NodeID: String] = [:]
    var isolated: Set<NodeID> = []
    var nextRequest: UInt64 = 1
    let initialMembers: [Member]
    var snapshotEveryEntries: UInt64
    /// `NodeOptions.snapshotLogShareFloorBytes` for nodes started from now on.
    var snapshotLogShareFloorBytes = NodeOptions(id: NodeID(1), raft: RaftOptions(), tickMilliseconds: 100, initialMembers: []).snapshotLogShareFloorBytes
    /// `NodeOptions.snapshotLogCapBytes` for nodes started from now on.
    var snapshotLogCapBytes = NodeOptions(id: NodeID(1), raft: RaftOptions(), tickMilliseconds: 100, initialMembers: []).snapshotLogCapBytes
    var maxPendingRequests: Int
    var requestBytes: Int
    /// When set, periodic snapshots wait in `capturedSnapshots` for the test to report them written.
    var defersSnapshotWrites = false
    var capturedSnapshots: [NodeID: [SnapshotCapture]] = [:]

    init(
        _ count: Int, snapshotEveryEntries: UInt64 = 10_000, maxPendingRequests: Int = 100_000,
        requestBytes: Int = RegistryLimits.standard.requestBytes
    ) {
        self.snapshotEveryEntries = snapshotEveryEntries
        self.maxPendingRequests = maxPendingRequests
        self.requestBytes = requestBytes
        initialMembers = (1...count).map { Member(id: Member.id(forName: "n\($0)"), name: "n\($0)", peerAddress: "127.0.0.1:\(2380 + 2 * $0)") }
        let bootstrap = PersistentState.bootstrap(configuration: Configuration(voters: initialMembers.map(\.id)))
        for member in initialMembers {
            start(member, persisted: bootstrap)
        }
    }

    mutating func start(_ member: Member, persisted: PersistentState) {
        var options = NodeOptions(id: member.id, raft: RaftOptions(), tickMilliseconds: 100, initialMembers: initialMembers)
        options.snapshotEveryEntries = snapshotEveryEntries
        options.snapshotLogShareFloorBytes = snapshotLogShareFloorBytes
        options.snapshotLogCapBytes = snapshotLogCapBytes
        options.maxPendingRequests = maxPendingRequests
        options.registryLimits.requestBytes = requestBytes
        let environment = TestEnvironment(persisted: persisted)
        do {
            drivers[member.id] = try NodeDriver(options: options, persisted: persisted, environment: environment, randomSeed: member.id.rawValue)
        } catch {
            preconditionFailure("driver did not start: \(error)")
        }
        names[member.id] = member.name
        delivered[member.id] = Delivered()
    }

    /// Runs a node's Ready loop and carries out its effects.
    mutating func processReady(_ id: NodeID) {
        guard let effects = drivers[id]?.processReady() else { return }
        delivered[id, default: Delivered()].absorb(effects)
        guard let capture = effects.snapshotToWrite else { return }
        if defersSnapshotWrites {
            capturedSnapshots[id, default: []].append(capture)
        } else {
            // The snapshot worker's part, at once: these tests see snapshots where the driver takes them.
            drivers[id]?.snapshotWritten(capture.metadata, data: capture.encode())
        }
    }

    mutating func processReady(_ name: String) { processReady(id(name)) }

    /// What a node's effects delivered so far.
    func delivered(_ name: String) -> Delivered { delivered[id(name)] ?? Delivered() }

    func id(_ name: String) -> NodeID { Member.id(forName: name) }

    subscript(_ name: String) -> NodeDriver<TestEnvironment> {
        get { drivers[id(name)]! }
        set { drivers[id(name)] = newValue }
    }

    var leader: NodeID? { drivers.values.first { $0.raft.role == .leader }?.raft.id }
    var leaderName: String? { leader.flatMap { names[$0] } }

    /// Delivers queued messages until the network is quiet.
    mutating func deliver(rounds: Int = 200) {
        for _ in 0..<rounds {
            var messages: [Message] = []
            var forwards: [(ForwardMessage, NodeID, NodeID)] = []
            for id in drivers.keys.sorted() {
                messages += delivered[id]!.messages
                delivered[id]!.messages = []
                forwards += delivered[id]!.forwards.map { ($0.message, id, $0.peer) }
                delivered[id]!.forwards = []
            }
            if messages.isEmpty && forwards.isEmpty { return }
            for message in messages where !isolated.contains(message.from) && !isolated.contains(message.to) {
                drivers[message.to]?.receive(message)
                processReady(message.to)
            }
            for (forward, from, to) in forwards where !isolated.contains(from) && !isolated.contains(to) {
                drivers[to]?.receive(forward, from: from)
                processReady(to)
            }
        }
    }

    /// Advances every clock by `milliseconds`, ticking every 100 ms and delivering in between.
    mutating func run(milliseconds: UInt64) {
        var elapsed: UInt64 = 0
        while elapsed < milliseconds {
            elapsed += 100
            for id in drivers.keys.sorted() {
                drivers[id]!.environment.nowMilliseconds += 100
                drivers[id]!.tick()
                processReady(id)
            }
            deliver()
        }
    }

    mutating func electLeader() {
        for _ in 0..<50 where leader == nil { run(milliseconds: 100) }
        precondition(leader != nil, "no leader elected")
        run(milliseconds: 300)
    }

    /// Submits a request to a node and returns its ID; the answer lands in that node's environment.
    mutating func submit(_ request: NodeRequest, to name: String) -> RequestID {
        let id = RequestID(nextRequest)
        nextRequest += 1
        self[name].submit(request, id: id)
        processReady(name)
        return id
    }

    func response(_ request: RequestID, on name: String) -> NodeResponse? {
        delivered(name).responses[request]
    }

    static func instance(_ id: String, service: String = "payments", lease: LeaseID? = nil, incarnation: UInt64 = 1) -> ServiceInstance {
        ServiceInstance(
            namespace: "default", service: service, id: id, version: "1.0", endpoints: ["grpc://10.0.0.5:9000"],
            metadata: ["zone": "a"], weight: 10, status: .up, lease: lease, incarnation: incarnation)
    }
}
