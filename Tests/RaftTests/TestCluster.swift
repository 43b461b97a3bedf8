// A hand-driven cluster for the paper tests: the test decides exactly which ticks happen and which
// messages are delivered or dropped, so each test reads as one scenario from the Raft paper.
import Raft

struct TestCluster {
    var nodes: [NodeID: RaftNode] = [:]
    /// What each node persisted, as its shell would have.
    var disks: [NodeID: PersistentState] = [:]
    /// Messages sent but not delivered yet, in send order.
    var inFlight: [Message] = []
    /// Links that drop everything.
    var cut: Set<[NodeID]> = []
    var applied: [NodeID: [Entry]] = [:]
    var readResults: [NodeID: [ReadResult]] = [:]
    var options: RaftOptions

    init(_ count: Int, options: RaftOptions = TestCluster.defaultOptions) {
        self.options = options
        let members = (1...count).map { NodeID(UInt64($0)) }
        let bootstrap = PersistentState.bootstrap(configuration: Configuration(voters: members))
        for member in members {
            nodes[member] = RaftNode(id: member, options: options, persisted: bootstrap, randomSeed: 42)
            disks[member] = bootstrap
        }
    }

    static var defaultOptions: RaftOptions {
        var options = RaftOptions()
        options.electionTimeoutTicks = 10
        options.heartbeatTicks = 1
        return options
    }

    static func id(_ raw: UInt64) -> NodeID { NodeID(raw) }

    subscript(_ raw: UInt64) -> RaftNode {
        get { nodes[NodeID(raw)]! }
        set { nodes[NodeID(raw)] = newValue }
    }

    /// Processes every pending Ready of every node in the order `Ready` prescribes: queue early
    /// messages, persist, queue the rest, apply, advance.
    ///
    /// The paper tests keep this small loop instead of the node's one Ready executor
    /// (`NodeDriver.processReady`, module RosterNode) on purpose: they drive bare `RaftNode`s with opaque
    /// byte commands and hold, drop or reorder single messages, whereas the driver decodes every
    /// committed entry as a registry command and would pull Registry and Codec into the Raft tests.
    /// What must not diverge is shared: the Ready-to-storage mapping (`PersistentState.persist`).
    mutating func flush() {
        var progressed = true
        while progressed {
            progressed = false
            for id in nodes.keys.sorted() where nodes[id]!.hasReady {
                progressed = true
                let ready = nodes[id]!.drainReady()
                inFlight += ready.messages
                persist(ready, on: id)
                inFlight += ready.messagesAfterPersist
                applied[id, default: []] += ready.committedEntries
                readResults[id, default: []] += ready.readResults
                nodes[id]!.advance(past: ready)
            }
        }
    }

    mutating func persist(_ ready: Ready, on id: NodeID) {
        disks[id]!.persist(ready)
    }

    /// Delivers messages (and the messages they cause) until the network is quiet.
    mutating func stabilize(maxRounds: Int = 1_000) {
        flush()
        var rounds = 0
        while !inFlight.isEmpty && rounds < maxRounds {
            rounds += 1
            let batch = inFlight
            inFlight = []
            for message in batch where !cut.contains([message.from, message.to]) {
                nodes[message.to]?.step(message)
            }
            flush()
        }
    }

    /// Delivers only the messages currently in flight that match `filter`; drops the rest if `dropOthers`.
    mutating func deliver(where filter: (Message) -> Bool, dropOthers: Bool = false) {
        flush()
        let batch = inFlight
        inFlight = []
        for message in batch {
            if filter(message) {
                nodes[message.to]?.step(message)
            } else if !dropOthers {
                inFlight.append(message)
            }
        }
        flush()
    }

    mutating func tick(_ raw: UInt64, times: Int = 1) {
        for _ in 0..<times {
            nodes[NodeID(raw)]!.tick()
            flush()
        }
    }

    /// Ticks every node until some node leads, delivering messages between ticks.
    mutating func elect(_ raw: UInt64) {
        tick(raw, times: 2 * options.electionTimeoutTicks)
        stabilize()
        precondition(self[raw].role == .leader, "node \(raw) did not become leader: \(self[raw].status)")
    }

    mutating func isolate(_ raw: UInt64) {
        for other in nodes.keys where other != NodeID(raw) {
            cut.insert([NodeID(raw), other])
            cut.insert([other, NodeID(raw)])
        }
    }

    mutating func heal() { cut = [] }

    mutating func crashAndRestart(_ raw: UInt64, randomSeed: UInt64 = 7) {
        let id = NodeID(raw)
        nodes[id] = RaftNode(id: id, options: options, persisted: disks[id]!, randomSeed: randomSeed)
        inFlight.removeAll { $0.to == id }
    }

    /// Messages in flight of a given kind.
    func pending(_ kind: (MessageBody) -> Bool) -> [Message] {
        inFlight.filter { kind($0.body) }
    }
}

extension MessageBody {
    var isVote: Bool { if case .vote = self { true } else { false } }
    var isPreVote: Bool { if case .preVote = self { true } else { false } }
    var isAppend: Bool { if case .append = self { true } else { false } }
    var isReadIndex: Bool { if case .readIndex = self { true } else { false } }
    var isAppendResponse: Bool { if case .appendResponse = self { true } else { false } }
    var isVoteResponse: Bool { if case .voteResponse = self { true } else { false } }
    var isHeartbeat: Bool { if case .heartbeat = self { true } else { false } }
    var isSnapshotChunk: Bool { if case .snapshotChunk = self { true } else { false } }
}

extension Array where Element == Entry {
    var commands: [[UInt8]] {
        compactMap { if case .command(let bytes) = $0.payload { bytes } else { nil } }
    }
}
