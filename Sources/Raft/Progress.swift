/// The leader's view of one follower's replication (etcd's `tracker.Progress`).
///
/// Invariant: `matchIndex < nextIndex`.
struct Progress: Sendable {
    enum State: Hashable, Sendable {
        /// The leader does not know where the follower's log diverges: one AppendEntries at a time.
        case probe
        /// The follower is in sync: appends are pipelined, up to the inflight bounds.
        case replicate
        /// The follower is receiving a snapshot; `nextOffset` is how far it acknowledged receiving it.
        case snapshot(index: LogIndex, nextOffset: UInt64)
    }

    var matchIndex: LogIndex
    var nextIndex: LogIndex
    var state: State = .probe
    /// In probe state: an append is outstanding, so wait for its answer or a heartbeat response.
    var isPaused = false
    /// Leader ticks since the follower last answered; CheckQuorum and the membership quorum check
    /// treat a follower as reachable while this is below the election timeout.
    var ticksSinceContact = 0
    /// `matchIndex` when the previous heartbeat answer came. A replicating follower whose match did
    /// not move across a whole heartbeat interval lost appends in flight: probe again.
    var matchAtLastHeartbeat: LogIndex = .zero
    /// In snapshot state: the end of the chunks sent so far (chunks past `nextOffset` are in flight), nil when
    /// the next chunk to send is the one at `nextOffset`; and `nextOffset` when the previous heartbeat answer came
    /// (a transfer that did not move across a whole heartbeat interval lost a chunk: send again from `nextOffset`),
    /// nil before the first.
    var snapshotSentOffset: UInt64?
    var snapshotOffsetAtLastHeartbeat: UInt64?
    /// Last index and size of each pipelined append not yet acknowledged, oldest first.
    var inflight: [(lastIndex: LogIndex, bytes: Int)] = []
    var inflightBytes = 0

    init(matchIndex: LogIndex, nextIndex: LogIndex) {
        self.matchIndex = matchIndex
        self.nextIndex = nextIndex
    }

    mutating func becomeProbe() {
        state = .probe
        isPaused = false
        nextIndex = matchIndex.next
        clearInflight()
    }

    mutating func becomeReplicate() {
        state = .replicate
        isPaused = false
        nextIndex = matchIndex.next
        clearInflight()
    }

    mutating func becomeSnapshot(index: LogIndex) {
        state = .snapshot(index: index, nextOffset: 0)
        snapshotSentOffset = nil
        snapshotOffsetAtLastHeartbeat = nil
        clearInflight()
    }

    private mutating func clearInflight() {
        inflight.removeAll()
        inflightBytes = 0
    }

    /// Records an acknowledgement; returns false if it was stale.
    mutating func acknowledge(_ index: LogIndex) -> Bool {
        guard index > matchIndex else {
            return false
        }
        matchIndex = index
        nextIndex = max(nextIndex, index.next)
        while let oldest = inflight.first, oldest.lastIndex <= index {
            inflightBytes -= oldest.bytes
            inflight.removeFirst()
        }
        return true
    }

    mutating func sent(lastIndex: LogIndex, bytes: Int) {
        switch state {
        case .replicate:
            // An empty append (carrying only the commit index) occupies no window slot.
            guard lastIndex >= nextIndex else { return }
            nextIndex = lastIndex.next
            inflight.append((lastIndex, bytes))
            inflightBytes += bytes
        case .probe:
            isPaused = true
        case .snapshot:
            preconditionFailure("append sent to a follower receiving a snapshot")
        }
    }

    func canSendAppend(options: RaftOptions) -> Bool {
        switch state {
        case .probe: !isPaused
        case .replicate: inflight.count < options.maxInflightAppends && inflightBytes < options.maxInflightBytes
        case .snapshot: false
        }
    }
}
