import Raft
import Registry

// MARK: - A registration with a lease handed to the leader whole

/// A client's registration with a lease, as `NodeRequest.registerWithLease` carries it.
struct RegistrationRequest {
    var instance: ServiceInstance
    var ttlMilliseconds: Int64
    var authRevision: UInt64?
    /// Handed to the leader whole: where it appended the grant, once it said so. A second `grantAccepted` (the
    /// forward delivered twice, so granted twice) is not this registration's.
    var grantIndex: LogIndex? = nil

    /// The first step, the lease grant (the leader stamps its time into it when it proposes it).
    var leaseGrant: RegistryCommand { leaseGrant(naming: nil) }

    /// The lease grant naming its lease, for a registration proposed with it (`NodeDriver.nameableLease`).
    func leaseGrant(naming lease: LeaseID?) -> RegistryCommand {
        RegistryCommand.grantLease(id: lease, ttlMilliseconds: ttlMilliseconds, grantedAtMilliseconds: 0)
            .checked(atAuthRevision: authRevision)
    }

    /// The second step, the registration under `lease` (nil while the lease is still to be granted).
    func register(under lease: LeaseID?) -> RegistryCommand {
        var instance = instance
        instance.lease = lease
        return RegistryCommand.registerInstance(instance).checked(atAuthRevision: authRevision)
    }
}

/// A registration a follower handed to this leader whole (`ForwardMessage.registerWithLease`), from its lease
/// grant's proposal until the registration entry is proposed.
struct PeerRegistration {
    /// The term the grant was proposed in: the grant applied only if the entry at its index has this term.
    var term: Term
    var peer: NodeID
    /// The follower's ID for it, echoed in `ForwardMessage.proposed`.
    var request: UInt64
    var registration: RegistrationRequest
}

/// The last `capacity` whole registrations a leader took, by sender and the sender's request ID, so that one
/// delivered twice is granted and registered once.
///
/// Why: the simulator's network duplicates messages, and a duplicate took a second lease (seed
/// 1797100000000000005) and registered the instance again under it, after the client was told the first, so
/// the instance ended with a lease nobody renews (`WholeRegistrationForwardingTests`). A connection does not
/// duplicate, but a forward is not made safe by the transport alone.
struct RecentPeerRequests {
    struct Key: Hashable {
        var peer: NodeID
        var request: UInt64
    }

    let capacity: Int
    private var keys: Set<Key> = []
    private var order: [Key] = []
    private var oldest = 0

    init(capacity: Int) { self.capacity = capacity }

    /// Records the key; false if it was recorded already.
    mutating func insert(_ key: Key) -> Bool {
        guard keys.insert(key).inserted else { return false }
        if order.count < capacity {
            order.append(key)
        } else {
            keys.remove(order[oldest])
            order[oldest] = key
            oldest = (oldest + 1) % capacity
        }
        return true
    }
}

extension NodeDriver {
    /// Follower side: hands the registration to `leader` whole. The leader answers with the index of the entry
    /// that decides the client's answer, and this node answers once it has applied that entry, as for a write.
    ///
    /// Checked here as the two writes would be, so a client hears the same refusals as through the leader.
    mutating func forwardRegistration(_ registration: RegistrationRequest, to leader: NodeID, id: RequestID) {
        if let members = membersOutOfSpace(for: registration.leaseGrant) {
            answer(id, .failed(.noSpace(members: members)))
            return
        }
        guard let encoded = admittedEncoding(of: registration.register(under: nil), id: id) else { return }
        let internalID = makeInternalID()
        writesAwaitingLeader[internalID] = (id, leader, registration)
        send(.registerWithLease(request: internalID, ttlMilliseconds: registration.ttlMilliseconds, register: encoded), to: leader)
    }

    /// Whether `leader` answered a whole registration `malformed` in this term (an earlier version).
    func predatesWholeRegistrations(_ leader: NodeID) -> Bool {
        legacyLeader.map { $0.leader == leader && $0.term == raft.term } ?? false
    }

    /// Follower side: the leader did not take the registration whole; it goes in two writes, under the same request.
    mutating func registerInSteps(afterRefusalBy leader: NodeID, _ registration: RegistrationRequest, id: RequestID) {
        legacyLeader = (leader, raft.term)
        environment.log(.info, "leader \(leader) does not take registrations whole (an earlier version): registering in two writes this term")
        submitRegistrationInSteps(registration, id: id)
    }

    /// Leader side: proposes the lease grant of a registration `peer` handed over whole; the registration itself is
    /// proposed as soon as the grant applies here (`resolvePeerRegistration`).
    mutating func receiveRegistration(request: UInt64, ttlMilliseconds: Int64, register bytes: [UInt8], from peer: NodeID) {
        guard recentPeerRegistrations.insert(.init(peer: peer, request: request)) else { return }
        let register: RegistryCommand
        do {
            register = try RegistryCommand.decode(bytes, limits: options.registryLimits)
        } catch {
            send(.proposed(request: request, outcome: .malformed(reason: "\(error)")), to: peer)
            return
        }
        guard case .registerInstance(let instance) = register.payload else {
            send(.proposed(request: request, outcome: .malformed(reason: "a registration with a lease carries a registerInstance command")), to: peer)
            return
        }
        guard raft.role == .leader else {
            send(.proposed(request: request, outcome: .notLeader(leader: raft.leader)), to: peer)
            return
        }
        let registration = RegistrationRequest(
            instance: instance, ttlMilliseconds: ttlMilliseconds, authRevision: register.checkedAuthRevision)
        if membersOutOfSpace(for: registration.leaseGrant) != nil || membersOutOfSpace(for: register) != nil {
            send(.proposed(request: request, outcome: .refused(reason: AlarmDirectory.refusalReason)), to: peer)
            return
        }
        if let lease = nameableLease() {
            proposeRegistrationTogether(registration, lease: lease, request: request, from: peer)
            return
        }
        switch proposeAsLeader(registration.leaseGrant) {
        case .accepted(let index, let term):
            peerRegistrationGrants[index] = PeerRegistration(term: term, peer: peer, request: request, registration: registration)
            send(.proposed(request: request, outcome: .grantAccepted(index: index, term: term)), to: peer)
        case let outcome:
            send(.proposed(request: request, outcome: outcome), to: peer)
        }
    }

    /// Leader side, for every applied entry: moves a whole registration on when its grant or its registration
    /// applied (or another entry took its place).
    mutating func resolvePeerRegistration(at entry: Entry, with result: CommandResult?) {
        // A grant that did not apply (refused, or another term's entry in its place) is the follower's answer: it
        // applies that entry too, and learned its index when the grant was appended.
        if let grant = peerRegistrationGrants.removeValue(forKey: entry.index), grant.term == entry.term,
            case .applied(let applied)? = result, case .leaseGranted(let lease, _) = applied.response
        {
            followUps.append(.registerForPeer(grant, lease: lease))
        }
        if let registering = peerRegistrationEntries.removeValue(forKey: entry.index) {
            let registered = if registering.term == entry.term, case .applied? = result { true } else { false }
            if !registered { revokeOrphan(registering.lease) }
        }
    }

    /// Leader side, once the grant applied: proposes the registration under the new lease and tells the follower
    /// where it landed. A node that no longer leads tells the follower so and revokes the lease.
    mutating func proposeRegistration(for grant: PeerRegistration, lease: LeaseID) {
        let register = grant.registration.register(under: lease)
        let outcome = raft.role == .leader ? proposeAsLeader(register) : .notLeader(leader: raft.leader)
        if case .accepted(let index, let term) = outcome {
            peerRegistrationEntries[index] = (term, lease)
        } else {
            revokeOrphan(lease)
        }
        send(.proposed(request: grant.request, outcome: outcome), to: grant.peer)
    }

    /// Drops what waits on entries a snapshot replaced: they will not apply one by one here.
    mutating func forgetPeerRegistrations(through index: LogIndex) {
        pipelinedGrants = pipelinedGrants.filter { $0.key > index }
        grantsInFlight.applied(through: index)
        peerRegistrationGrants = peerRegistrationGrants.filter { $0.key > index }
        peerRegistrationEntries = peerRegistrationEntries.filter { $0.key > index }
    }
}
