// MARK: - Local reads after a restart

/// A hard state that only moves the commit index is written without an fsync, so that a write costs
/// one fsync per node instead of two. After a machine crash the durable commit index can therefore
/// lag what the node applied, and served from memory, before it stopped; rebuilt up to that index, the
/// node would serve older state than it did before. Two bounds cover everything it applied then: the
/// last index of its durable log at boot (applied entries were durable first), and any read index a
/// leader confirms after boot (the leader's commit covers every entry committed before the request).
/// Until the node has applied up to the lower of them, `allowsLocalReads` is false: the shell then
/// confirms reads with the leader instead of answering from its own state, and the node asks for a read
/// index itself on each tick, so the fence lifts within a round trip once a leader is known.
extension RaftNode {
    /// The request ID of the read index a fenced node asks for on its own behalf, for a start of the node with
    /// `randomSeed`: in [2^63, 2^64), which the shell's IDs never reach; its result is consumed here, never
    /// handed to the shell.
    ///
    /// Why it is drawn per start rather than fixed: an answer to the fence read of an earlier start (in flight
    /// when the node crashed) would match this start's fence read and lower the fence to a commit index from
    /// before the crash. The whole-node simulator caught that (seed 1797910000000002336, hostile, with a fixed
    /// ID): a restarted follower took the leader's delayed answer of 6 for its new fence read and allowed local
    /// reads at applied 6, below the 9 it had applied before the crash.
    static func localReadFenceRequestID(randomSeed: UInt64) -> UInt64 {
        var generator = SplitMix64(seed: randomSeed ^ 0xFE4C_E5EE_D000_0002)
        return generator.next() | (1 << 63)
    }

    /// Whether this node's applied state is at least what it applied before its last restart, so
    /// serializable reads may be answered from it.
    public var allowsLocalReads: Bool {
        guard let fence = localReadFence, !options.faults.contains(.localReadsWithoutFence) else { return true }
        return log.appliedIndex >= fence
    }

    static func initialLocalReadFence(lastIndex: LogIndex, commitIndex: LogIndex) -> LogIndex? {
        lastIndex > commitIndex ? lastIndex : nil
    }

    /// Asks for a read index that, once applied, lifts the fence; at most one at a time.
    mutating func requestFenceReadIfNeeded() {
        guard localReadFence != nil, !isFenceReadInFlight, leader != nil else { return }
        isFenceReadInFlight = true
        readIndex(requestID: localReadFenceRequestID)
    }

    /// Lowers the fence to every confirmed read index and removes the node's own fence read from what
    /// goes to the shell.
    mutating func takeReadResultsForShell() -> [ReadResult] {
        guard localReadFence != nil || isFenceReadInFlight else { return readResults }
        var forShell: [ReadResult] = []
        forShell.reserveCapacity(readResults.count)
        for result in readResults {
            if case .ready(let index) = result.outcome, let fence = localReadFence, index < fence {
                localReadFence = index
            }
            if result.requestID == localReadFenceRequestID {
                isFenceReadInFlight = false
            } else {
                forShell.append(result)
            }
        }
        return forShell
    }

    /// Drops the fence once the applied index reaches it, so it never costs anything afterwards.
    mutating func liftLocalReadFenceIfReached() {
        if let fence = localReadFence, log.appliedIndex >= fence { localReadFence = nil }
    }
}
