// Goal: drive a small cluster of real `RaftNode`s from a transcript, one input at a time, so that each
// scenario of the Raft paper and thesis reads as a trace. Method: the tiniest correct shell around the
// pure core: one message queue per node, a `Ready` carried out in the order its contract gives (send,
// persist, send after persist, apply, advance) with persistence immediate and complete, a crash that
// loses everything the node had not yet handed out in a Ready, and a restart from what it persisted.
// Nothing is delivered or processed unless the script says so (`deliver-msgs`, `process-ready`, or
// `stabilize` for both until quiet), and every role change is printed where it happens. Node IDs are
// iterated in order and each node's election randomness comes from a fixed seed, so every run of a
// script prints the same trace.
@testable import Raft

/// The Raft transcript interpreter; see `testdata/README.md` for the commands.
struct RaftInteraction: ScriptInterpreter {
    struct Node {
        /// Nil while crashed.
        var raft: RaftNode?
        /// What the node persisted: what a restart starts from.
        var disk: PersistentState
        /// The application: the commands applied, in order. Its snapshot is them joined by commas.
        var app: [String] = []
        var restarts = 0
        /// Role, term and leader as last printed, so that only changes are printed.
        var shown: Shown?
    }

    struct Shown: Equatable {
        var role: RaftRole
        var term: Term
        var leader: NodeID?
    }

    /// The election randomness of node n is `RaftNode`'s mix of this seed and n (plus its restarts).
    static let seed: UInt64 = 0

    var nodes: [NodeID: Node] = [:]
    /// Messages sent to each node and not yet delivered, in send order.
    var inbox: [NodeID: [Message]] = [:]
    /// Groups that cannot reach each other; empty when the network is whole.
    var partition: [[NodeID]] = []
    var options = RaftOptions()
    var nextRequestID: UInt64 = 1

    var ids: [NodeID] { nodes.keys.sorted() }

    mutating func run(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        switch command.name {
        case "add-nodes": return try addNodes(command)
        case "campaign": return try campaign(command)
        case "elect": return try elect(command)
        case "tick": return try tick(command)
        case "tick-election": return try tickElection(command)
        case "tick-heartbeat": return try tickHeartbeat(command)
        case "propose": return try propose(command)
        case "process-ready": return try processReady(command)
        case "deliver-msgs": return try deliverMessages(command)
        case "drop-msgs": return try dropMessages(command)
        case "stabilize": return try stabilize(command)
        case "partition": return try partition(command)
        case "heal": return heal()
        case "crash": return try crash(command)
        case "restart": return try restart(command)
        case "read-index": return try readIndex(command)
        case "transfer-leadership": return try transferLeadership(command)
        case "compact": return try compact(command)
        case "add-learner", "promote", "remove": return try changeMembership(command)
        case "status": return try status(command)
        case "log": return try log(command)
        case "app": return try app(command)
        default: throw ScriptError("unknown command \(command.name)")
        }
    }

    // MARK: - Nodes

    mutating func addNodes(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        try command.allowOptions([
            "prevote", "checkquorum", "election", "heartbeat", "max-entries", "max-inflight", "snapshot-chunk",
            "snapshot-window", "fault",
        ])
        guard let count = Int(try command.positional(0, "node count")), count > 0 else {
            throw ScriptError("add-nodes: the count must be a positive integer")
        }
        let first = UInt64(nodes.count + 1)
        let added = (first..<first + UInt64(count)).map { NodeID($0) }
        if nodes.isEmpty {
            try configure(from: command)
            let bootstrap = PersistentState.bootstrap(configuration: Configuration(voters: added))
            for id in added { start(id, disk: bootstrap) }
            return ["\(list(added)) start as followers, \(Configuration(voters: added)), \(describe(options))"]
        }
        guard command.options.isEmpty else { throw ScriptError("add-nodes: options are set by the first add-nodes only") }
        // A node added later joins an existing cluster: it knows no configuration until the leader's
        // snapshot arrives.
        let joining = PersistentState.bootstrap(configuration: Configuration(voters: []))
        for id in added { start(id, disk: joining) }
        return ["\(list(added)) start empty, to join through the leader's snapshot"]
    }

    private mutating func configure(from command: ScriptCommand) throws(ScriptError) {
        if let value = try command.boolOption("prevote") { options.preVote = value }
        if let value = try command.boolOption("checkquorum") { options.checkQuorum = value }
        if let value = try command.intOption("election") { options.electionTimeoutTicks = value }
        if let value = try command.intOption("heartbeat") { options.heartbeatTicks = value }
        if let value = try command.intOption("max-entries") { options.maxEntriesPerAppend = value }
        if let value = try command.intOption("max-inflight") { options.maxInflightAppends = value }
        if let value = try command.intOption("snapshot-chunk") { options.snapshotChunkBytes = value }
        if let value = try command.intOption("snapshot-window") { options.snapshotChunksInFlight = value }
        switch command.option("fault") {
        case nil: break
        case "commit-previous-term": options.faults.insert(.commitPreviousTermByCounting)
        case let other?: throw ScriptError("unknown fault \(other)")
        }
        do {
            try options.validate(allowFaults: true)
        } catch {
            throw ScriptError("invalid options: \(error)")
        }
    }

    private mutating func start(_ id: NodeID, disk: PersistentState) {
        var node = Node(raft: nil, disk: disk)
        node.raft = RaftNode(id: id, options: options, persisted: disk, randomSeed: Self.seed)
        node.shown = node.raft.map { Shown(role: $0.role, term: $0.term, leader: $0.leader) }
        nodes[id] = node
        inbox[id] = []
    }

    func node(_ text: String) throws(ScriptError) -> NodeID {
        guard let raw = UInt64(text), raw > 0, nodes[NodeID(raw)] != nil else { throw ScriptError("no node \(text)") }
        return NodeID(raw)
    }

    /// The node named at `position`, which must be running.
    func runningNode(_ command: ScriptCommand, at position: Int = 0) throws(ScriptError) -> NodeID {
        let id = try node(command.positional(position, "node ID"))
        guard nodes[id]!.raft != nil else { throw ScriptError("\(id) is down") }
        return id
    }

    /// The nodes named by the positional arguments, or every node when there are none.
    func nodeList(_ command: ScriptCommand) throws(ScriptError) -> [NodeID] {
        if command.positional.isEmpty { return ids }
        var result: [NodeID] = []
        for text in command.positional { result.append(try node(text)) }
        return result
    }

    /// The line announcing a change of role, term or leader since the last one printed, if any.
    mutating func changes(of id: NodeID, indent: String = "") -> [String] {
        guard let raft = nodes[id]?.raft else { return [] }
        let now = Shown(role: raft.role, term: raft.term, leader: raft.leader)
        guard now != nodes[id]!.shown else { return [] }
        let before = nodes[id]!.shown
        nodes[id]!.shown = now
        if now.role == before?.role && now.term == before?.term && now.role == .follower {
            return ["\(indent)\(id) follows \(now.leader.map { "\($0)" } ?? "nobody") at term \(now.term)"]
        }
        let following = now.role == .follower ? (now.leader.map { " (leader \($0))" } ?? " (no leader)") : ""
        return ["\(indent)\(id) became \(name(of: now.role)) at term \(now.term)\(following)"]
    }

    // MARK: - Time and elections

    mutating func campaign(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        let id = try runningNode(command)
        let raft = nodes[id]!.raft!
        guard raft.role != .leader else { throw ScriptError("\(id) already leads term \(raft.term)") }
        guard raft.configuration.isVoter(id) else { throw ScriptError("\(id) is not a voter") }
        nodes[id]!.raft!.campaign(raft.options.preVote ? .preVote : .election)
        return changes(of: id)
    }

    mutating func tick(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        let id = try runningNode(command)
        let count = command.positional.count > 1 ? Int(command.positional[1]) : 1
        guard let count, count > 0 else { throw ScriptError("tick: the count must be a positive integer") }
        return tick(id, times: count)
    }

    mutating func tick(_ id: NodeID, times: Int) -> [String] {
        var lines: [String] = []
        for _ in 0..<times {
            nodes[id]!.raft!.tick()
            let changed = changes(of: id)
            lines += changed
            let raft = nodes[id]!.raft!
            if changed.isEmpty && raft.role != .leader && raft.electionElapsed == 0 {
                // The timer fired again without a visible change: a (pre-)candidate starts over.
                lines.append("\(id) times out again: \(name(of: raft.role)) at term \(raft.term) campaigns anew")
            }
        }
        return lines
    }

    /// `campaign` then `stabilize`, printing only role changes: the set-up of scenarios about
    /// something else (election.txt shows a whole election).
    mutating func elect(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        let id = try runningNode(command)
        var lines = try campaign(command)
        let trace = try stabilize(ScriptCommand(parsing: "stabilize", location: command.location))
        lines += trace.map { String($0.drop { $0 == " " }) }.filter(Self.isRoleChange)
        guard nodes[id]!.raft!.role == .leader else { throw ScriptError("\(id) did not win: \(statusText(id))") }
        let commit = nodes[id]!.raft!.commitIndex
        let caughtUp = ids.filter { nodes[$0]!.raft?.commitIndex == commit }
        return lines + ["\(id) leads term \(nodes[id]!.raft!.term); commit \(commit) on \(list(caughtUp))"]
    }

    static func isRoleChange(_ line: String) -> Bool {
        guard line.first?.isNumber == true, !line.contains("->") else { return false }
        return line.contains(" became ") || line.contains(" follows ") || line.contains(" times out again")
    }

    /// Ticks the given nodes in step, as concurrent timers: a round ticks each once, in ID order. Stops
    /// after the round in which a follower or candidate among them changed role or term (its
    /// randomized election timeout fired), or, when all of them lead, after one election timeout of
    /// rounds (a CheckQuorum period); at most twice the election timeout.
    mutating func tickElection(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        var chosen: [NodeID] = []
        for position in command.positional.indices { chosen.append(try runningNode(command, at: position)) }
        guard !chosen.isEmpty else { throw ScriptError("tick-election: name the nodes") }
        let timeout = options.electionTimeoutTicks
        let allLead = chosen.allSatisfy { nodes[$0]!.raft!.role == .leader }
        func watched() -> [Shown] {
            chosen.compactMap { id in
                nodes[id]!.raft.flatMap { $0.role == .leader ? nil : Shown(role: $0.role, term: $0.term, leader: nil) }
            }
        }
        let before = watched()
        var rounds = 0
        var lines: [String] = []
        var fired = false
        repeat {
            rounds += 1
            for id in chosen where nodes[id]!.raft != nil {
                lines += tick(id, times: 1)
                let raft = nodes[id]!.raft!
                if raft.role != .leader && raft.electionElapsed == 0 { fired = true }
            }
        } while rounds < (allLead ? timeout : 2 * timeout) && (allLead || (watched() == before && !fired))
        return ["\(list(chosen)) tick\(chosen.count == 1 ? "s" : "") \(rounds) time\(rounds == 1 ? "" : "s")"] + lines
    }

    mutating func tickHeartbeat(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        let id = try runningNode(command)
        return tick(id, times: options.heartbeatTicks)
    }

    // MARK: - Client requests

    mutating func propose(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        let id = try runningNode(command)
        let data = try command.positional(1, "data")
        guard !data.contains(",") else { throw ScriptError("propose: data must not contain commas") }
        switch nodes[id]!.raft!.propose(Array(data.utf8)) {
        case .accepted(let index, let term): return ["\(id) appends \(index)@\(term) \"\(data)\""]
        case .notLeader(let leader, let term): return ["\(id) refuses: not leader (\(leaderText(leader)) at term \(term))"]
        case .refused(let refusal): return ["\(id) refuses: \(refusal)"]
        }
    }

    mutating func readIndex(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        let id = try runningNode(command)
        let request = nextRequestID
        nextRequestID += 1
        nodes[id]!.raft!.readIndex(requestID: request)
        return ["read #\(request) asked of \(id)"] + changes(of: id)
    }

    mutating func transferLeadership(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        let id = try runningNode(command)
        let target = try node(command.positional(1, "target"))
        let outcome = nodes[id]!.raft!.transferLeadership(to: target)
        return ["\(id) transfers leadership to \(target): \(outcome)"] + changes(of: id)
    }

    mutating func changeMembership(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        let id = try runningNode(command)
        guard let raw = UInt64(try command.positional(1, "member")), raw > 0 else { throw ScriptError("bad member ID") }
        let member = NodeID(raw)
        let change: MembershipChange
        switch command.name {
        case "add-learner": change = .addLearner(member)
        case "promote": change = .promoteLearner(member)
        default: change = .remove(member)
        }
        let text: String
        switch nodes[id]!.raft!.proposeMembershipChange(change) {
        case .accepted(let index, let term): text = "appends \(index)@\(term) \(change)"
        case .notLeader(let leader, let term): text = "refuses \(change): not leader (\(leaderText(leader)) at term \(term))"
        case .refused(let refusal): text = "refuses \(change): \(refusal)"
        }
        return ["\(id) \(text)"] + changes(of: id)
    }

    mutating func compact(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        let id = try runningNode(command)
        guard let raw = UInt64(try command.positional(1, "index")) else { throw ScriptError("bad index") }
        let index = LogIndex(raw)
        let raft = nodes[id]!.raft!
        guard index <= raft.appliedIndex, index >= raft.snapshotMetadata.index else {
            throw ScriptError("\(id) can compact only within [\(raft.snapshotMetadata.index), \(raft.appliedIndex)]")
        }
        // The application state at `index`: the commands of the snapshot, then those applied through it.
        let snapshot = nodes[id]!.raft!.compact(through: index, data: snapshotData(of: id, through: index))
        nodes[id]!.disk.save(snapshot)
        return ["\(id) compacts through \(index): \(snapshot.metadata)"]
    }

    /// The application state after applying through `index`. The application keeps only its current
    /// state, so this is computed from the applied commands that are still in the log.
    private func snapshotData(of id: NodeID, through index: LogIndex) -> [UInt8] {
        let raft = nodes[id]!.raft!
        let laterCommands = raft.entries.filter { $0.index > index && $0.index <= raft.appliedIndex }.filter {
            if case .command = $0.payload { true } else { false }
        }.count
        let state = nodes[id]!.app.dropLast(laterCommands)
        return Array(state.joined(separator: ",").utf8)
    }

    // MARK: - The shell: Readys and the network

    mutating func processReady(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        var lines: [String] = []
        for id in try nodeList(command) where nodes[id]!.raft?.hasReady == true {
            lines += handleReady(id)
        }
        return lines
    }

    /// Carries out one Ready in the order of its contract and prints what was done.
    mutating func handleReady(_ id: NodeID) -> [String] {
        let ready = nodes[id]!.raft!.drainReady()
        var lines = ["> \(id) handling Ready"]
        lines += coalesced(ready.messages.map(format)).map { "  send \($0)" }
        for message in ready.messages { inbox[message.to, default: []].append(message) }
        if let snapshot = ready.snapshotToInstall { lines.append("  persist \(snapshot.metadata)") }
        if !ready.entriesToAppend.isEmpty { lines.append("  persist entries \(format(ready.entriesToAppend))") }
        if let hardState = ready.hardState { lines.append("  persist hardstate \(hardState)") }
        nodes[id]!.disk.persist(ready)
        lines += coalesced(ready.messagesAfterPersist.map(format)).map { "  send after persist \($0)" }
        for message in ready.messagesAfterPersist { inbox[message.to, default: []].append(message) }
        if let snapshot = ready.snapshotToInstall {
            nodes[id]!.app = Self.decodeApp(snapshot.data)
            lines.append("  restore app from \(snapshot.metadata): \(appText(id))")
        }
        if !ready.committedEntries.isEmpty {
            for entry in ready.committedEntries {
                if case .command(let bytes) = entry.payload { nodes[id]!.app.append(String(decoding: bytes, as: UTF8.self)) }
            }
            lines.append("  apply \(format(ready.committedEntries))")
        }
        for result in ready.readResults { lines.append("  \(result)") }
        nodes[id]!.raft!.advance(past: ready)
        nodes[id]!.raft!.checkInvariants()
        return lines + changes(of: id, indent: "  ")
    }

    mutating func deliverMessages(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        var lines: [String] = []
        for id in try nodeList(command) { lines += deliver(to: id) }
        return lines
    }

    /// Steps every queued message into `id` (dropping those a partition or a crash loses).
    mutating func deliver(to id: NodeID) -> [String] {
        let batch = inbox[id] ?? []
        guard !batch.isEmpty else { return [] }
        inbox[id] = []
        var lines = ["> \(id) receiving messages"]
        var run: (line: String, count: Int)?
        func flush() {
            if let current = run { lines.append("  " + current.line + (current.count > 1 ? " ×\(current.count)" : "")) }
            run = nil
        }
        for message in batch {
            var line = format(message)
            if nodes[id]?.raft == nil {
                line += " dropped: \(id) is down"
            } else if isCut(message.from, id) {
                line += " dropped: partition"
            }
            if run?.line == line {
                run!.count += 1
            } else {
                flush()
                run = (line, 1)
            }
            guard nodes[id]?.raft != nil, !isCut(message.from, id) else { continue }
            nodes[id]!.raft!.step(message)
            let effects = changes(of: id, indent: "    ")
            if !effects.isEmpty {
                flush()
                lines += effects
            }
        }
        flush()
        return lines
    }

    mutating func dropMessages(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        var lines: [String] = []
        for id in try nodeList(command) {
            lines += coalesced((inbox[id] ?? []).map(format)).map { "dropped \($0)" }
            inbox[id] = []
        }
        return lines
    }

    /// Processes Readys and delivers messages, among the given nodes (or all), until none is left.
    mutating func stabilize(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        let chosen = try nodeList(command)
        var lines: [String] = []
        for _ in 0..<1_000 {
            var progressed = false
            for id in chosen where nodes[id]!.raft?.hasReady == true {
                lines += handleReady(id)
                progressed = true
            }
            for id in chosen where !(inbox[id] ?? []).isEmpty {
                lines += deliver(to: id)
                progressed = true
            }
            if !progressed { return lines }
        }
        throw ScriptError("stabilize: still busy after 1,000 rounds")
    }

    func isCut(_ from: NodeID, _ to: NodeID) -> Bool {
        guard !partition.isEmpty else { return false }
        return partition.firstIndex { $0.contains(from) } != partition.firstIndex { $0.contains(to) }
    }

    mutating func partition(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        var groups: [[NodeID]] = [[]]
        for token in command.positional {
            if token == "|" {
                groups.append([])
            } else {
                groups[groups.count - 1].append(try node(token))
            }
        }
        let listed = groups.flatMap { $0 }
        guard groups.count >= 2, groups.allSatisfy({ !$0.isEmpty }) else {
            throw ScriptError("partition: give two or more groups separated by |")
        }
        guard listed.sorted() == ids else { throw ScriptError("partition: name every node exactly once") }
        partition = groups.map { $0.sorted() }
        return ["network: " + partition.map(list).joined(separator: " | ")]
    }

    mutating func heal() -> [String] {
        partition = []
        return ["network: whole"]
    }

    // MARK: - Crashes

    mutating func crash(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        let id = try runningNode(command)
        let raft = nodes[id]!.raft!
        let disk = nodes[id]!.disk
        let diskLast = disk.entries.last?.index ?? disk.snapshot.metadata.index
        var lost: [String] = []
        if raft.lastIndex > diskLast { lost.append("entries \(diskLast.next)...\(raft.lastIndex)") }
        if raft.hardState.term != disk.hardState.term || raft.hardState.vote != disk.hardState.vote {
            lost.append("hardstate \(raft.hardState)")
        }
        let unsent = raft.messages.count + raft.messagesAfterPersist.count
        if unsent > 0 { lost.append("\(unsent) unsent message\(unsent == 1 ? "" : "s")") }
        nodes[id]!.raft = nil
        nodes[id]!.shown = nil
        inbox[id] = []
        var lines = ["\(id) crashes; on disk: \(disk.hardState), log through \(diskLast)"]
        if !lost.isEmpty { lines.append("  lost: " + lost.joined(separator: ", ")) }
        return lines
    }

    mutating func restart(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        let id = try node(command.positional(0, "node ID"))
        guard nodes[id]!.raft == nil else { throw ScriptError("\(id) is running") }
        nodes[id]!.restarts += 1
        let disk = nodes[id]!.disk
        nodes[id]!.raft = RaftNode(
            id: id, options: options, persisted: disk, randomSeed: Self.seed &+ UInt64(nodes[id]!.restarts))
        nodes[id]!.app = Self.decodeApp(disk.snapshot.data)
        _ = changes(of: id)
        return ["\(id) restarts: \(statusText(id))"]
    }

    // MARK: - Inspection

    func status(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        try nodeList(command).map(statusText)
    }

    func statusText(_ id: NodeID) -> String {
        guard let raft = nodes[id]!.raft else {
            let disk = nodes[id]!.disk
            return "\(id) down; on disk: \(disk.hardState), log through \(disk.entries.last?.index ?? disk.snapshot.metadata.index)"
        }
        return "\(raft.status) \(raft.configuration)"
    }

    func log(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        try nodeList(command).map { id in
            let node = nodes[id]!
            let base = node.raft?.snapshotMetadata ?? node.disk.snapshot.metadata
            let entries = node.raft?.entries ?? node.disk.entries
            var parts: [String] = []
            if base.index > .zero { parts.append("[snapshot \(base.index)@\(base.term)]") }
            parts.append(entries.isEmpty ? "(no entries)" : format(entries))
            return "\(id):\(node.raft == nil ? " (down, on disk)" : "") " + parts.joined(separator: " ")
        }
    }

    func app(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        try nodeList(command).map { "\($0): \(appText($0))" }
    }

    func appText(_ id: NodeID) -> String {
        nodes[id]!.app.isEmpty ? "(empty)" : nodes[id]!.app.joined(separator: " ")
    }

    static func decodeApp(_ data: [UInt8]) -> [String] {
        data.isEmpty ? [] : String(decoding: data, as: UTF8.self).split(separator: ",").map(String.init)
    }
}
