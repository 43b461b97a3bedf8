import Raft
import Registry

/// The lease grants a leader appended in its current term that have not applied yet, and the IDs they will take.
///
/// Why: a registration with a TTL is a lease grant and a registration under the granted lease. Proposed one after
/// the other, it waits for two commit rounds (two fsyncs on every member); proposed together, the registration must
/// name its lease before the grant applies, so the grant names it too. The name must be one no lease has when the
/// grant applies: not in the applied table, not taken by a grant ahead of it. A grant that names its ID takes
/// exactly that ID; one without takes the first free ID from its own index up when it applies (`applyGrantLease`),
/// which cannot be foreseen, so while such a grant is ahead the leader does not name leases at all.
///
/// Only the leader's own term is tracked: the caller names a lease only once an entry of its term applied
/// (`RaftNode.hasAppliedEntryOfCurrentTerm`), so every unapplied entry is one this node proposed, through
/// `NodeDriver.proposeAsLeader`, which records each grant here.
struct GrantsInFlight {
    private var term: Term?
    /// Appended, unapplied grants in log order; `head` is the first not yet applied.
    private var pending: [(index: LogIndex, lease: LeaseID?)] = []
    private var head = 0
    private var named: [LeaseID: Int] = [:]
    private var unnamed = 0

    var isEmpty: Bool { head == pending.count }

    /// A grant appended at `index` in `term`, naming `lease` (nil: the ID is chosen when it applies).
    mutating func appended(_ lease: LeaseID?, at index: LogIndex, term: Term) {
        if self.term != term { self = GrantsInFlight(term: term) }
        pending.append((index, lease))
        if let lease { named[lease, default: 0] += 1 } else { unnamed += 1 }
    }

    /// Every entry through `index` applied: their grants took their IDs (or failed).
    mutating func applied(through index: LogIndex) {
        while head < pending.count, pending[head].index <= index {
            if let lease = pending[head].lease {
                named[lease, default: 1] -= 1
                if named[lease] == 0 { named[lease] = nil }
            } else {
                unnamed -= 1
            }
            head += 1
        }
        if head == pending.count {
            pending.removeAll(keepingCapacity: true)
            head = 0
        }
    }

    /// Whether a grant appended now in `term` can name `lease` and be sure to take it, as far as the grants in
    /// flight go (the caller checks the applied table).
    func mayName(_ lease: LeaseID, term: Term) -> Bool {
        guard self.term == term else { return true }
        return unnamed == 0 && named[lease] == nil
    }

    private init(term: Term) { self.term = term }
    init() {}
}
