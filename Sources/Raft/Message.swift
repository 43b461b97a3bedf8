/// A message between two Raft nodes. Every message carries the sender's term (§5.1).
public struct Message: Hashable, Sendable, CustomStringConvertible {
    public var from: NodeID
    public var to: NodeID
    public var term: Term
    public var body: MessageBody

    public init(from: NodeID, to: NodeID, term: Term, body: MessageBody) {
        self.from = from
        self.to = to
        self.term = term
        self.body = body
    }

    public var description: String { "\(from)->\(to) t\(term) \(body)" }
}

/// The kinds of Raft message.
public enum MessageBody: Hashable, Sendable, CustomStringConvertible {
    /// Thesis §9.6: "would you vote for me at `term`?"; changes no state on the receiver.
    case preVote(lastLogIndex: LogIndex, lastLogTerm: Term)
    case preVoteResponse(granted: Bool)
    /// RequestVote (§5.2). `isLeadershipTransfer` lets the vote through leader stickiness.
    case vote(lastLogIndex: LogIndex, lastLogTerm: Term, isLeadershipTransfer: Bool)
    case voteResponse(granted: Bool)
    case append(AppendEntries)
    case appendResponse(AppendResponse)
    /// Keeps followers from campaigning, carries the commit index, and confirms leadership for
    /// ReadIndex rounds (thesis §6.4).
    case heartbeat(commit: LogIndex, readRound: UInt64)
    case heartbeatResponse(readRound: UInt64)
    case snapshotChunk(SnapshotChunk)
    case snapshotResponse(SnapshotResponse)
    /// Leadership transfer (thesis §3.10): the receiver campaigns at once.
    case timeoutNow
    /// A follower asks the leader for a read index on behalf of one of its clients.
    case readIndex(requestID: UInt64)
    /// The leader's answer; `nil` when it could not confirm (not leader, or too many pending reads).
    case readIndexResponse(requestID: UInt64, index: LogIndex?)

    public var description: String {
        switch self {
        case .preVote(let index, let term): "PreVote log:\(term)/\(index)"
        case .preVoteResponse(let granted): "PreVoteResp \(granted ? "granted" : "rejected")"
        case .vote(let index, let term, let transfer): "Vote log:\(term)/\(index)\(transfer ? " transfer" : "")"
        case .voteResponse(let granted): "VoteResp \(granted ? "granted" : "rejected")"
        case .append(let append): "\(append)"
        case .appendResponse(let response): "\(response)"
        case .heartbeat(let commit, let round): "Heartbeat commit:\(commit) round:\(round)"
        case .heartbeatResponse(let round): "HeartbeatResp round:\(round)"
        case .snapshotChunk(let chunk): "\(chunk)"
        case .snapshotResponse(let response): "\(response)"
        case .timeoutNow: "TimeoutNow"
        case .readIndex(let id): "ReadIndex #\(id)"
        case .readIndexResponse(let id, let index): "ReadIndexResp #\(id) \(index.map { "\($0)" } ?? "rejected")"
        }
    }
}

/// AppendEntries (§5.3): entries to place after `(prevLogIndex, prevLogTerm)`.
public struct AppendEntries: Hashable, Sendable, CustomStringConvertible {
    public var prevLogIndex: LogIndex
    public var prevLogTerm: Term
    public var entries: [Entry]
    public var commit: LogIndex

    public init(prevLogIndex: LogIndex, prevLogTerm: Term, entries: [Entry], commit: LogIndex) {
        self.prevLogIndex = prevLogIndex
        self.prevLogTerm = prevLogTerm
        self.entries = entries
        self.commit = commit
    }

    public var description: String {
        "App prev:\(prevLogTerm)/\(prevLogIndex) n:\(entries.count) commit:\(commit)"
    }
}

/// The answer to AppendEntries.
public enum AppendResponse: Hashable, Sendable, CustomStringConvertible {
    /// The follower's log matches the leader's through `matchIndex`.
    case accepted(matchIndex: LogIndex)
    /// The follower has no entry matching `(rejectedIndex, …)`. The hint is the follower's last entry
    /// at or below `rejectedIndex` whose term is at most the leader's `prevLogTerm`, so the leader can
    /// skip a whole conflicting term in one round trip (§5.3 optimization).
    case rejected(rejectedIndex: LogIndex, hintIndex: LogIndex, hintTerm: Term)
    /// The follower has no configuration yet (it is joining) and needs the leader's snapshot first.
    case needsSnapshot

    public var description: String {
        switch self {
        case .accepted(let match): "AppResp ok match:\(match)"
        case .rejected(let index, let hintIndex, let hintTerm): "AppResp reject:\(index) hint:\(hintTerm)/\(hintIndex)"
        case .needsSnapshot: "AppResp needs-snapshot"
        }
    }
}

/// One piece of an InstallSnapshot transfer (thesis §5.2), bounded by `RaftOptions.snapshotChunkBytes`.
public struct SnapshotChunk: Hashable, Sendable, CustomStringConvertible {
    public var metadata: SnapshotMetadata
    public var totalBytes: UInt64
    public var offset: UInt64
    public var data: [UInt8]

    public init(metadata: SnapshotMetadata, totalBytes: UInt64, offset: UInt64, data: [UInt8]) {
        self.metadata = metadata
        self.totalBytes = totalBytes
        self.offset = offset
        self.data = data
    }

    public var isLast: Bool { offset + UInt64(data.count) == totalBytes }
    public var description: String { "Snap \(metadata.index)@\(metadata.term) [\(offset)+\(data.count)/\(totalBytes)]" }
}

/// The answer to a snapshot chunk: where the follower wants the transfer to continue.
public struct SnapshotResponse: Hashable, Sendable, CustomStringConvertible {
    public var snapshotIndex: LogIndex
    /// The next byte offset the follower expects; equals the total size once installed.
    public var nextOffset: UInt64
    /// The snapshot is installed (or was not needed) and the follower's log now matches through
    /// `snapshotIndex`.
    public var isComplete: Bool

    public init(snapshotIndex: LogIndex, nextOffset: UInt64, isComplete: Bool) {
        self.snapshotIndex = snapshotIndex
        self.nextOffset = nextOffset
        self.isComplete = isComplete
    }

    public var description: String { "SnapResp \(snapshotIndex) next:\(nextOffset)\(isComplete ? " done" : "")" }
}
