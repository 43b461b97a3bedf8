// MARK: - Linearizable reads (thesis §6.4)

extension RaftNode {
    /// Asks for a linearizable read point. The answer comes back in a later `Ready.readResults`
    /// under `requestID`, which the caller chooses and keeps unique among its pending reads.
    ///
    /// On the leader this costs one heartbeat round shared by every read of the same Ready; on a
    /// follower the leader is asked and the follower then waits to apply up to the returned index.
    public mutating func readIndex(requestID: UInt64) {
        precondition(!isReadyInFlight, "readIndex() between drainReady() and advance(past:)")
        if role == .leader {
            requestReadAsLeader(requestID: requestID, requester: id)
            return
        }
        guard let leader else {
            readResults.append(ReadResult(requestID: requestID, outcome: .failed(.noLeader)))
            return
        }
        guard reads.forwarded.count < options.maxPendingReads else {
            readResults.append(ReadResult(requestID: requestID, outcome: .failed(.tooManyPendingReads)))
            return
        }
        reads.forward(requestID: requestID)
        send(to: leader, .readIndex(requestID: requestID), afterPersist: false)
    }

    mutating func handleForwardedRead(from follower: NodeID, requestID: UInt64) {
        guard role == .leader else {
            send(to: follower, .readIndexResponse(requestID: requestID, index: nil), afterPersist: false)
            return
        }
        requestReadAsLeader(requestID: requestID, requester: follower)
    }

    mutating func resolveForwardedRead(requestID: UInt64, index: LogIndex?) {
        guard reads.resolveForwarded(requestID: requestID) else { return }
        let outcome: ReadResult.Outcome = index.map { .ready(index: $0) } ?? .failed(.leadershipLost)
        readResults.append(ReadResult(requestID: requestID, outcome: outcome))
    }

    mutating func requestReadAsLeader(requestID: UInt64, requester: NodeID) {
        guard reads.leaderLoad < options.maxPendingReads else {
            answerRead(requestID: requestID, requester: requester, index: nil, failure: .tooManyPendingReads)
            return
        }
        guard hasCommittedInCurrentTerm else {
            reads.wait(requestID: requestID, requester: requester)
            return
        }
        reads.enqueue(requestID: requestID, requester: requester, index: log.commitIndex)
        if configuration.voters == [id] {
            for read in reads.confirmAll() { answerRead(requestID: read.requestID, requester: read.requester, index: read.index) }
        }
    }

    mutating func releaseReadsWaitingForCommit() {
        for read in reads.takeWaiting() {
            requestReadAsLeader(requestID: read.requestID, requester: read.requester)
        }
    }

    mutating func confirmReads(ackedBy voter: NodeID, round: UInt64) {
        let confirmed = reads.acknowledge(
            voter: voter, round: round, voters: configuration.voters, leader: id, quorum: configuration.quorum)
        for read in confirmed {
            answerRead(requestID: read.requestID, requester: read.requester, index: read.index)
        }
    }

    mutating func answerRead(requestID: UInt64, requester: NodeID, index: LogIndex?, failure: ReadFailure = .leadershipLost) {
        if requester == id {
            let outcome: ReadResult.Outcome = index.map { .ready(index: $0) } ?? .failed(failure)
            readResults.append(ReadResult(requestID: requestID, outcome: outcome))
        } else {
            send(to: requester, .readIndexResponse(requestID: requestID, index: index), afterPersist: false)
        }
    }
}
