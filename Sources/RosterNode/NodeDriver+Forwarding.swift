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
                if raft.role == .leader, membersOutOfSpace(for: command) != nil {
                    outcome = .refused(reason: AlarmDirectory.refusalReason)
                } else {
                    outcome =
                        raft.role == .leader ? proposeAsLeader(command, encoded: bytes) : .notLeader(leader: raft.leader)
                }
            } catch {
                outcome = .malformed(reason: "\(error)")
            }
            send(.proposed(request: request, outcome: outcome), to: peer)
        case .registerWithLease(let request, let ttl, let register):
            receiveRegistration(request: request, ttlMilliseconds: ttl, register: register, from: peer)
        case .admin(let request, let admin):
            receiveForwardedAdmin(admin, request: request, from: peer)
        case .proposed(let request, let outcome):
            if adminForwarded(request, outcome: outcome) { break }
            guard let waiting = writesAwaitingLeader.removeValue(forKey: request) else { break }
            let id = waiting.request
            if case .malformed = outcome, let registration = waiting.registration {
                registerInSteps(afterRefusalBy: peer, registration, id: id)
                break
            }
            switch outcome {
            case .grantAccepted where waiting.registration?.grantIndex != nil:
                // A second grant for a forward delivered twice: not this registration's; still waiting for its index.
                writesAwaitingLeader[request] = waiting
            case .grantAccepted(let index, let term) where waiting.registration != nil && index > raft.appliedIndex:
                // The registration's own index follows under the same request, unless this entry is the answer.
                var waiting = waiting
                waiting.registration?.grantIndex = index
                writesAwaitingLeader[request] = waiting
                registrations[id] = .grantForwarded
                writesAwaitingApply[index] = (term, id)
            case .accepted(let index, let term), .grantAccepted(let index, let term):
                if index <= raft.appliedIndex {
                    // Applied here before the leader's answer arrived: its result is no longer known.
                    answer(id, .failed(.indeterminate(reason: "applied before the leader confirmed where")))
                } else {
                    writesAwaitingApply[index] = (term, id)
                }
            case .notLeader:
                answer(id, .failed(.noLeader(retryAfterMilliseconds: options.electionTimeoutMilliseconds)))
            case .refused(let reason) where reason == AlarmDirectory.refusalReason:
                answer(id, .failed(.noSpace(members: AlarmDirectory.alarms(in: registry).map(\.member))))
            case .refused(let reason), .malformed(let reason):
                answer(id, .failed(.leaderBusy(reason: reason)))
            case .adminRefused(let refusal):
                answer(id, .failed(.leaderBusy(reason: "\(refusal)")))
            }
        case .keepAlive(let request, let lease):
            submitKeepAlive(lease, reply: .remote(peer: peer, request: request))
        case .keptAlive(let request, let ttl, let failure):
            guard let waiting = keepAlivesAwaitingLeader.removeValue(forKey: request) else { break }
            replyKeepAlive(.local(waiting.request), lease: waiting.lease, ttl: ttl, failure: failure)
        }
    }

    /// Fails what waits on a former leader as soon as this node learns of another (or of none).
    ///
    /// A frozen or partitioned leader never answers; without this, each forwarded request would hang
    /// until the client's timeout and retry only then, adding up to a whole client timeout to every
    /// failover. The outcome is unknown (the former leader may have appended the write, and a new
    /// leader may still commit it), so the client hears `indeterminate` and retries or reads.
    mutating func failForwardsToFormerLeader() {
        let leader = raft.leader
        guard leader != knownLeader else { return }
        knownLeader = leader
        // In forwarding order: the answers must not depend on hash order.
        for (internalID, waiting) in writesAwaitingLeader.sorted(by: { $0.key < $1.key }) where waiting.leader != leader {
            writesAwaitingLeader[internalID] = nil
            answer(waiting.request, .failed(.indeterminate(reason: "the leader changed before it confirmed the write; it may or may not have been applied")))
        }
        for (internalID, waiting) in adminAwaitingLeader.sorted(by: { $0.key < $1.key }) where waiting.leader != leader {
            adminAwaitingLeader[internalID] = nil
            let reason = "the leader changed before it confirmed the membership change; read the member list"
            answer(waiting.request, .failed(.indeterminate(reason: reason)))
        }
        for (internalID, waiting) in keepAlivesAwaitingLeader.sorted(by: { $0.key < $1.key }) where waiting.leader != leader {
            keepAlivesAwaitingLeader[internalID] = nil
            answer(waiting.request, .failed(.noLeader(retryAfterMilliseconds: 0)))
        }
    }
}
