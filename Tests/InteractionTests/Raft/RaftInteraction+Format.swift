// Goal: one readable spelling of every Raft value a transcript prints. Method: messages as the simulator
// traces them (`Message.description`, `1->2 t1 Vote log:0/0`), with the entries an append carries
// spelled out; entries as `index@term payload`, commands shown as the text they were proposed as.
import Raft

extension RaftInteraction {
    func format(_ message: Message) -> String {
        guard case .append(let append) = message.body, !append.entries.isEmpty else { return "\(message)" }
        return "\(message) [\(format(append.entries))]"
    }

    func format(_ entries: [Entry]) -> String {
        entries.map(format).joined(separator: ", ")
    }

    func format(_ entry: Entry) -> String {
        switch entry.payload {
        case .noop: "\(entry.index)@\(entry.term) noop"
        case .command(let bytes): "\(entry.index)@\(entry.term) \"\(String(decoding: bytes, as: UTF8.self))\""
        case .membership(let change): "\(entry.index)@\(entry.term) \(change)"
        }
    }

    /// Identical lines once each, in first-seen order, with a `×n` count: a leader ticked ten times
    /// before its Ready is processed sends ten identical heartbeats to each follower.
    func coalesced(_ lines: [String]) -> [String] {
        var order: [String] = []
        var counts: [String: Int] = [:]
        for line in lines {
            if counts[line] == nil { order.append(line) }
            counts[line, default: 0] += 1
        }
        return order.map { counts[$0]! > 1 ? "\($0) ×\(counts[$0]!)" : $0 }
    }

    func list(_ ids: [NodeID]) -> String {
        ids.map { "\($0)" }.joined(separator: " ")
    }

    func leaderText(_ leader: NodeID?) -> String {
        leader.map { "leader \($0)" } ?? "no leader"
    }

    func name(of role: RaftRole) -> String {
        switch role {
        case .follower: "follower"
        case .preCandidate: "pre-candidate"
        case .candidate: "candidate"
        case .leader: "leader"
        }
    }

    func describe(_ options: RaftOptions) -> String {
        var parts = [
            "prevote=\(options.preVote)", "checkquorum=\(options.checkQuorum)", "election=\(options.electionTimeoutTicks)",
            "heartbeat=\(options.heartbeatTicks)",
        ]
        if options.maxEntriesPerAppend != RaftOptions().maxEntriesPerAppend {
            parts.append("max-entries=\(options.maxEntriesPerAppend)")
        }
        if options.maxInflightAppends != RaftOptions().maxInflightAppends {
            parts.append("max-inflight=\(options.maxInflightAppends)")
        }
        if options.snapshotChunkBytes != RaftOptions().snapshotChunkBytes {
            parts.append("snapshot-chunk=\(options.snapshotChunkBytes)")
        }
        if options.snapshotChunksInFlight != RaftOptions().snapshotChunksInFlight {
            parts.append("snapshot-window=\(options.snapshotChunksInFlight)")
        }
        if options.faults.contains(.commitPreviousTermByCounting) { parts.append("fault=commit-previous-term") }
        return parts.joined(separator: " ")
    }
}
