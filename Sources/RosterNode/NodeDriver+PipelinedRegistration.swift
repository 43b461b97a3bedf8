import Raft
import Registry

// MARK: - A registration with a lease in one commit round

/// A lease grant a leader proposed together with the registration under the lease it names, until it applies.
struct PipelinedGrant {
    /// Who learns what became of the grant.
    enum Owner {
        /// A client of this node, waiting on the registration's entry.
        case client(RequestID)
        /// A follower's whole registration: the registration's entry, which revokes the lease if it does not apply.
        case peer(registerIndex: LogIndex)
        /// Nobody: the registration was not proposed, so the lease is revoked if the grant applies.
        case nobody
    }

    var term: Term
    var lease: LeaseID
    var owner: Owner
}

extension NodeDriver {
    /// The ID a registration's grant can name now, so that the registration under it is proposed in the same Ready
    /// and both commit in one round; nil if the registration must wait for its grant to apply.
    ///
    /// The ID is the grant's own index, the one a grant without an ID takes first, so the IDs clients see do not
    /// change. It is nameable only if no lease has it and no grant in flight can take it (`GrantsInFlight`), and only
    /// once an entry of this term applied: before that, entries of earlier terms (whose grants this node did not
    /// record) may still apply.
    func nameableLease() -> LeaseID? {
        guard raft.role == .leader, raft.hasAppliedEntryOfCurrentTerm, !options.unsafeAcknowledgeBeforeCommit else { return nil }
        let lease = LeaseID(raft.lastIndex.rawValue + 1)
        if options.faults.contains(.leasesNamedUnchecked) { return lease }
        guard registry.lease(lease) == nil, grantsInFlight.mayName(lease, term: raft.term) else { return nil }
        return lease
    }

    /// Leader side, for a client of this node: proposes the grant naming `lease` and the registration under it.
    /// The client's answer is the registration's entry, unless the grant did not apply (`resolvePipelinedGrant`).
    mutating func submitRegistrationTogether(_ registration: RegistrationRequest, lease: LeaseID, id: RequestID) {
        let grant = registration.leaseGrant(naming: lease)
        guard let encoded = admittedEncoding(of: grant, id: id),
            let (index, term) = proposeForClient(grant, encoded: encoded, id: id)
        else { return }
        pipelinedGrants[index] = PipelinedGrant(term: term, lease: lease, owner: .client(id))
        registrations[id] = .pipelined
        submitWrite(registration.register(under: lease), id: id)
    }

    /// Leader side, for a follower's whole registration: proposes the grant naming `lease` and the registration under
    /// it, and tells the follower both indexes at once (as `grantAccepted`, then `accepted`), so it waits on them as
    /// it would on a leader that registers after the grant applied.
    mutating func proposeRegistrationTogether(_ registration: RegistrationRequest, lease: LeaseID, request: UInt64, from peer: NodeID) {
        let grantOutcome = proposeAsLeader(registration.leaseGrant(naming: lease))
        guard case .accepted(let grantIndex, let term) = grantOutcome else {
            send(.proposed(request: request, outcome: grantOutcome), to: peer)
            return
        }
        send(.proposed(request: request, outcome: .grantAccepted(index: grantIndex, term: term)), to: peer)
        let outcome = proposeAsLeader(registration.register(under: lease))
        let owner: PipelinedGrant.Owner = if case .accepted(let index, _) = outcome { .peer(registerIndex: index) } else { .nobody }
        pipelinedGrants[grantIndex] = PipelinedGrant(term: term, lease: lease, owner: owner)
        send(.proposed(request: request, outcome: outcome), to: peer)
    }

    /// For every applied entry: what a grant proposed with its registration did. A lease that is not granted is never
    /// revoked (its ID may be another's by now); one granted whose registration was given up is.
    mutating func resolvePipelinedGrant(at entry: Entry, with result: CommandResult?) {
        guard let grant = pipelinedGrants.removeValue(forKey: entry.index) else { return }
        let granted =
            if grant.term == entry.term, case .applied(let applied)? = result, case .leaseGranted(let lease, _) = applied.response {
                lease == grant.lease
            } else { false }
        switch grant.owner {
        case .client(let id):
            guard case .pipelined? = registrations[id] else {
                // Answered or cancelled meanwhile.
                if granted { revokeOrphan(grant.lease) }
                return
            }
            if granted {
                registrations[id] = .registering(lease: grant.lease)
                return
            }
            // The registration under the lease cannot apply as the client's: the grant's outcome is the answer.
            registrations[id] = nil
            if grant.term == entry.term, case .rejected(let rejection)? = result {
                answer(id, .rejected(rejection, evaluatedAt: registry.revision))
            } else {
                answer(id, .failed(.notApplied))
            }
        case .peer(let registerIndex):
            if granted { peerRegistrationEntries[registerIndex] = (grant.term, grant.lease) }
        case .nobody:
            if granted { revokeOrphan(grant.lease) }
        }
    }
}
