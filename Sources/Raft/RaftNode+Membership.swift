// MARK: - Membership changes (thesis §4) and leadership transfer (thesis §3.10)

extension RaftNode {
    /// Proposes one single-server membership change.
    ///
    /// Refused unless this node leads, has committed an entry of its term, and has no other change
    /// in flight; a removal is refused if the remaining reachable voters could not form a quorum, and
    /// a promotion if the learner has not caught up.
    public mutating func proposeMembershipChange(_ change: MembershipChange) -> MembershipChangeOutcome {
        precondition(!isReadyInFlight, "proposeMembershipChange() between drainReady() and advance(past:)")
        guard role == .leader else { return .notLeader(leader: leader, term: term) }
        guard pendingMembershipIndex <= log.commitIndex else { return .refused(.changeInProgress(index: pendingMembershipIndex)) }
        guard hasCommittedInCurrentTerm else { return .refused(.leaderNotReady) }
        let next: Configuration
        switch configuration.applying(change) {
        case .failure(let rejection): return .refused(.invalid(rejection))
        case .success(let configuration): next = configuration
        }
        if case .promoteLearner(let learner) = change {
            let match = progress[learner]?.matchIndex ?? .zero
            guard match.rawValue + options.maxPromotionLagEntries >= log.lastIndex.rawValue else {
                return .refused(.learnerBehind(node: learner, matchIndex: match, lastIndex: log.lastIndex))
            }
        }
        let reachable = reachableVoters(in: next)
        guard reachable >= next.quorum else { return .refused(.wouldLoseQuorum(reachableVoters: reachable, quorum: next.quorum)) }
        appendAsLeader(.membership(change))
        pendingMembershipIndex = log.lastIndex
        return .accepted(index: log.lastIndex, term: term)
    }

    /// How far the leader knows `member` has replicated its log; nil on a follower or for a non-member.
    public func matchIndex(of member: NodeID) -> LogIndex? {
        guard role == .leader else { return nil }
        return member == id ? log.lastIndex : progress[member]?.matchIndex
    }

    /// Makes a committed change take effect on this node.
    mutating func applyMembership(_ change: MembershipChange, at index: LogIndex) {
        guard case .success(let next) = configuration.applying(change) else { return }
        configuration = next
        configurationHistory.append((index, next))
        guard role == .leader else { return }
        if !next.isVoter(id) {
            // This leader was removed: it tells the others the change committed (so they adopt the
            // new configuration without waiting for a new leader), then stops leading.
            broadcastHeartbeat()
            becomeFollower(term: term, leader: nil)
            return
        }
        for member in next.members where member != id && progress[member] == nil {
            progress[member] = Progress(matchIndex: .zero, nextIndex: log.lastIndex.next)
            needsBroadcast = true
        }
        for member in progress.keys.sorted() where !next.contains(member) {
            progress[member] = nil
        }
        if let pending = transfer, !next.isVoter(pending.target) { transfer = nil }
        maybeCommit()
    }

    /// Hands leadership to `target` (thesis §3.10): proposals stop, the target is brought up to date,
    /// then told to campaign at once. Used for graceful shutdown of a leader.
    public mutating func transferLeadership(to target: NodeID) -> TransferOutcome {
        precondition(!isReadyInFlight, "transferLeadership() between drainReady() and advance(past:)")
        guard role == .leader else { return .notLeader(leader: leader, term: term) }
        guard target != id else { return .refused(.alreadyLeader) }
        guard configuration.isVoter(target) else { return .refused(.notAVoter(target)) }
        if let pending = transfer {
            return pending.target == target ? .started : .refused(.transferInProgress(to: pending.target))
        }
        transfer = (target, 0)
        if progress[target]?.matchIndex == log.lastIndex {
            send(to: target, .timeoutNow, afterPersist: false)
        } else {
            sendAppends(to: target, evenIfEmpty: true)
        }
        return .started
    }

    /// Proposes an application command.
    public mutating func propose(_ command: [UInt8]) -> ProposalOutcome {
        precondition(!isReadyInFlight, "propose() between drainReady() and advance(past:)")
        guard role == .leader else { return .notLeader(leader: leader, term: term) }
        if let pending = transfer { return .refused(.transferInProgress(to: pending.target)) }
        let size = Entry(term: term, index: .zero, payload: .command(command)).sizeBytes
        guard size <= options.maxBytesPerAppend else { return .refused(.tooLarge(bytes: size, limit: options.maxBytesPerAppend)) }
        guard uncommittedBytes + size <= options.maxUncommittedBytes else { return .refused(.uncommittedLimit(bytes: uncommittedBytes)) }
        appendAsLeader(.command(command))
        return .accepted(index: log.lastIndex, term: term)
    }

    /// Asserts the node's invariants (traps naming the first broken one; see `brokenInvariant`).
    public func checkInvariants() {
        log.checkInvariants()
        if let broken = brokenInvariant { preconditionFailure(broken) }
    }

    /// The first of the node's role, progress and term invariants that does not hold, or nil. The
    /// simulator reports it as a violation, with the seed that replays it, instead of trapping: a planted
    /// fault can break them before any cluster-wide check notices.
    public var brokenInvariant: String? {
        switch role {
        case .leader:
            if leader != id { return "leader \(id) believes \(String(describing: leader)) leads" }
            if vote != id { return "leader \(id) did not vote for itself in term \(term)" }
        case .candidate:
            if vote != id { return "candidate \(id) voted for \(String(describing: vote))" }
        case .follower, .preCandidate:
            break
        }
        for (member, state) in progress.sorted(by: { $0.key < $1.key }) {
            if state.matchIndex >= state.nextIndex { return "progress of \(member): match \(state.matchIndex) next \(state.nextIndex)" }
            if state.matchIndex > log.lastIndex { return "progress of \(member): match \(state.matchIndex) beyond \(log.lastIndex)" }
        }
        if lastHardState.term > term { return "persisted term \(lastHardState.term) ahead of \(term)" }
        return nil
    }
}
