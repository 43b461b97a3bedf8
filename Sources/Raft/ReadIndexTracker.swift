/// Bookkeeping for linearizable reads without log writes (thesis §6.4).
///
/// Leader side: a read records the commit index when it arrives and the number of the next
/// heartbeat round; once a quorum of voters has answered a round at least that new, nobody else can
/// have been leader meanwhile, so the recorded index is safe to read at. Reads that arrive before the
/// leader committed an entry of its own term wait, because until then its commit index may lag
/// entries that an earlier leader already acknowledged.
///
/// Follower side: a read is forwarded to the leader and waits for its answer, with an age limit so a
/// lost message cannot strand it.
struct ReadIndexTracker: Sendable {
    struct PendingRead: Sendable {
        var requestID: UInt64
        /// Who asked: this node, or a follower that forwarded the read.
        var requester: NodeID
        var index: LogIndex
        var round: UInt64
    }

    private(set) var latestRound: UInt64 = 0
    /// A read joined `latestRound` and no heartbeat has carried it yet.
    private(set) var isRoundOpen = false
    private(set) var waitingForCommit: [(requestID: UInt64, requester: NodeID)] = []
    private(set) var pending: [PendingRead] = []
    private var acknowledgedRound: [NodeID: UInt64] = [:]
    private(set) var forwarded: [(requestID: UInt64, ageTicks: Int)] = []

    var leaderLoad: Int { waitingForCommit.count + pending.count }

    mutating func wait(requestID: UInt64, requester: NodeID) {
        waitingForCommit.append((requestID, requester))
    }

    mutating func takeWaiting() -> [(requestID: UInt64, requester: NodeID)] {
        defer { waitingForCommit.removeAll() }
        return waitingForCommit
    }

    /// Adds a read at `index` to the open round, opening one if needed.
    mutating func enqueue(requestID: UInt64, requester: NodeID, index: LogIndex) {
        if !isRoundOpen {
            latestRound += 1
            isRoundOpen = true
        }
        pending.append(PendingRead(requestID: requestID, requester: requester, index: index, round: latestRound))
    }

    /// The round number the next heartbeat carries.
    mutating func closeRound() -> UInt64 {
        isRoundOpen = false
        return latestRound
    }

    /// Records a voter's answer and returns the reads now confirmed by `quorum` voters, counting the
    /// leader itself.
    mutating func acknowledge(voter: NodeID, round: UInt64, voters: [NodeID], leader: NodeID, quorum: Int) -> [PendingRead] {
        acknowledgedRound[voter] = max(acknowledgedRound[voter] ?? 0, round)
        var confirmed: [PendingRead] = []
        while let oldest = pending.first {
            let acks = voters.filter { $0 == leader || (acknowledgedRound[$0] ?? 0) >= oldest.round }.count
            guard acks >= quorum else { break }
            confirmed.append(pending.removeFirst())
        }
        return confirmed
    }

    /// Confirms every pending read at once; for a lone voter, whose own word is a quorum.
    mutating func confirmAll() -> [PendingRead] {
        defer { pending.removeAll() }
        return pending
    }

    mutating func forward(requestID: UInt64) {
        forwarded.append((requestID, 0))
    }

    /// Removes a forwarded read; returns whether it was still waiting.
    mutating func resolveForwarded(requestID: UInt64) -> Bool {
        guard let position = forwarded.firstIndex(where: { $0.requestID == requestID }) else { return false }
        forwarded.remove(at: position)
        return true
    }

    mutating func ageForwardedReads(limit: Int, into results: inout [ReadResult]) {
        guard !forwarded.isEmpty else { return }
        for position in forwarded.indices { forwarded[position].ageTicks += 1 }
        for expired in forwarded where expired.ageTicks > limit {
            results.append(ReadResult(requestID: expired.requestID, outcome: .failed(.timedOut)))
        }
        forwarded.removeAll { $0.ageTicks > limit }
    }

    /// Fails every read: leadership (or the leader a follower forwarded to) changed. Reads this
    /// node asked for become results; the reads forwarded by followers are returned, to be refused.
    mutating func failAll(localNode: NodeID, into results: inout [ReadResult]) -> [(follower: NodeID, requestID: UInt64)] {
        var remote: [(follower: NodeID, requestID: UInt64)] = []
        let leaderSide = pending.map { ($0.requestID, $0.requester) } + waitingForCommit.map { ($0.requestID, $0.requester) }
        for (requestID, requester) in leaderSide {
            if requester == localNode {
                results.append(ReadResult(requestID: requestID, outcome: .failed(.leadershipLost)))
            } else {
                remote.append((requester, requestID))
            }
        }
        for read in forwarded {
            results.append(ReadResult(requestID: read.requestID, outcome: .failed(.leadershipLost)))
        }
        forwarded.removeAll()
        pending.removeAll()
        waitingForCommit.removeAll()
        return remote
    }

    mutating func resetLeaderState() {
        acknowledgedRound.removeAll()
        isRoundOpen = false
    }
}
