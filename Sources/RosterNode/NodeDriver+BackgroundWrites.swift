import Raft

/// A Ready handed to the environment to write in the background, until the environment reports it durable.
struct BackgroundWrite {
    var ticket: UInt64
    /// The last entry it writes, which the node counts as durable once the write is.
    var lastEntry: (index: LogIndex, term: Term)?
    /// Votes and acknowledgements that promise what this write (and those before it) makes durable.
    var messagesAfterPersist: [Message]
}

// MARK: - Writing Readies in the background

/// Why: on a 3-member cluster of this project's benchmark machine, each member's loop spent 44–51 % of its time
/// blocked in fsync with 16 clients writing through every member (2026-12-06, `roster_fsync_seconds`): requests,
/// forwards and acknowledgements waited meanwhile, so each fsync carried few writes. Written in the background,
/// the loop keeps taking them while the disk syncs, and the next write carries everything that came meanwhile
/// (Raft's asynchronous storage writes; thesis §10.2.1 for the leader).
extension NodeDriver {
    /// Whether the next Ready is written in the background: behind a write still under way (the loop should not
    /// wait for both), or while more than one client waits on this node and there are followers to overlap with.
    ///
    /// Written in place, a Ready skips two hand-offs between threads (to the writer and back), and a lone client's
    /// write has nothing to overlap with: with every Ready in the background, registrations at one client fell 24 %
    /// (2026-12-06, `scripts/bench --quick --baseline-bin`, 3-member clusters on 2 cores) while they rose 11–15 % at
    /// 16. A follower serving no clients writes in place too: its loop has nothing else to do meanwhile, and its
    /// acknowledgement leaves sooner. A lone voter has nothing to overlap its own write with (measured: no gain at
    /// 16 clients either).
    mutating func persistsNextReadyInBackground() -> Bool {
        if !backgroundWrites.isEmpty { return true }
        return raft.configuration.voters.count > 1 && openRequests.count > 1 && environment.persistsInBackground
    }

    /// Step 2 of a Ready written in the background: its votes and acknowledgements wait for the write, or for the
    /// one in flight if it writes nothing itself (what they promise may be in that one).
    mutating func persistInBackground(_ ready: Ready) {
        guard ready.hardState != nil || !ready.entriesToAppend.isEmpty else {
            if backgroundWrites.isEmpty {
                effects.messages += ready.messagesAfterPersist
            } else {
                backgroundWrites[backgroundWrites.count - 1].messagesAfterPersist += ready.messagesAfterPersist
            }
            return
        }
        lastBackgroundTicket += 1
        var held = ready.messagesAfterPersist
        if options.faults.contains(.acknowledgeBeforeDurable) {
            effects.messages += held
            held = []
        }
        backgroundWrites.append(
            BackgroundWrite(
                ticket: lastBackgroundTicket, lastEntry: ready.entriesToAppend.last.map { ($0.index, $0.term) },
                messagesAfterPersist: held))
        environment.startPersisting(ready, ticket: lastBackgroundTicket)
    }

    /// The environment made the background write `ticket`, and every one before it, durable: their votes and
    /// acknowledgements leave, and their entries may apply (and count toward a leader's quorum). Call
    /// `processReady()` after it, as after any input.
    public mutating func persisted(ticket: UInt64) {
        var finished = 0
        for write in backgroundWrites {
            guard write.ticket <= ticket else { break }
            finished += 1
            effects.messages += write.messagesAfterPersist
            if let last = write.lastEntry { raft.persisted(through: last.index, term: last.term) }
        }
        backgroundWrites.removeFirst(finished)
    }
}
