import Raft
import Registry

// MARK: - Registration with a lease (grant, then register)

extension NodeDriver {
    /// Where a `NodeRequest.registerWithLease` stands. Each step is an ordinary write under the
    /// client's request ID; `answer` hands its outcome to `continueRegistration` instead of the client.
    ///
    /// A step's answer usually comes while a Ready's entries apply, when Raft takes no proposal (until
    /// `advance`): the next proposal waits in `followUps` for `startFollowUps()`, which the Ready loop
    /// calls before each Ready.
    enum RegistrationStep {
        /// The lease grant is proposed (or forwarded); the instance registers once it applies here.
        case granting(ServiceInstance, authRevision: UInt64?)
        /// The registration under `lease` is proposed; the lease is revoked if it does not apply.
        case registering(lease: LeaseID)
        /// The grant naming its lease and the registration under it are proposed together; the grant has not applied
        /// yet (`resolvePipelinedGrant`, which holds the lease, moves it on to `registering` or answers the grant's
        /// failure).
        case pipelined
        /// Handed to the leader whole, which appended the grant: a grant that applies is not the answer (the
        /// leader registers the instance and says where), one that does not is.
        case grantForwarded
    }

    /// A proposal a registration's step decided on, to be made once Raft takes proposals again.
    enum FollowUp {
        case register(ServiceInstance, request: RequestID, authRevision: UInt64?)
        case revoke(LeaseID)
        /// The registration a follower handed over whole, once its grant applied here.
        case registerForPeer(PeerRegistration, lease: LeaseID)
    }

    /// Makes the proposals registrations decided on since the last call.
    mutating func startFollowUps() {
        guard !followUps.isEmpty else { return }
        let due = followUps
        followUps.removeAll()
        for followUp in due {
            switch followUp {
            case .register(let instance, let request, let authRevision):
                // Cancelled meanwhile: `registrationCancelled` queued the lease's revocation instead.
                guard openRequests.contains(request) else { continue }
                submitWrite(RegistryCommand.registerInstance(instance).checked(atAuthRevision: authRevision), id: request)
            case .revoke(let lease):
                proposeUnanswered(.revokeLease(lease))
            case .registerForPeer(let grant, let lease):
                proposeRegistration(for: grant, lease: lease)
            }
        }
    }

    /// Starts a registration with a lease. A follower hands it to the leader whole (`forwardRegistration`); the
    /// leader, or a follower whose leader predates that, proposes the grant first. Both steps carry
    /// `authRevision`, the auth revision the client's permission was checked at (see `RegistryCommand.authChecked`).
    mutating func submitRegistration(_ instance: ServiceInstance, ttlMilliseconds: Int64, authRevision: UInt64?, id: RequestID) {
        let registration = RegistrationRequest(instance: instance, ttlMilliseconds: ttlMilliseconds, authRevision: authRevision)
        if raft.role != .leader, let leader = raft.leader, !predatesWholeRegistrations(leader) {
            forwardRegistration(registration, to: leader, id: id)
        } else {
            submitRegistrationInSteps(registration, id: id)
        }
    }

    /// A leader that can name the lease proposes the grant and the registration together (`nameableLease`);
    /// otherwise the grant is proposed (or forwarded) and the registration follows once it applied here
    /// (`continueRegistration`).
    mutating func submitRegistrationInSteps(_ registration: RegistrationRequest, id: RequestID) {
        if let lease = nameableLease() {
            submitRegistrationTogether(registration, lease: lease, id: id)
            return
        }
        registrations[id] = .granting(registration.instance, authRevision: registration.authRevision)
        submitWrite(registration.leaseGrant, id: id)
    }

    /// Moves a registration on after its current step was answered.
    /// - Returns: true if the request continues with another step (the client hears nothing yet);
    ///   false if `response` is the client's answer (always so for other requests).
    mutating func continueRegistration(_ id: RequestID, after response: NodeResponse) -> Bool {
        guard let step = registrations.removeValue(forKey: id) else { return false }
        switch step {
        case .granting(var instance, let authRevision):
            // A grant that failed registers nothing: the client hears the grant's failure.
            guard case .written(let applied) = response, case .leaseGranted(let lease, _) = applied.response else { return false }
            instance.lease = lease
            registrations[id] = .registering(lease: lease)
            followUps.append(.register(instance, request: id, authRevision: authRevision))
            return true
        case .registering(let lease):
            if case .written = response {} else { revokeOrphan(lease) }
            return false
        case .pipelined:
            // Refused before its grant applied; the grant, should it apply, is revoked then.
            return false
        case .grantForwarded:
            if case .written(let applied) = response, case .leaseGranted = applied.response { return true }
            // The leader registers nothing after a grant that failed: nothing more is coming under this request.
            writesAwaitingLeader = writesAwaitingLeader.filter { $0.value.request != id }
            return false
        }
    }

    /// The shell gave up on a registration: a lease granted for it is revoked (a grant still in flight
    /// leaves a lease without keys, which ends after its TTL).
    mutating func registrationCancelled(_ id: RequestID) {
        guard case .registering(let lease)? = registrations.removeValue(forKey: id) else { return }
        revokeOrphan(lease)
    }

    /// Revokes a lease granted for a registration that did not apply, so it does not linger for a TTL.
    /// If the registration did apply after all (an indeterminate answer), revoking removes it again:
    /// the client, told it failed, registers anew.
    mutating func revokeOrphan(_ lease: LeaseID) {
        followUps.append(.revoke(lease))
    }

    /// Proposes a command nobody waits for: on the leader at once; from a follower, forwarded to the
    /// leader (its answer finds no waiter and is dropped). With no leader known it is dropped, logged.
    mutating func proposeUnanswered(_ command: RegistryCommand) {
        if raft.role == .leader {
            switch proposeAsLeader(command) {
            case .accepted, .grantAccepted: break
            case .notLeader, .refused, .malformed, .adminRefused: environment.log(.warning, "\(command) not proposed: the leader refused it")
            }
        } else if let leader = raft.leader {
            send(.propose(request: makeInternalID(), command: command.encoded()), to: leader)
        } else {
            environment.log(.warning, "\(command) not proposed: no leader known")
        }
    }
}
