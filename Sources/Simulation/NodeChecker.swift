import Raft
import Registry
import RosterNode

/// The whole-node checks that run after every input to a node, besides the Raft-level ones
/// (`SafetyChecker`): what Roster promises its clients.
///
/// - Every member's registry is the same at the same applied index (state hash and leases).
/// - Every node applies the same events at each revision, and every acknowledged write is among them.
/// - A linearizable read reflects every write acknowledged before it began.
/// - A fenced node (restarted, not caught up to what it applied before) serves no local read.
/// - A lease does not expire before its TTL has passed since its last acknowledged keepalive (measured
///   from when the client sent it, which is no later than when the leader renewed), leader changes
///   included; and after healing, leases of silent holders end within the bound of `LeaseKeeper` (see
///   `Simulator+Liveness`).
/// - Watch streams deliver every revision's events exactly once, in order.
struct NodeChecker {
    var step = 0
    /// Whether lease bounds are checked: only with check-quorum, which makes a cut-off leader stop
    /// renewing within the election grace (without it, it renews for as long as it is cut off).
    let checksLeases: Bool
    /// Applied index → state digest; the first node to reach an index defines it.
    private var stateAt: [LogIndex: UInt64] = [:]
    /// Revision → digest of the events applied at it (only revisions with events).
    private(set) var eventsAt: [Revision: UInt64] = [:]
    /// The same, restricted to what a watch of every key sees (`WatchFilter.all`; the member directory is hidden).
    private(set) var watchableAt: [Revision: UInt64] = [:]
    private(set) var highestAcknowledged: Revision = .zero
    private var leases: [LeaseID: LeaseRecord] = [:]
    private var expired: Set<LeaseID> = []

    struct LeaseRecord {
        var ttlMilliseconds: UInt64
        var lastAcknowledgedSentAt: UInt64
        /// When the client heard the last acknowledgement (no earlier than the leader applied the grant).
        var lastAcknowledgedAt: UInt64 = 0
        var expiredAt: UInt64?
    }

    /// When a client last heard that `lease` was granted or renewed, if ever.
    func lastAcknowledgement(of lease: LeaseID) -> (at: UInt64, ttlMilliseconds: UInt64)? {
        leases[lease].map { ($0.lastAcknowledgedAt, $0.ttlMilliseconds) }
    }

    init(checksLeases: Bool) {
        self.checksLeases = checksLeases
    }

    func violation(_ property: String, _ detail: String) -> Violation {
        Violation(step: step, property: property, detail: detail)
    }

    // MARK: - State and history

    /// Every member's registry must be the same at the same applied index.
    mutating func checkState(of node: NodeID, applied: LogIndex, registry: RegistryState) throws(Violation) {
        let digest = Self.digest(registry)
        if let known = stateAt[applied] {
            guard known == digest else {
                throw violation("registry state", "node \(node) at applied index \(applied) (revision \(registry.revision)) differs from another member")
            }
        } else {
            stateAt[applied] = digest
        }
    }

    /// Events a node applied at `revision` must be the canonical ones.
    mutating func recordEvents(_ events: [RegistryEvent], at revision: Revision, on node: NodeID) throws(Violation) {
        let digest = Self.digest(events)
        if let known = eventsAt[revision] {
            guard known == digest else {
                throw violation("registry history", "node \(node) applied other events at revision \(revision) than another member")
            }
        } else {
            eventsAt[revision] = digest
            let watchable = Self.watchable(events)
            if !watchable.isEmpty { watchableAt[revision] = Self.digest(watchable) }
        }
    }

    static func watchable(_ events: [RegistryEvent]) -> [RegistryEvent] {
        events.filter { WatchFilter.all.matches($0.key) }
    }

    /// A client heard that its write applied at `applied.revision`.
    mutating func acknowledge(_ applied: AppliedCommand, from node: NodeID) throws(Violation) {
        highestAcknowledged = max(highestAcknowledged, applied.revision)
        guard !applied.events.isEmpty else { return }
        guard eventsAt[applied.revision] == Self.digest(applied.events) else {
            throw violation("acknowledged write", "node \(node) acknowledged revision \(applied.revision), which is not the canonical history")
        }
    }

    // MARK: - Reads

    /// A read's answer: linearizable ones see every write acknowledged before they began; every read sees the
    /// writes the node it read from had acknowledged before it began (`ownWrites`: a client reads its own writes);
    /// local ones never come from a node below what it applied before it restarted.
    func checkRead(on node: NodeID, context: ReadContext, mustSee: Revision, ownWrites: Revision, fence: Revision) throws(Violation) {
        if context.consistency == .linearizable && context.revision < mustSee {
            throw violation(
                "linearizable read", "node \(node) answered at revision \(context.revision), missing acknowledged revision \(mustSee)")
        }
        if context.revision < ownWrites {
            throw violation(
                "read your writes",
                "node \(node) answered a \(context.consistency) read at revision \(context.revision), below revision \(ownWrites) it had acknowledged before the read began")
        }
        if context.revision < fence {
            throw violation("read fence", "node \(node) served a read at revision \(context.revision), below revision \(fence) it applied before restarting")
        }
    }

    // MARK: - Leases

    /// A grant or keepalive the client sent at `sentAt` was acknowledged.
    mutating func leaseAcknowledged(_ lease: LeaseID, ttlMilliseconds: Int64, sentAt: UInt64, at time: UInt64) throws(Violation) {
        var record = leases[lease] ?? LeaseRecord(ttlMilliseconds: UInt64(ttlMilliseconds), lastAcknowledgedSentAt: sentAt)
        record.lastAcknowledgedSentAt = max(record.lastAcknowledgedSentAt, sentAt)
        record.lastAcknowledgedAt = max(record.lastAcknowledgedAt, time)
        leases[lease] = record
        try checkLease(lease)
    }

    /// A node applied the expiry of `lease` (seen through the deletion of its keys) at `time`.
    /// - Returns: whether this is the first node to apply it (later ones, and replays, come later).
    mutating func leaseExpired(_ lease: LeaseID, at time: UInt64) throws(Violation) -> Bool {
        guard expired.insert(lease).inserted else { return false }
        if var record = leases[lease] {
            record.expiredAt = time
            leases[lease] = record
            try checkLease(lease)
        }
        return true
    }

    private func checkLease(_ lease: LeaseID) throws(Violation) {
        guard checksLeases, let record = leases[lease], let expiredAt = record.expiredAt else { return }
        let earliest = record.lastAcknowledgedSentAt + record.ttlMilliseconds
        guard expiredAt >= earliest else {
            throw violation(
                "lease TTL",
                "lease \(lease) expired at \(expiredAt) ms, \(earliest - expiredAt) ms before its TTL of \(record.ttlMilliseconds) ms "
                    + "had passed since the keepalive sent at \(record.lastAcknowledgedSentAt) ms was acknowledged")
        }
    }

    // MARK: - Watches

    /// Revisions with events in `(after, through]`, to compare with what a watch delivered.
    func eventRevisions(after: Revision, through: Revision) -> [Revision] {
        watchableAt.keys.filter { $0 > after && $0 <= through }.sorted()
    }

    // MARK: - Digests

    static func digest(_ registry: RegistryState) -> UInt64 {
        var hash = Digest()
        do {
            hash.mix(try registry.stateHash().hash)
        } catch {
            preconditionFailure("the current revision's hash cannot be refused: \(error)")
        }
        for lease in registry.leases() {
            hash.mix(lease.id.rawValue)
            hash.mix(UInt64(bitPattern: lease.grantedTTLMilliseconds))
            hash.mix(UInt64(bitPattern: lease.remainingTTLMilliseconds))
            hash.mix(UInt64(lease.keys.count))
        }
        return hash.value
    }

    static func digest(_ events: [RegistryEvent]) -> UInt64 {
        var hash = Digest()
        for event in events {
            hash.mix(UInt64(bitPattern: event.revision.rawValue))
            hash.mix(UInt64(event.kind.rawValue) << 8 | UInt64(event.cause.rawValue))
            hash.mix(event.key)
            hash.mix(event.current?.value ?? [])
            hash.mix(event.current?.lease?.rawValue ?? 0)
        }
        return hash.value
    }
}

/// FNV-1a over 64-bit words and bytes.
struct Digest {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func mix(_ word: UInt64) {
        value = (value ^ word) &* 0x0000_0100_0000_01B3
    }

    mutating func mix(_ bytes: [UInt8]) {
        mix(UInt64(bytes.count))
        for byte in bytes { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
    }
}
