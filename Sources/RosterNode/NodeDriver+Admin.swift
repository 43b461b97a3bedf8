import Raft
import Registry

// MARK: - Membership and leadership requests

extension NodeDriver {
    /// Where a membership request landed on the leader, or why it did not.
    enum AdminProposal {
        case accepted(index: LogIndex, term: Term)
        case notLeader
        case refused(AdminRefusal)
    }

    /// Membership requests go to the leader from any node: a follower forwards them (as it forwards writes)
    /// and answers once it has applied the change itself, so a member listing on that node shows it.
    /// Leadership transfers are answered here: only the leader can start one.
    mutating func submitAdmin(_ admin: AdminRequest, id: RequestID) {
        if case .transferLeadership(let name) = admin {
            transferLeadership(to: name, id: id)
            return
        }
        guard raft.role == .leader else {
            guard let leader = raft.leader, leader != raft.id else {
                answer(id, .failed(.noLeader(retryAfterMilliseconds: options.electionTimeoutMilliseconds)))
                return
            }
            let internalID = makeInternalID()
            adminAwaitingLeader[internalID] = (id, leader)
            send(.admin(request: internalID, admin: admin), to: leader)
            return
        }
        switch proposeAdmin(admin) {
        case .accepted(let index, let term): adminAwaitingApply[index] = (term, id)
        case .notLeader: answer(id, .failed(.noLeader(retryAfterMilliseconds: options.electionTimeoutMilliseconds)))
        case .refused(let refusal): answer(id, .failed(.membershipRefused(refusal)))
        }
    }

    /// The leader's answer to a membership request a follower forwarded.
    mutating func receiveForwardedAdmin(_ admin: AdminRequest, request: UInt64, from peer: NodeID) {
        let outcome: ForwardOutcome
        if case .transferLeadership = admin {
            outcome = .refused(reason: "leadership transfers are not forwarded")
        } else if raft.role != .leader {
            outcome = .notLeader(leader: raft.leader)
        } else {
            switch proposeAdmin(admin) {
            case .accepted(let index, let term): outcome = .accepted(index: index, term: term)
            case .notLeader: outcome = .notLeader(leader: raft.leader)
            case .refused(let refusal): outcome = .adminRefused(refusal)
            }
        }
        send(.proposed(request: request, outcome: outcome), to: peer)
    }

    /// Where the leader appended a membership request this node forwarded. - Returns: false if it was not one.
    mutating func adminForwarded(_ request: UInt64, outcome: ForwardOutcome) -> Bool {
        guard let id = adminAwaitingLeader.removeValue(forKey: request)?.request else { return false }
        switch outcome {
        case .accepted(let index, let term):
            if index <= raft.appliedIndex {
                answer(id, .failed(.indeterminate(reason: "applied before the leader confirmed where")))
            } else {
                adminAwaitingApply[index] = (term, id)
            }
        case .notLeader:
            answer(id, .failed(.noLeader(retryAfterMilliseconds: options.electionTimeoutMilliseconds)))
        case .refused(let reason), .malformed(let reason):
            answer(id, .failed(.leaderBusy(reason: reason)))
        case .adminRefused(let refusal):
            answer(id, .failed(.membershipRefused(refusal)))
        case .grantAccepted:
            answer(id, .failed(.leaderBusy(reason: "the leader answered a membership request as a registration")))
        }
        return true
    }

    /// Answers the membership request appended at this index, once this node applied it.
    mutating func resolveAdmin(at entry: Entry) {
        guard let waiting = adminAwaitingApply.removeValue(forKey: entry.index) else { return }
        let response: NodeResponse =
            waiting.term == entry.term ? .admin(.membershipChanged(raft.configuration)) : .failed(.notApplied)
        answer(waiting.request, response)
    }

    // MARK: - On the leader

    /// Checks a membership request against the configuration and the member directory, as etcd's
    /// `ValidateConfigurationChange` does, then proposes it.
    mutating func proposeAdmin(_ admin: AdminRequest) -> AdminProposal {
        let configuration = raft.configuration
        switch admin {
        case .addLearner(let name, let peerAddress), .addVoter(let name, let peerAddress):
            let id = Member.id(forName: name)
            let promotes: Bool
            if case .addVoter = admin { promotes = true } else { promotes = false }
            // The address first: a member added through etcd is named after its address, so adding that
            // address again is, in etcd's terms, a new member at a peer URL already in use.
            if let owner = member(using: peerAddress, except: nil) {
                return .refused(.peerAddressInUse(address: peerAddress, member: owner.name))
            }
            if configuration.contains(id) { return .refused(.memberExists(name: name)) }
            // etcd counts only members added as learners against its learner limit.
            if !promotes && configuration.learners.count >= options.maxLearners {
                return .refused(.tooManyLearners(limit: options.maxLearners))
            }
            // The directory record first, so every node can reach the learner once it is added.
            let record = Member(id: id, name: name, peerAddress: peerAddress)
            guard case .accepted = proposeAsLeader(MemberDirectory.put(record, promotesWhenCaughtUp: promotes)) else {
                return .refused(.other("could not record member \(name) in the member directory; retry"))
            }
            return proposeMembership(.addLearner(id), name: name)
        case .promote(let name):
            let id = Member.id(forName: name)
            guard configuration.contains(id) else { return .refused(.memberNotFound(name: name)) }
            guard configuration.isLearner(id) else { return .refused(.notLearner(name: name)) }
            if let behind = learnerBehind(id, name: name) { return .refused(behind) }
            return proposeMembership(.promoteLearner(id), name: name)
        case .remove(let name):
            let id = Member.id(forName: name)
            guard configuration.contains(id) else { return .refused(.memberNotFound(name: name)) }
            return proposeMembership(.remove(id), name: name)
        case .updatePeerAddress(let name, let peerAddress):
            let id = Member.id(forName: name)
            guard configuration.contains(id) else { return .refused(.memberNotFound(name: name)) }
            if let owner = member(using: peerAddress, except: id) {
                return .refused(.peerAddressInUse(address: peerAddress, member: owner.name))
            }
            var record = members.first { $0.id == id } ?? Member(id: id, name: name, peerAddress: peerAddress)
            record.peerAddress = peerAddress
            let promotes = MemberDirectory.promotesWhenCaughtUp(record.name, registry: registry)
            switch proposeAsLeader(MemberDirectory.put(record, promotesWhenCaughtUp: promotes)) {
            case .accepted(let index, let term): return .accepted(index: index, term: term)
            case .notLeader: return .notLeader
            case .refused(let reason), .malformed(let reason), .adminRefused(.other(let reason)):
                return .refused(.other("could not record the new address of \(name): \(reason)"))
            case .adminRefused(let refusal): return .refused(refusal)
            case .grantAccepted: preconditionFailure("proposeAsLeader answers a proposal, never a grant of a registration")
            }
        case .transferLeadership:
            preconditionFailure("leadership transfers are not proposed")
        }
    }

    /// Why `learner` is not ready to vote, if it is not: etcd's isLearnerReady, the learner must hold 90 % of
    /// the leader's log, so a learner that never started (or fell far behind) is not promoted into a quorum
    /// it would weaken.
    func learnerBehind(_ learner: NodeID, name: String) -> AdminRefusal? {
        let match = raft.matchIndex(of: learner)?.rawValue ?? 0
        let last = raft.lastIndex.rawValue
        guard match == 0 || match * 10 < last * 9 else { return nil }
        return .learnerNotReady(name: name, matchIndex: match, lastIndex: last)
    }

    /// On the leader, promotes the first learner added as a voter (`addVoter`) that has caught up. Called on
    /// every tick; Raft takes one membership change at a time, so at most one is proposed.
    mutating func promoteCaughtUpLearners() {
        guard raft.role == .leader else { return }
        for learner in raft.configuration.learners {
            guard let member = members.first(where: { $0.id == learner }),
                learnerBehind(learner, name: member.name) == nil,
                MemberDirectory.promotesWhenCaughtUp(member.name, registry: registry)
            else { continue }
            if case .accepted = raft.proposeMembershipChange(.promoteLearner(learner)) {
                environment.log(.info, "promoting \(member.name): added as a voter, it has caught up")
            }
            return
        }
    }

    /// The member of the configuration other than `id` whose directory record uses `peerAddress`.
    private func member(using peerAddress: String, except id: NodeID?) -> Member? {
        members.first { $0.peerAddress == peerAddress && $0.id != id && raft.configuration.contains($0.id) }
    }

    private mutating func proposeMembership(_ change: MembershipChange, name: String) -> AdminProposal {
        switch raft.proposeMembershipChange(change) {
        case .accepted(let index, let term): return .accepted(index: index, term: term)
        case .notLeader: return .notLeader
        case .refused(let refusal): return .refused(Self.admin(refusal, name: name))
        }
    }

    /// Raft's refusal in the terms of the request.
    static func admin(_ refusal: MembershipRefusal, name: String) -> AdminRefusal {
        switch refusal {
        case .changeInProgress: .changeInProgress
        case .leaderNotReady: .leaderNotReady
        case .invalid(.alreadyMember): .memberExists(name: name)
        case .invalid(.notLearner): .notLearner(name: name)
        case .invalid(.notMember): .memberNotFound(name: name)
        case .invalid(.wouldRemoveLastVoter): .notEnoughVoters(reason: "\(name) is the last voter; a cluster needs one")
        case .wouldLoseQuorum(let reachable, let quorum):
            .notEnoughVoters(reason: "after the change \(reachable) reachable voter(s) could not form a quorum of \(quorum)")
        case .learnerBehind(_, let match, let last):
            .learnerNotReady(name: name, matchIndex: match.rawValue, lastIndex: last.rawValue)
        }
    }

    private mutating func transferLeadership(to name: String?, id: RequestID) {
        guard raft.role == .leader else {
            let leaderName = members.first { $0.id == raft.leader }?.name
            let hint = leaderName.map { " (\($0))" } ?? ""
            answer(id, .failed(.membershipRefused(.other("send leadership transfers to the leader\(hint)"))))
            return
        }
        let target = name.map(Member.id(forName:)) ?? raft.mostUpToDateVoter
        guard let target else {
            answer(id, .failed(.membershipRefused("no other voter to transfer leadership to")))
            return
        }
        switch raft.transferLeadership(to: target) {
        case .started: answer(id, .admin(.transferStarted(to: target)))
        case .notLeader: answer(id, .failed(.membershipRefused("no longer the leader")))
        case .refused(let refusal): answer(id, .failed(.membershipRefused(.other("\(refusal)"))))
        }
    }
}
