import Codec
import Raft
import Registry

// MARK: - Work forwarded between nodes

extension NodeDriver {
    /// Handles node-to-node traffic from `peer` (see `ForwardMessage`).
    public mutating func receive(_ forward: ForwardMessage, from peer: NodeID) {
        switch forward {
        case .propose(let request, let bytes):
            let outcome: ForwardOutcome
            do {
                let command = try RegistryCommand.decode(bytes, limits: options.registryLimits)
                outcome =
                    raft.role == .leader ? proposeAsLeader(command, encoded: bytes) : .notLeader(leader: raft.leader)
            } catch {
                outcome = .malformed(reason: "\(error)")
            }
            environment.send(.proposed(request: request, outcome: outcome), to: peer)
        case .proposed(let request, let outcome):
            guard let id = writesAwaitingLeader.removeValue(forKey: request) else { break }
            switch outcome {
            case .accepted(let index, let term):
                if index <= raft.appliedIndex {
                    // Applied here before the leader's answer arrived: its result is no longer known.
                    answer(id, .failed(.indeterminate(reason: "applied before the leader confirmed where")))
                } else {
                    writesAwaitingApply[index] = (term, id)
                }
            case .notLeader:
                answer(id, .failed(.noLeader(retryAfterMilliseconds: options.electionTimeoutMilliseconds)))
            case .refused(let reason), .malformed(let reason):
                answer(id, .failed(.leaderBusy(reason: reason)))
            }
        case .keepAlive(let request, let lease):
            submitKeepAlive(lease, reply: .remote(peer: peer, request: request))
        case .keptAlive(let request, let ttl, let failure):
            guard let waiting = keepAlivesAwaitingLeader.removeValue(forKey: request) else { break }
            replyKeepAlive(.local(waiting.request), lease: waiting.lease, ttl: ttl, failure: failure)
        }
    }
}
