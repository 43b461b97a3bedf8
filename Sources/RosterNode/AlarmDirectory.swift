import Registry

/// Alarms raised by members, replicated in the registry's own key space under a reserved prefix (as the
/// member directory is), so every member knows them, they survive restarts and snapshots, and a new leader
/// enforces them at once.
///
/// The only alarm is NOSPACE (etcd's): a member found its data directory over `--quota-bytes` or its disk
/// below the free-space floor. While any member has it, writes that add data are refused with
/// `NodeFailure.noSpace`; reads, watches, keepalives, deletes, lease revocation and compaction go on, so an
/// operator can make room, then disarm (`DELETE /v1/alarms`, `rosterctl alarm disarm`).
///
/// Queryable through the ordinary registry query `AlarmDirectory.query` (a range over the prefix), read with
/// `alarms(from:)`, e.g. for etcd's Maintenance.Alarm.
public enum AlarmDirectory {
    /// A prefix no client key can have: client writes to keys starting with 0x01 are refused by the API.
    public static let prefix: [UInt8] = [0x01] + Array("roster/alarms/".utf8)
    /// The value of a NOSPACE alarm record.
    public static let noSpace = "NOSPACE"

    /// One raised alarm.
    public struct Alarm: Hashable, Sendable {
        /// The member that raised it.
        public var member: String
        /// "NOSPACE".
        public var kind: String
    }

    /// The reason a leader gives a follower for a forwarded write it refused under NOSPACE (the follower had
    /// not applied the alarm yet); the follower answers its client with `NodeFailure.noSpace`.
    static let refusalReason = "NOSPACE alarm raised"

    public static func key(member: String) -> [UInt8] { prefix + Array(member.utf8) }

    /// The write that raises NOSPACE for `member`.
    public static func raiseNoSpace(member: String) -> RegistryCommand {
        .put(PutRequest(key: key(member: member), value: Array(noSpace.utf8)))
    }

    /// The write that clears every alarm.
    public static let disarmAll = RegistryCommand.deleteRange(DeleteRangeRequest(.prefix(prefix)))

    /// The registry query that reads every alarm (serve it as any read; decode with `alarms(from:)`).
    public static let query = RegistryQuery.range(RangeRequest(.prefix(prefix)))

    public static func alarms(from result: RangeResult) -> [Alarm] {
        result.keyValues.compactMap { record in
            guard record.key.starts(with: prefix) else { return nil }
            return Alarm(
                member: String(decoding: record.key.dropFirst(prefix.count), as: UTF8.self),
                kind: String(decoding: record.value, as: UTF8.self))
        }
    }

    /// The alarms in force in `registry`, sorted by member.
    /// - Complexity: O(log n + alarms).
    public static func alarms(in registry: RegistryState) -> [Alarm] {
        do {
            return alarms(from: try registry.range(RangeRequest(.prefix(prefix))))
        } catch {
            preconditionFailure("a prefix range without limit cannot be refused: \(error)")
        }
    }

    /// The members with a NOSPACE alarm when `command` must be refused because of it, else nil.
    static func membersRefusing(_ command: RegistryCommand, registry: RegistryState) -> [String]? {
        guard !isAllowedWithoutSpace(command) else { return nil }
        let raised = alarms(in: registry).filter { $0.kind == noSpace }.map(\.member)
        return raised.isEmpty ? nil : raised
    }

    /// Whether a command may apply while NOSPACE is raised: those that only remove data or keep leases
    /// going, and the alarm records themselves. A transaction may only if none of its branches puts.
    public static func isAllowedWithoutSpace(_ command: RegistryCommand) -> Bool {
        switch command {
        case .put(let put): return put.key.starts(with: prefix)
        case .deleteRange, .revokeLease, .checkpointLeases, .elapseLeases, .expireLeases, .deregisterInstance, .compact, .auth: return true
        case .transaction(let transaction):
            return !puts(transaction)
        case .grantLease, .registerInstance, .updateInstance: return false
        case .authChecked(_, let command): return isAllowedWithoutSpace(command)
        }
    }

    /// Whether any branch of the transaction, or of a transaction nested in it, puts a key.
    static func puts(_ transaction: TransactionRequest) -> Bool {
        (transaction.success + transaction.failure).contains { operation in
            switch operation {
            case .put: true
            case .transaction(let nested): puts(nested)
            case .range, .deleteRange: false
            }
        }
    }
}

extension NodeDriver {
    /// The members whose NOSPACE alarm refuses `command` here (from this node's applied state), else nil.
    func membersOutOfSpace(for command: RegistryCommand) -> [String]? {
        AlarmDirectory.membersRefusing(command, registry: registry)
    }
}
