// MARK: - Replication (Raft §5.3, §5.4; thesis §10.2.1)

extension RaftNode {
    /// Appends an entry to the leader's own log; followers get it at the next broadcast.
    mutating func appendAsLeader(_ payload: EntryPayload) {
        precondition(role == .leader, "append as \(role)")
        let entry = Entry(term: term, index: log.lastIndex.next, payload: payload)
        log.append(entry)
        uncommittedBytes += entry.sizeBytes
        needsBroadcast = true
        // A lone voter commits as soon as the entry is durable, in `advance(past:)`.
    }

    mutating func broadcastAppend() {
        let carriesCommit = needsCommitBroadcast
        needsBroadcast = false
        needsCommitBroadcast = false
        for member in progress.keys.sorted() {
            sendAppends(to: member, evenIfEmpty: carriesCommit)
        }
    }

    mutating func broadcastHeartbeat() {
        let round = reads.closeRound()
        for member in progress.keys.sorted() {
            let match = progress[member]!.matchIndex
            // Never tell a follower to commit beyond what we know it holds.
            send(to: member, .heartbeat(commit: min(match, log.commitIndex), readRound: round), afterPersist: false)
        }
    }

    /// The shell (re)connected to `peer`. A leader heartbeats it now instead of at its next tick, so a
    /// restarted follower learns who leads (and can serve) without waiting up to a heartbeat interval.
    ///
    /// Safe for ReadIndex: the heartbeat carries the last *closed* read round, whose reads all arrived
    /// before this heartbeat was sent, so an answer to it confirms leadership after each of them; reads
    /// of the round still open wait for the next regular heartbeat. Like every heartbeat, it tells the
    /// follower to commit no further than the leader knows it holds.
    public mutating func peerConnected(_ peer: NodeID) {
        precondition(!isReadyInFlight, "peerConnected() between drainReady() and advance(past:)")
        guard role == .leader, peer != id, let state = progress[peer] else { return }
        let round = reads.isRoundOpen ? reads.latestRound - 1 : reads.latestRound
        send(to: peer, .heartbeat(commit: min(state.matchIndex, log.commitIndex), readRound: round), afterPersist: false)
    }

    /// Sends as many appends as the follower's progress allows (one when probing, a pipeline when
    /// replicating), or the snapshot if the entries it needs are compacted away.
    mutating func sendAppends(to member: NodeID, evenIfEmpty: Bool = false) {
        var sentOne = false
        while var state = progress[member], state.canSendAppend(options: options) {
            let prevIndex = state.nextIndex.previous
            guard let prevTerm = log.term(at: prevIndex) else {
                startSnapshot(to: member)
                return
            }
            let batch = log.entries(
                from: state.nextIndex, through: log.lastIndex,
                maxCount: options.maxEntriesPerAppend, maxBytes: options.maxBytesPerAppend)
            if batch.isEmpty && (sentOne || !(evenIfEmpty || state.state == .probe)) { return }
            let append = AppendEntries(prevLogIndex: prevIndex, prevLogTerm: prevTerm, entries: batch, commit: log.commitIndex)
            send(to: member, .append(append), afterPersist: false)
            state.sent(lastIndex: batch.last?.index ?? prevIndex, bytes: batch.reduce(0) { $0 + $1.sizeBytes })
            progress[member] = state
            sentOne = true
            if batch.isEmpty { return }
        }
    }

    mutating func handleAppend(from sender: NodeID, _ append: AppendEntries) {
        if isJoining {
            // A joining node knows no configuration yet; only the leader's snapshot carries one.
            send(to: sender, .appendResponse(.needsSnapshot), afterPersist: true)
            return
        }
        if append.prevLogIndex < log.commitIndex {
            send(to: sender, .appendResponse(.accepted(matchIndex: log.commitIndex)), afterPersist: true)
            return
        }
        guard log.matches(index: append.prevLogIndex, term: append.prevLogTerm) else {
            let (hintIndex, hintTerm) = log.conflictHint(atOrBelow: append.prevLogIndex, term: append.prevLogTerm)
            let rejection = AppendResponse.rejected(rejectedIndex: append.prevLogIndex, hintIndex: hintIndex, hintTerm: hintTerm)
            send(to: sender, .appendResponse(rejection), afterPersist: true)
            return
        }
        let lastNew = log.appendFromLeader(after: append.prevLogIndex, append.entries)
        commit(to: min(append.commit, lastNew))
        send(to: sender, .appendResponse(.accepted(matchIndex: lastNew)), afterPersist: true)
    }

    mutating func handleHeartbeat(from sender: NodeID, commit leaderCommit: LogIndex, readRound: UInt64) {
        commit(to: min(leaderCommit, log.lastIndex))
        send(to: sender, .heartbeatResponse(readRound: readRound), afterPersist: true)
    }

    mutating func handleAppendResponse(from member: NodeID, _ response: AppendResponse) {
        guard var state = progress[member] else { return }
        state.ticksSinceContact = 0
        switch response {
        case .accepted(let matchIndex):
            let advanced = state.acknowledge(matchIndex)
            switch state.state {
            case .probe:
                if advanced { state.becomeReplicate() } else { state.isPaused = false }
            case .snapshot(let index, _) where state.matchIndex >= index:
                state.becomeProbe()
            case .snapshot, .replicate:
                break
            }
            progress[member] = state
            if advanced {
                // Followers apply (and serve watches) only once they learn the commit index: tell
                // them now, with an empty append if need be, not at the next heartbeat.
                if maybeCommit() { needsCommitBroadcast = true }
                if let pending = transfer, pending.target == member, matchIndex == log.lastIndex {
                    send(to: member, .timeoutNow, afterPersist: false)
                }
            }
            sendAppends(to: member)
        case .rejected(let rejectedIndex, let hintIndex, let hintTerm):
            let isStale: Bool
            switch state.state {
            case .replicate: isStale = rejectedIndex <= state.matchIndex
            case .probe: isStale = rejectedIndex != state.nextIndex.previous
            case .snapshot: isStale = true
            }
            guard !isStale else {
                progress[member] = state
                return
            }
            let (leaderIndex, _) = log.conflictHint(atOrBelow: hintIndex, term: hintTerm)
            state.becomeProbe()
            state.nextIndex = max(min(leaderIndex.next, rejectedIndex), state.matchIndex.next)
            progress[member] = state
            sendAppends(to: member)
        case .needsSnapshot:
            progress[member] = state
            startSnapshot(to: member)
        }
    }

    mutating func handleHeartbeatResponse(from member: NodeID, readRound: UInt64) {
        guard var state = progress[member] else { return }
        state.ticksSinceContact = 0
        state.isPaused = false
        if state.state == .replicate && state.matchIndex < log.lastIndex && state.matchIndex == state.matchAtLastHeartbeat {
            state.becomeProbe()
        }
        state.matchAtLastHeartbeat = state.matchIndex
        progress[member] = state
        if case .snapshot = state.state {
            resendSnapshotIfStalled(to: member)
        } else if state.matchIndex < log.lastIndex {
            sendAppends(to: member, evenIfEmpty: state.state == .probe)
        }
        if configuration.isVoter(member) {
            confirmReads(ackedBy: member, round: readRound)
        }
    }

    /// Advances the commit index to the highest index a quorum of voters holds, provided that entry
    /// is of the current term (§5.4.2: older entries commit only through it). Returns whether it moved.
    @discardableResult
    mutating func maybeCommit() -> Bool {
        guard role == .leader else { return false }
        var matches = configuration.voters.map { voter in
            voter == id ? log.stableIndex : (progress[voter]?.matchIndex ?? .zero)
        }
        guard !matches.isEmpty else { return false }
        matches.sort(by: >)
        let quorumIndex = matches[configuration.quorum - 1]
        guard quorumIndex > log.commitIndex else { return false }
        let countsOlderTerms = options.faults.contains(.commitPreviousTermByCounting)
        guard countsOlderTerms || log.term(at: quorumIndex) == term else { return false }
        commit(to: quorumIndex)
        return true
    }

    /// Moves the commit index forward on any role and applies what follows from it: configuration
    /// changes take effect, and a leader releases reads and its uncommitted-bytes budget.
    mutating func commit(to index: LogIndex) {
        let old = log.commitIndex
        guard index > old else { return }
        log.commit(to: index)
        var index = old.next
        while index <= log.commitIndex {
            let entry = log.entry(at: index)
            if role == .leader { uncommittedBytes -= entry.sizeBytes }
            if case .membership(let change) = entry.payload { applyMembership(change, at: index) }
            index = index.next
        }
        if role == .leader {
            uncommittedBytes = max(uncommittedBytes, 0)
            if hasCommittedInCurrentTerm { releaseReadsWaitingForCommit() }
        }
    }

    var hasCommittedInCurrentTerm: Bool {
        log.term(at: log.commitIndex) == term
    }
}
