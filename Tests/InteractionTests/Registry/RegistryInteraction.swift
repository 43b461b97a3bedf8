// Goal: leases and watches as golden traces: when a lease may expire, what a leader change restores, how
// a silent lease is checkpointed, how a mass expiry trickles out, what a watch from history or from a
// compacted revision returns. Method: one replicated `RegistryState` plus the leader's `LeaseKeeper`,
// driven the way a leader node drives them, with an explicit millisecond clock that only the script
// moves: a command is "committed" at once (applied at the next log index, then `observe`d by the
// keeper), `commands-due` proposes what the keeper asks for, and `leader-change` hands the replicated
// state to a fresh keeper whose clock may read anything (clocks of two leaders are never compared).
import Registry

/// The registry transcript interpreter; see `testdata/README.md` for the commands.
struct RegistryInteraction: ScriptInterpreter {
    var state = RegistryState()
    var configuration = LeaseKeeperConfiguration(electionTimeoutMilliseconds: 1_000)
    var keeper: LeaseKeeper
    /// The current leader's monotonic clock, in milliseconds.
    var now: UInt64 = 0
    var nextIndex: UInt64 = 1
    var leaderTerm = 1

    init() {
        keeper = LeaseKeeper(configuration: configuration)
        keeper.becomeLeader(state: state, nowMilliseconds: now)
    }

    mutating func run(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        switch command.name {
        case "init": return try initialize(command)
        case "grant": return try grant(command)
        case "keepalive": return try keepAlive(command)
        case "revoke": return try commit(.revokeLease(lease(command.positional(0, "lease ID"))))
        case "advance-clock": return try advanceClock(command)
        case "commands-due": return proposeDue()
        case "leader-change": return try leaderChange(command)
        case "register": return try register(command)
        case "deregister": return try deregister(command)
        case "put": return try put(command)
        case "txn": return try transaction(command)
        case "delete": return try commit(.deleteRange(DeleteRangeRequest(.key(Array(command.positional(0, "key").utf8)))))
        case "compact": return try commit(.compact(revision(command.positional(0, "revision"))))
        case "watch-from": return try watchFrom(command)
        case "leases": return leases()
        case "keys": return try keys(command)
        default: throw ScriptError("unknown command \(command.name)")
        }
    }

    // MARK: - Set-up

    mutating func initialize(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        try command.allowOptions([
            "election", "lag", "grace", "retry", "expiries-per-second", "leases-per-command", "history-revisions",
        ])
        let election = try command.intOption("election") ?? 1_000
        guard election > 0 else { throw ScriptError("election must be positive") }
        var limits = RegistryLimits(electionTimeoutMilliseconds: Int64(election))
        if let revisions = try command.intOption("history-revisions") { limits.historyRevisions = Int64(revisions) }
        configuration = LeaseKeeperConfiguration(electionTimeoutMilliseconds: UInt64(election))
        if let lag = try command.intOption("lag") { configuration.checkpointLagMilliseconds = UInt64(lag) }
        if let grace = try command.intOption("grace") { configuration.electionGraceMilliseconds = UInt64(grace) }
        if let retry = try command.intOption("retry") { configuration.expiryRetryMilliseconds = UInt64(retry) }
        if let rate = try command.intOption("expiries-per-second") { configuration.expiriesPerSecond = rate }
        if let batch = try command.intOption("leases-per-command") { configuration.leasesPerCommand = batch }
        state = RegistryState(limits: limits)
        now = 0
        nextIndex = 1
        leaderTerm = 1
        keeper = LeaseKeeper(configuration: configuration)
        keeper.becomeLeader(state: state, nowMilliseconds: now)
        return [
            "leader 1 at t=0; TTL within [\(limits.minimumTTLMilliseconds), \(limits.maximumTTLMilliseconds)] ms",
            "grace \(configuration.electionGraceMilliseconds) ms, checkpoint lag \(configuration.checkpointLagMilliseconds) ms, "
                + "expiry retry \(configuration.expiryRetryMilliseconds) ms",
            "at most \(configuration.expiriesPerSecond) expiries/s, \(configuration.leasesPerCommand) per command, "
                + "history of \(limits.historyRevisions) revisions",
        ]
    }

    // MARK: - Leases and the clock

    /// `grant ID TTL`, or `grant FIRST..LAST TTL` for many leases at once.
    mutating func grant(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        let ids = try leases(command.positional(0, "lease ID"))
        let ttl = try milliseconds(command.positional(1, "TTL"))
        var lines: [String] = []
        for id in ids { lines += commit(.grantLease(id: id, ttlMilliseconds: Int64(ttl), grantedAtMilliseconds: now)) }
        return lines
    }

    mutating func keepAlive(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        let id = try lease(command.positional(0, "lease ID"))
        let outcome: String
        switch keeper.keepAlive(id, nowMilliseconds: now) {
        case .renewed(let ttl):
            outcome = "renewed for \(ttl) ms: deadline t=\(now + UInt64(ttl))"
        case .renewedAfterCheckpoint(let ttl):
            outcome = "renewed for \(ttl) ms: deadline t=\(now + UInt64(ttl)); acknowledged once the checkpoint commits"
        case .leaseNotFound:
            outcome = "lease not found"
        case .notLeader:
            outcome = "not leader"
        }
        return ["t=\(now) keepalive lease \(id.rawValue): \(outcome)"]
    }

    /// Moves the clock; with `every=`, runs the keeper (`commands-due`) after each step, as a leader does
    /// on every tick, printing only the steps that proposed something. With `keepalive=1,2` those leases
    /// are renewed at each step, before the keeper runs (as a holder renewing that often would).
    mutating func advanceClock(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        try command.allowOptions(["every", "keepalive"])
        let total = try milliseconds(command.positional(0, "duration"))
        let renewing = try command.option("keepalive").map { (text: String) throws(ScriptError) in try leases(text) } ?? []
        guard let every = try command.option("every").map({ (text: String) throws(ScriptError) in try milliseconds(text) }) else {
            guard renewing.isEmpty else { throw ScriptError("keepalive= needs every=") }
            now += total
            return ["t=\(now)"]
        }
        guard every > 0 else { throw ScriptError("every must be positive") }
        let end = now + total
        var lines: [String] = []
        var renewals = 0
        while now < end {
            now = min(now + every, end)
            for id in renewing {
                switch keeper.keepAlive(id, nowMilliseconds: now) {
                case .renewed: renewals += 1
                case .renewedAfterCheckpoint: lines.append("t=\(now) keepalive lease \(id.rawValue) renewed after a checkpoint")
                case .leaseNotFound: lines.append("t=\(now) keepalive lease \(id.rawValue): lease not found")
                case .notLeader: lines.append("t=\(now) keepalive lease \(id.rawValue): not leader")
                }
            }
            for command in keeper.commandsDue(nowMilliseconds: now) { lines += commit(command) }
        }
        if renewals > 0 { lines.append("\(renewals) keepalive\(renewals == 1 ? "" : "s") renewed without a log entry") }
        return lines + ["t=\(now)"]
    }

    /// Proposes and commits what the keeper asks for now.
    mutating func proposeDue() -> [String] {
        let due = keeper.commandsDue(nowMilliseconds: now)
        var lines: [String] = []
        for command in due { lines += commit(command) }
        return lines.isEmpty ? ["t=\(now) nothing due"] : lines
    }

    mutating func leaderChange(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        try command.allowOptions(["clock"])
        if let clock = try command.intOption("clock") {
            guard clock >= 0 else { throw ScriptError("clock must not be negative") }
            now = UInt64(clock)
        }
        keeper.stepDown()
        leaderTerm += 1
        keeper = LeaseKeeper(configuration: configuration)
        keeper.becomeLeader(state: state, nowMilliseconds: now)
        var lines = ["leader \(leaderTerm) takes over at t=\(now) (its own clock)"]
        for status in state.leases() {
            let live = keeper.remainingMilliseconds(status.id, nowMilliseconds: now) ?? 0
            lines.append(
                "  lease \(status.id.rawValue): replicated remaining \(status.remainingTTLMilliseconds) + grace "
                    + "\(configuration.electionGraceMilliseconds) = \(live) ms: deadline t=\(now + UInt64(live))")
        }
        return lines
    }

    func leases() -> [String] {
        let all = state.leases()
        guard !all.isEmpty else { return ["no leases"] }
        return all.map { status in
            let keys = state.lease(status.id)?.sortedKeys.map { String(decoding: $0, as: UTF8.self) } ?? []
            let live = keeper.remainingMilliseconds(status.id, nowMilliseconds: now).map { "\($0)" } ?? "untracked"
            return "lease \(status.id.rawValue): ttl \(status.grantedTTLMilliseconds), replicated remaining "
                + "\(status.remainingTTLMilliseconds), live remaining \(live)"
                + (keys.isEmpty ? "" : ", keys \(keys.joined(separator: " "))")
        }
    }

    // MARK: - Keys and instances

    mutating func register(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        try command.allowOptions(["lease", "incarnation"])
        let name = try instanceName(command.positional(0, "namespace/service/id"))
        let leaseID = try command.option("lease").map { (text: String) throws(ScriptError) in try lease(text) }
        let incarnation = try command.intOption("incarnation") ?? 0
        let instance = ServiceInstance(
            namespace: name.namespace, service: name.service, id: name.id, endpoints: ["tcp://\(name.id):80"],
            lease: leaseID, incarnation: UInt64(incarnation))
        return commit(.registerInstance(instance))
    }

    mutating func deregister(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        try command.allowOptions(["incarnation"])
        let name = try instanceName(command.positional(0, "namespace/service/id"))
        let incarnation = try command.intOption("incarnation").map { UInt64($0) }
        return commit(.deregisterInstance(name, incarnation: incarnation))
    }

    mutating func put(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        try command.allowOptions(["lease"])
        let key = try command.positional(0, "key")
        let value = try command.positional(1, "value")
        let leaseID = try command.option("lease").map { (text: String) throws(ScriptError) in try lease(text) }
        return commit(.put(PutRequest(key: Array(key.utf8), value: Array(value.utf8), lease: leaseID)))
    }

    /// Applies a command at the next log index and lets the keeper observe it.
    mutating func commit(_ command: RegistryCommand) -> [String] {
        let index = nextIndex
        nextIndex += 1
        let result = state.apply(command, at: index)
        keeper.observe(command, result: result, nowMilliseconds: now)
        switch result {
        case .rejected(let rejection):
            return ["t=\(now) index \(index): \(format(command)) -> rejected: \(rejection)"]
        case .applied(let applied):
            return ["t=\(now) index \(index): \(format(command)) -> \(format(applied.response))"]
                + applied.events.map { "  " + format($0) }
        }
    }

    func watchFrom(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        try command.allowOptions(["prefix", "limit"])
        let from = try revision(command.positional(0, "revision"))
        let filter = command.option("prefix").map { WatchFilter.prefix(Array($0.utf8)) } ?? .all
        let limit = try command.intOption("limit") ?? 1_000
        let batch: WatchBatch
        do {
            batch = try state.events(after: Revision(max(from.rawValue - 1, 0)), matching: filter, limit: limit)
        } catch {
            return ["refused: \(error)"]
        }
        switch batch {
        case .events(let events, let through):
            return ["events through \(through) (\(events.count)):"] + events.map { "  " + format($0) }
        case .resync(let records, let revision):
            return ["resync at \(revision) (history compacted through \(state.compactedRevision)):"]
                + records.map { "  " + format($0) }
        }
    }

    func keys(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        let prefix = command.positional.first ?? ""
        let result: RangeResult
        do {
            result = try state.range(RangeRequest(.prefix(Array(prefix.utf8))))
        } catch {
            throw ScriptError("\(error)")
        }
        return ["at \(result.revision):"] + result.keyValues.map { "  " + format($0) }
    }

    // MARK: - Arguments

    func lease(_ text: String) throws(ScriptError) -> LeaseID {
        guard let raw = UInt64(text) else { throw ScriptError("bad lease ID \(text)") }
        return LeaseID(raw)
    }

    /// `3`, `1,2,5` or `1..10`.
    func leases(_ text: String) throws(ScriptError) -> [LeaseID] {
        if let dots = text.firstRange(of: "..") {
            guard let first = UInt64(text[..<dots.lowerBound]), let last = UInt64(text[dots.upperBound...]), first <= last else {
                throw ScriptError("bad lease range \(text)")
            }
            return (first...last).map { LeaseID($0) }
        }
        var result: [LeaseID] = []
        for part in text.split(separator: ",") { result.append(try lease(String(part))) }
        return result
    }

    func revision(_ text: String) throws(ScriptError) -> Revision {
        guard let raw = Int64(text.hasPrefix("r") ? String(text.dropFirst()) : text) else {
            throw ScriptError("bad revision \(text)")
        }
        return Revision(raw)
    }

    /// `1500`, `1500ms` or `2s`.
    func milliseconds(_ text: String) throws(ScriptError) -> UInt64 {
        if text.hasSuffix("ms"), let value = UInt64(text.dropLast(2)) { return value }
        if text.hasSuffix("s"), let value = UInt64(text.dropLast()) { return value * 1_000 }
        if let value = UInt64(text) { return value }
        throw ScriptError("bad duration \(text)")
    }

    func instanceName(_ text: String) throws(ScriptError) -> InstanceName {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else { throw ScriptError("expected namespace/service/id, got \(text)") }
        return InstanceName(namespace: parts[0], service: parts[1], id: parts[2])
    }
}
