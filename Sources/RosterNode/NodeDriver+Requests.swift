import Codec
import Raft
import Registry

// MARK: - Client requests

extension NodeDriver {
    /// Accepts a client request; its answer comes back in `NodeEffects.responses`, exactly once,
    /// unless the shell cancels the request first.
    public mutating func submit(_ request: NodeRequest, id: RequestID) {
        guard openRequests.count < options.maxPendingRequests else {
            effects.responses.append((id, .failed(.overloaded(limit: options.maxPendingRequests))))
            return
        }
        openRequests.insert(id)
        switch request {
        case .write(let command): submitWrite(command, id: id)
        case .registerWithLease(let instance, let ttl, let authRevision):
            submitRegistration(instance, ttlMilliseconds: ttl, authRevision: authRevision, id: id)
        case .keepAlive(let lease): submitKeepAlive(lease, reply: .local(id))
        case .read(let query, let readOptions): submitRead(query, options: readOptions, id: id)
        case .readBarrier: submitRead(nil, options: ReadOptions(consistency: .linearizable), id: id)
        case .admin(let admin): submitAdmin(admin, id: id)
        }
    }

    mutating func submitWrite(_ command: RegistryCommand, id: RequestID) {
        guard let encoded = admittedEncoding(of: command, id: id) else { return }
        if raft.role == .leader {
            guard let (index, term) = proposeForClient(command, encoded: encoded, id: id) else { return }
            if options.unsafeAcknowledgeBeforeCommit {
                acknowledgeUncommitted(command, at: index, id: id)
            } else {
                writesAwaitingApply[index] = (term, id)
            }
            return
        }
        guard let leader = raft.leader else {
            answer(id, .failed(.noLeader(retryAfterMilliseconds: options.electionTimeoutMilliseconds)))
            return
        }
        let internalID = makeInternalID()
        writesAwaitingLeader[internalID] = (id, leader, nil)
        send(.propose(request: internalID, command: encoded), to: leader)
    }

    /// Proposes a client's command on the leader: where it was appended, or nil once the client was answered why not.
    mutating func proposeForClient(_ command: RegistryCommand, encoded: [UInt8], id: RequestID) -> (index: LogIndex, term: Term)? {
        switch proposeAsLeader(command, encoded: encoded) {
        case .accepted(let index, let term): return (index, term)
        case .notLeader: answer(id, .failed(.noLeader(retryAfterMilliseconds: options.electionTimeoutMilliseconds)))
        case .refused(let reason), .malformed(let reason): answer(id, .failed(.leaderBusy(reason: reason)))
        case .adminRefused(let refusal): answer(id, .failed(.membershipRefused(refusal)))
        case .grantAccepted: preconditionFailure("proposeAsLeader answers a proposal, never a grant of a registration")
        }
        return nil
    }

    /// The command's entry, or nil once the client was answered why it is not proposed: a member out of space, a
    /// transaction of a shape, or an entry of a size, that not every node would take.
    mutating func admittedEncoding(of command: RegistryCommand, id: RequestID) -> [UInt8]? {
        if let members = membersOutOfSpace(for: command) {
            answer(id, .failed(.noSpace(members: members)))
            return nil
        }
        // A transaction's shape is checked before it is proposed: its entry must decode on every node.
        if case .transaction(let transaction) = command.payload, let rejection = transaction.shapeRejection(limits: options.registryLimits) {
            answer(id, .rejected(rejection, evaluatedAt: registry.revision))
            return nil
        }
        // So must its size: every node decodes a committed entry against `requestBytes` and stops rather than
        // skip one, so an entry whose encoding is larger (its fields fit, the framing does not) is never proposed.
        let encoded = command.encoded()
        if encoded.count > options.registryLimits.requestBytes {
            let rejection = RegistryRejection.requestTooLarge(bytes: encoded.count, limit: options.registryLimits.requestBytes)
            answer(id, .rejected(rejection, evaluatedAt: registry.revision))
            return nil
        }
        return encoded
    }

    /// The unsafe test mode: answers with the result of applying the command to a copy of the state,
    /// as if every earlier entry had committed.
    mutating func acknowledgeUncommitted(_ command: RegistryCommand, at index: LogIndex, id: RequestID) {
        var copy = registry
        let nextIndex = max(copy.lastAppliedIndex + 1, index.rawValue)
        switch copy.apply(command, at: nextIndex) {
        case .applied(let applied): answer(id, .written(applied))
        case .rejected(let rejection): answer(id, .rejected(rejection, evaluatedAt: copy.revision))
        }
    }

    /// Proposes a command on the leader, stamping the leader's time into lease grants.
    /// - Parameter encoded: The command's bytes as a follower forwarded them, if so. They decoded to
    ///   `command` here, so every node decodes them to the same command: proposing them as they are
    ///   saves encoding it again (a lease grant still is, to stamp the leader's time).
    mutating func proposeAsLeader(_ command: RegistryCommand, encoded: [UInt8]? = nil) -> ForwardOutcome {
        let entry: [UInt8]
        if case .grantLease(let lease, let ttl, _) = command.payload {
            entry = RegistryCommand.grantLease(id: lease, ttlMilliseconds: ttl, grantedAtMilliseconds: now)
                .checked(atAuthRevision: command.checkedAuthRevision).encoded()
        } else {
            entry = encoded ?? command.encoded()
        }
        guard entry.count <= options.registryLimits.requestBytes else {
            return .refused(reason: "an entry of \(entry.count) bytes is over the request limit of \(options.registryLimits.requestBytes)")
        }
        switch raft.propose(entry) {
        case .accepted(let index, let term):
            if case .grantLease(let lease, _, _) = command.payload { grantsInFlight.appended(lease, at: index, term: term) }
            return .accepted(index: index, term: term)
        case .notLeader(let leader, _): return .notLeader(leader: leader)
        case .refused(let refusal): return .refused(reason: "\(refusal)")
        }
    }

    mutating func submitKeepAlive(_ lease: LeaseID, reply: KeepAliveReply) {
        if raft.role == .leader && raft.appliedIndex < leaderFirstIndex {
            // Found by the whole-node simulator (regression seed 252): a former leader's committed expiry of
            // this lease may still be ahead of what this node applied.
            replyKeepAlive(reply, lease: lease, ttl: nil, failure: "the new leader has not applied the entries of earlier terms yet; retry")
            return
        }
        // Under the planted fault a follower's keeper counts too, but renewals still go to the leader.
        let outcome = followerCountsLeases && raft.role != .leader ? .notLeader : keeper.keepAlive(lease, nowMilliseconds: now)
        switch outcome {
        case .renewed(let ttl):
            replyKeepAlive(reply, lease: lease, ttl: ttl, failure: nil)
        case .renewedAfterCheckpoint(let ttl):
            keepAlivesAwaitingCheckpoint[lease, default: []].append((reply, ttl, now))
        case .leaseNotFound:
            replyKeepAlive(reply, lease: lease, ttl: nil, failure: "lease \(lease.rawValue) not found")
        case .notLeader:
            guard case .local(let id) = reply else {
                replyKeepAlive(reply, lease: lease, ttl: nil, failure: "not the leader")
                return
            }
            guard let leader = raft.leader, leader != raft.id else {
                answer(id, .failed(.noLeader(retryAfterMilliseconds: options.electionTimeoutMilliseconds)))
                return
            }
            let internalID = makeInternalID()
            keepAlivesAwaitingLeader[internalID] = (id, lease, leader)
            send(.keepAlive(request: internalID, lease: lease), to: leader)
        }
    }

    mutating func replyKeepAlive(_ reply: KeepAliveReply, lease: LeaseID, ttl: Int64?, failure: String?) {
        switch reply {
        case .local(let id):
            if let ttl {
                answer(id, .keptAlive(lease, ttlMilliseconds: ttl))
            } else if failure?.contains("not found") == true {
                answer(id, .rejected(.leaseNotFound(lease), evaluatedAt: registry.revision))
            } else {
                answer(id, .failed(.indeterminate(reason: failure ?? "keepalive failed")))
            }
        case .remote(let peer, let request):
            send(.keptAlive(request: request, ttlMilliseconds: ttl, failure: failure), to: peer)
        }
    }

    /// Acknowledges the renewals an applied checkpoint makes crash-proof: those whose TTL the checkpointed
    /// remaining covers, counted from the renewal (a new leader resumes from at least that remaining, after
    /// now). A checkpoint measured before a renewal covers less; its waiters wait for the next one, which
    /// the keeper queued when it saw that checkpoint in flight.
    mutating func releaseKeepAlives(after checkpoints: [LeaseCheckpoint]) {
        for checkpoint in checkpoints {
            guard let waiters = keepAlivesAwaitingCheckpoint.removeValue(forKey: checkpoint.id) else { continue }
            var waiting: [(reply: KeepAliveReply, ttlMilliseconds: Int64, renewedAt: UInt64)] = []
            for waiter in waiters {
                let sinceRenewal = Int64(clamping: now >= waiter.renewedAt ? now - waiter.renewedAt : 0)
                if checkpoint.remainingMilliseconds &+ sinceRenewal >= waiter.ttlMilliseconds {
                    replyKeepAlive(waiter.reply, lease: checkpoint.id, ttl: waiter.ttlMilliseconds, failure: nil)
                } else {
                    waiting.append(waiter)
                }
            }
            if !waiting.isEmpty { keepAlivesAwaitingCheckpoint[checkpoint.id] = waiting }
        }
    }

    // MARK: - Reads

    /// - Parameter query: nil for a `readBarrier`, which waits exactly as a linearizable read does.
    mutating func submitRead(_ query: RegistryQuery?, options readOptions: ReadOptions, id: RequestID) {
        let read = PendingRead(request: id, query: query, options: readOptions, index: .zero)
        switch readOptions.consistency {
        case .linearizable where options.faults.contains(.linearizableReadsWithoutReadIndex),
            .serializable where raft.allowsLocalReads:
            readsAwaitingApply.append(read)
        case .linearizable, .serializable:
            // A serializable read on a node still catching up to its state before a restart is
            // confirmed with the leader, so it never sees older state than the node served before.
            if options.faults.contains(.readsJoinEarlierReadIndex), let newest = newestReadIndexRequest,
                readsAwaitingIndex[newest] != nil
            {
                readsAwaitingIndex[newest]?.append(read)
                return
            }
            readsForNextReadIndex.append(read)
        }
    }

    /// Asks Raft for one read index on behalf of every read submitted since the last request.
    ///
    /// Why: one request per read cost a follower a message to the leader and the leader a message back for every
    /// read; the reads that arrive together (one loop turn of the shell, one Ready) share one. Each read still
    /// waits for a request made after it arrived: joining a request already on its way could return an index
    /// older than a write that completed before the read began (planted fault `readsJoinEarlierReadIndex`).
    mutating func requestReadIndexForQueuedReads() {
        guard !readsForNextReadIndex.isEmpty else { return }
        let internalID = makeInternalID()
        readsAwaitingIndex[internalID] = readsForNextReadIndex
        readsForNextReadIndex = []
        newestReadIndexRequest = internalID
        raft.readIndex(requestID: internalID)
    }

    mutating func readConfirmed(_ result: ReadResult) {
        guard let reads = readsAwaitingIndex.removeValue(forKey: result.requestID) else { return }
        for var read in reads {
            switch result.outcome {
            case .ready(let index):
                read.index = index
                readsAwaitingApply.append(read)
            case .failed(.noLeader):
                answer(read.request, .failed(.noLeader(retryAfterMilliseconds: options.electionTimeoutMilliseconds)))
            case .failed(let failure):
                answer(read.request, .failed(.readNotConfirmed(failure)))
            }
        }
    }

    /// Serves every read whose read index is applied and whose minimum revision is reached.
    mutating func serveReadyReads() {
        guard !readsAwaitingApply.isEmpty else { return }
        let applied = raft.appliedIndex
        let revision = registry.revision
        var waiting: [PendingRead] = []
        for read in readsAwaitingApply {
            if read.index <= applied && revision >= (read.options.minRevision ?? .zero) {
                serve(read)
            } else {
                waiting.append(read)
            }
        }
        readsAwaitingApply = waiting
    }

    mutating func serve(_ read: PendingRead) {
        guard let query = read.query else {
            return answer(read.request, .readBarrierPassed(appliedIndex: registry.lastAppliedIndex))
        }
        answer(read.request, evaluate(query, options: read.options))
    }

    /// The answer to a serializable read that this node may give from its applied state at once, without a turn
    /// through the Ready loop; nil when the read must be submitted instead (the node is still catching up to the
    /// state it served before a restart, or the read waits for a revision it has not applied).
    ///
    /// Why: submitted, such a read cost the shell a timer and a pending request, and the driver a queued read and
    /// a response, for the answer `serve` would compute from the same applied state in the same loop turn. Every
    /// write this node acknowledged is applied before its answer leaves, so a client still reads its own writes.
    public func answerLocally(_ query: RegistryQuery, options readOptions: ReadOptions) -> NodeResponse? {
        guard readOptions.consistency == .serializable,
            raft.allowsLocalReads || options.faults.contains(.localAnswersWithoutFence),
            registry.revision >= (readOptions.minRevision ?? .zero)
        else { return nil }
        return evaluate(query, options: readOptions)
    }

    /// A read's answer from the applied state; a lease's remaining TTL is the leader's own countdown.
    func evaluate(_ query: RegistryQuery, options readOptions: ReadOptions) -> NodeResponse {
        let isLeader = raft.role == .leader
        let now = self.now
        return registry.answer(query, options: readOptions, leaderContactAgeMilliseconds: leaderContactAge) { lease in
            isLeader ? keeper.remainingMilliseconds(lease, nowMilliseconds: now) : nil
        }
    }
}
