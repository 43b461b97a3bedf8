// MARK: - Election (Raft §5.2, thesis §9.6 Pre-Vote, §6.2 CheckQuorum, §3.10 leadership transfer)

extension RaftNode {
    enum CampaignKind {
        /// Ask first whether an election could be won, without bumping the term.
        case preVote
        case election
        /// Asked by the leader through TimeoutNow: skips Pre-Vote and passes leader stickiness.
        case transfer
    }

    /// Restarts the election timer. A follower of a known leader waits the election timeout plus its rank
    /// among the other voters, in ticks: when the leader goes silent (frozen, partitioned), the followers
    /// heard it last at about the same moment, so the first in ID order campaigns one timeout later and
    /// wins before the next one's tick, instead of both drawing a random delay of up to another whole
    /// timeout. Everyone else (a node with no leader, after a failed campaign, at start) draws a random
    /// delay in [timeout, 2 × timeout), which breaks the ties a fixed order cannot. Timing only: Pre-Vote,
    /// leader stickiness and CheckQuorum decide who may win, as before.
    mutating func resetElectionTimer() {
        electionElapsed = 0
        let timeout = options.electionTimeoutTicks
        if role == .follower, let leader, configuration.isVoter(id) {
            let rank = configuration.voters.filter { $0 != leader }.firstIndex(of: id) ?? 0
            randomizedElectionTimeout = timeout + min(rank, timeout - 1)
        } else {
            randomizedElectionTimeout = timeout + Int(random.next() % UInt64(timeout))
        }
    }

    mutating func tickElection() {
        electionElapsed += 1
        reads.ageForwardedReads(limit: 2 * options.electionTimeoutTicks, into: &readResults)
        guard configuration.isVoter(id) else { return }
        if electionElapsed >= randomizedElectionTimeout {
            campaign(options.preVote ? .preVote : .election)
        }
    }

    mutating func tickLeader() {
        heartbeatElapsed += 1
        electionElapsed += 1
        for member in progress.keys.sorted() { progress[member]!.ticksSinceContact += 1 }
        if electionElapsed >= options.electionTimeoutTicks {
            electionElapsed = 0
            if options.checkQuorum && reachableVoters(in: configuration) < configuration.quorum {
                becomeFollower(term: term, leader: nil)
                return
            }
        }
        if let pending = transfer {
            if pending.elapsedTicks + 1 >= options.electionTimeoutTicks {
                transfer = nil  // The target did not take over in time; keep leading.
            } else {
                transfer = (pending.target, pending.elapsedTicks + 1)
            }
        }
        if heartbeatElapsed >= options.heartbeatTicks {
            heartbeatElapsed = 0
            broadcastHeartbeat()
        }
    }

    /// Voters of `configuration` this leader has heard from within an election timeout, itself included.
    func reachableVoters(in configuration: Configuration) -> Int {
        configuration.voters.filter { voter in
            voter == id || (progress[voter].map { $0.ticksSinceContact < options.electionTimeoutTicks } ?? false)
        }.count
    }

    mutating func campaign(_ kind: CampaignKind) {
        let campaignTerm: Term
        switch kind {
        case .preVote:
            becomePreCandidate()
            campaignTerm = term.next
        case .election, .transfer:
            becomeCandidate()
            campaignTerm = term
        }
        if tallyVote(from: id, granted: true) { return }
        for voter in configuration.voters where voter != id {
            let body: MessageBody =
                kind == .preVote
                ? .preVote(lastLogIndex: log.lastIndex, lastLogTerm: log.lastTerm)
                : .vote(lastLogIndex: log.lastIndex, lastLogTerm: log.lastTerm, isLeadershipTransfer: kind == .transfer)
            // Vote requests leave only after our own vote is durable.
            send(to: voter, body, afterPersist: true, term: campaignTerm)
        }
    }

    mutating func handlePreVote(_ message: Message, lastIndex: LogIndex, lastTerm: Term) {
        let upToDate = options.faults.contains(.skipLogUpToDateCheck) || log.isUpToDate(lastIndex: lastIndex, lastTerm: lastTerm)
        let granted = message.term > term && !isInLeaderLease && upToDate
        send(to: message.from, .preVoteResponse(granted: granted), afterPersist: true, term: granted ? message.term : term)
    }

    mutating func handleVote(_ message: Message, lastIndex: LogIndex, lastTerm: Term) {
        let upToDate = options.faults.contains(.skipLogUpToDateCheck) || log.isUpToDate(lastIndex: lastIndex, lastTerm: lastTerm)
        let canVote = vote == message.from || (vote == nil && leader == nil)
        let granted = canVote && upToDate
        if granted {
            vote = message.from
            electionElapsed = 0
        }
        let early = options.faults.contains(.voteBeforePersisting)
        send(to: message.from, .voteResponse(granted: granted), afterPersist: !early)
    }

    /// Counts a (pre)vote; returns true if the count decided the election.
    @discardableResult
    mutating func tallyVote(from voter: NodeID, granted: Bool) -> Bool {
        guard configuration.isVoter(voter) else { return false }
        votesReceived[voter] = granted
        let grants = votesReceived.values.filter { $0 }.count
        let rejections = votesReceived.count - grants
        if grants >= configuration.quorum {
            if role == .preCandidate {
                campaign(.election)
            } else {
                becomeLeader()
            }
            return true
        }
        if rejections >= configuration.quorum {
            becomeFollower(term: term, leader: nil)
            return true
        }
        return false
    }

    // MARK: - Role changes

    mutating func becomeFollower(term newTerm: Term, leader newLeader: NodeID?) {
        precondition(newTerm >= term, "term going back from \(term) to \(newTerm)")
        let wasLeader = role == .leader
        let termChanged = newTerm > term
        if termChanged {
            term = newTerm
            vote = nil
        }
        if wasLeader || termChanged || newLeader != leader {
            for (follower, requestID) in reads.failAll(localNode: id, into: &readResults) {
                send(to: follower, .readIndexResponse(requestID: requestID, index: nil), afterPersist: false)
            }
        }
        role = .follower
        leader = newLeader
        resetLeaderState()
        resetElectionTimer()
    }

    mutating func becomePreCandidate() {
        precondition(role != .leader, "leader cannot become pre-candidate")
        role = .preCandidate
        leader = nil
        votesReceived = [:]
        _ = reads.failAll(localNode: id, into: &readResults)
        resetElectionTimer()
    }

    mutating func becomeCandidate() {
        precondition(role != .leader, "leader cannot become candidate")
        term = term.next
        vote = id
        role = .candidate
        leader = nil
        votesReceived = [:]
        _ = reads.failAll(localNode: id, into: &readResults)
        resetElectionTimer()
    }

    mutating func becomeLeader() {
        precondition(role == .candidate, "only a candidate becomes leader, not a \(role)")
        role = .leader
        leader = id
        resetLeaderState()
        heartbeatElapsed = 0
        electionElapsed = 0
        for member in configuration.members where member != id {
            progress[member] = Progress(matchIndex: .zero, nextIndex: log.lastIndex.next)
        }
        // A change left uncommitted by an earlier leader may still be in the log: wait for it.
        pendingMembershipIndex = log.lastIndex
        // The no-op lets this leader commit earlier terms' entries (§5.4.2) and serve reads (§6.4).
        appendAsLeader(.noop)
    }

    mutating func resetLeaderState() {
        progress = [:]
        transfer = nil
        uncommittedBytes = 0
        needsBroadcast = false
        needsCommitBroadcast = false
        votesReceived = [:]
        reads.resetLeaderState()
    }
}

// MARK: - Failure hints from the shell

extension RaftNode {
    /// The shell saw the connection to `peer` break (the process died or the network dropped it).
    ///
    /// If `peer` is our leader, we stop honouring its lease and campaign within a few ticks instead
    /// of waiting a whole election timeout. This is safe: the campaign starts with Pre-Vote, which
    /// every voter that still hears from a live leader refuses, so a false alarm costs a few messages
    /// and never a term.
    ///
    /// Every follower sees the close at about the same time, so they campaign one tick apart in ID
    /// order: the first is elected before the next one's tick, where a random pick among a few
    /// ticks let two campaign together, split the vote and wait a whole randomized timeout.
    public mutating func suspectLeaderFailure(_ peer: NodeID) {
        precondition(!isReadyInFlight, "suspectLeaderFailure() between drainReady() and advance(past:)")
        guard role == .follower, leader == peer, options.preVote, configuration.isVoter(id) else { return }
        let rank = configuration.voters.filter { $0 != peer }.firstIndex(of: id) ?? 0
        electionElapsed = max(electionElapsed, options.electionTimeoutTicks)
        randomizedElectionTimeout = electionElapsed + 1 + rank
    }

    /// The voter whose log matches the leader's furthest (ties broken by lowest ID), to hand
    /// leadership to on shutdown; nil unless this node leads and has another voter.
    public var mostUpToDateVoter: NodeID? {
        guard role == .leader else { return nil }
        return configuration.voters.filter { $0 != id }.max { lhs, rhs in
            let left = progress[lhs]?.matchIndex ?? .zero
            let right = progress[rhs]?.matchIndex ?? .zero
            return left == right ? lhs > rhs : left < right
        }
    }
}
