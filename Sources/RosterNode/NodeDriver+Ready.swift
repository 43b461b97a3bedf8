import Codec
import Raft
import Registry

// MARK: - The Ready loop

extension NodeDriver {
    /// Carries out every pending Ready in the order `Ready` prescribes, then serves what became
    /// servable and takes a snapshot when one is due. The one Ready executor: the server and the
    /// simulator both run it, with persistence behind `NodeEnvironment.persist` (a `ReadyLog`).
    ///
    /// Inputs (`tick`, `receive`, `submit`, …) only queue work; the shell calls this once after a
    /// batch of them, so every request that arrived together shares one Ready and one fsync (group
    /// commit).
    ///
    /// - Returns: Everything the shell must carry out, queued by the inputs since the last call and by
    ///   the Readies: sends, forwards, answers, registry changes and member changes, in order. Sends
    ///   the shell took out of `queued` in `persist` are not in it again.
    public mutating func processReady() -> NodeEffects {
        startFollowUps()
        requestReadIndexForQueuedReads()
        while raft.hasReady {
            let ready = raft.drainReady(persistingInBackground: persistsNextReadyInBackground())
            // 1. Messages that may leave before the Ready is durable (the leader's appends, §10.2.1).
            effects.messages += ready.messages
            if ready.persistsInBackground {
                // 2. and 3. once the write is durable (`persisted(ticket:)`).
                persistInBackground(ready)
            } else {
                // 2. Persist; the environment may send what is queued first.
                environment.persist(ready, queued: &effects)
                if environment.hasStopped { return takeEffects() }
                // 3. Messages that promise durability (votes, acknowledgements): only now may they be queued.
                effects.messages += ready.messagesAfterPersist
            }
            // 4. Apply, then tell Raft, then serve the reads it confirmed.
            if commitNoticesBeforeApply(ready) { environment.sendEarly(&effects) }
            if let snapshot = ready.snapshotToInstall { install(snapshot) }
            for entry in ready.committedEntries { apply(entry) }
            raft.advance(past: ready)
            for result in ready.readResults { readConfirmed(result) }
            noticeRoleChange(ready.status)
            failForwardsToFormerLeader()
            startFollowUps()
            requestReadIndexForQueuedReads()
        }
        serveReadyReads()
        compactIfDue()
        return takeEffects()
    }

    /// Whether a leader's commit notices should leave before it applies `ready`'s entries: when a follower waits on one
    /// of them to answer the write it forwarded. The notice is that follower's answer, while applying (and answering
    /// this node's own clients) takes the leader's loop tens of microseconds; otherwise the leader's own answers
    /// leave first (`RosterServer.carryOut`).
    func commitNoticesBeforeApply(_ ready: Ready) -> Bool {
        guard ready.status.role == .leader, let first = ready.committedEntries.first, !effects.messages.isEmpty else { return false }
        return first.index <= newestForwardedIndex
    }

    /// Hands the queued effects over, leaving none queued.
    private mutating func takeEffects() -> NodeEffects {
        var taken = NodeEffects()
        swap(&taken, &effects)
        return taken
    }

    mutating func install(_ snapshot: Snapshot) {
        do {
            registry = snapshot.data.isEmpty
                ? RegistryState(limits: options.registryLimits, layouts: options.registryLayouts)
                : try RegistryState.restore(from: snapshot.data, limits: options.registryLimits, layouts: options.registryLayouts)
        } catch {
            // The leader's own snapshot does not decode: continuing would diverge, so stop.
            preconditionFailure("snapshot at \(snapshot.metadata.index) from the leader does not decode: \(error)")
        }
        snapshotBytes = snapshot.data.count
        appliedBytesSinceSnapshot = 0
        forgetPeerRegistrations(through: snapshot.metadata.index)
        environment.log(.info, "installed snapshot at index \(snapshot.metadata.index), revision \(registry.revision)")
        effects.changes.append(.replaced(revision: registry.revision))
        refreshMembers()
    }

    mutating func apply(_ entry: Entry) {
        switch entry.payload {
        case .noop:
            resolveWrite(at: entry, with: nil)
            resolveAdmin(at: entry)
        case .membership:
            resolveWrite(at: entry, with: nil)
            resolveAdmin(at: entry)
            refreshMembers()
        case .command(let bytes):
            appliedBytesSinceSnapshot += bytes.count
            let command: RegistryCommand
            do {
                command = try RegistryCommand.decode(bytes, limits: options.registryLimits)
            } catch {
                // The leader validated these bytes before proposing them; a committed entry that does
                // not decode means corruption or an incompatible version: stop rather than diverge.
                preconditionFailure("committed entry \(entry.index)@\(entry.term) does not decode: \(error)")
            }
            let result = registry.apply(command, at: entry.index.rawValue)
            if raft.role == .leader || followerCountsLeases {
                keeper.observe(command, result: result, nowMilliseconds: now)
                if case .checkpointLeases(let checkpoints) = command, entry.term < raft.term {
                    // Found by the whole-node simulator (seed 23 before the election-rank change; the
                    // scenario is kept in LeaseKeeperTests): a leader elected by a transfer took over before
                    // applying its predecessor's last checkpoint, which restored a renewed lease's full TTL
                    // before that renewal was acknowledged; counting down from the older checkpoint, it
                    // expired the lease before its TTL had passed since the keepalive.
                    keeper.adoptPredecessorCheckpoints(checkpoints, nowMilliseconds: now)
                }
            }
            if case .applied(let applied) = result, !applied.events.isEmpty {
                effects.changes.append(.applied(applied.events, revision: applied.revision))
                if applied.events.contains(where: { $0.key.starts(with: MemberDirectory.prefix) }) { refreshMembers() }
            }
            if case .checkpointLeases(let checkpoints) = command { releaseKeepAlives(after: checkpoints) }
            resolveWrite(at: entry, with: result)
            resolveAdmin(at: entry)
        }
    }

    /// Answers the client whose write was appended at this index.
    mutating func resolveWrite(at entry: Entry, with result: CommandResult?) {
        if !grantsInFlight.isEmpty { grantsInFlight.applied(through: entry.index) }
        if !pipelinedGrants.isEmpty { resolvePipelinedGrant(at: entry, with: result) }
        if !peerRegistrationGrants.isEmpty || !peerRegistrationEntries.isEmpty { resolvePeerRegistration(at: entry, with: result) }
        guard let waiting = writesAwaitingApply.removeValue(forKey: entry.index) else { return }
        guard waiting.term == entry.term, let result else {
            answer(waiting.request, .failed(.notApplied))
            return
        }
        switch result {
        case .applied(let applied): answer(waiting.request, .written(applied))
        case .rejected(let rejection): answer(waiting.request, .rejected(rejection, evaluatedAt: registry.revision))
        }
    }

    mutating func refreshMembers() {
        let directory = MemberDirectory.members(initial: options.initialMembers, registry: registry)
        if directory != members {
            members = directory
            effects.members = members
        }
    }

    mutating func noticeRoleChange(_ status: RaftStatus) {
        let isLeader = status.role == .leader
        guard isLeader != wasLeader else { return }
        wasLeader = isLeader
        if isLeader || followerCountsLeases {
            leaderFirstIndex = raft.lastIndex
            keeper.becomeLeader(state: registry, nowMilliseconds: now)
            environment.log(.info, "became leader in term \(status.term)")
        } else {
            keeper.stepDown()
            // In lease order, not the dictionary's (seeded per process): the refusals are forwarded effects.
            for (lease, waiters) in keepAlivesAwaitingCheckpoint.sorted(by: { $0.key < $1.key }) {
                for waiter in waiters { replyKeepAlive(waiter.reply, lease: lease, ttl: nil, failure: "leadership lost before the renewal was checkpointed") }
            }
            keepAlivesAwaitingCheckpoint = [:]
            environment.log(.info, "no longer leader (term \(status.term), leader \(status.leader.map { "\($0)" } ?? "unknown"))")
        }
    }

    /// Starts a periodic snapshot once `snapshotEveryEntries` entries were applied since the last one: captures the
    /// applied state for the shell to encode and write off the loop (`NodeEffects.snapshotToWrite`). The log is
    /// compacted only when the file is durable (`snapshotWritten`); until then storage keeps the entries.
    mutating func compactIfDue() {
        let applied = raft.appliedIndex
        guard snapshotBeingWritten == nil,
            applied.rawValue >= raft.snapshotMetadata.index.rawValue + options.snapshotEveryEntries,
            options.snapshotLogShare == 0 || snapshotBytes < options.snapshotLogShareFloorBytes
                || appliedBytesSinceSnapshot * options.snapshotLogShare >= snapshotBytes
                || appliedBytesSinceSnapshot >= options.snapshotLogCapBytes
        else { return }
        registry.releaseSpareCapacity()
        let capture = SnapshotCapture(metadata: raft.snapshotMetadata(through: applied), state: registry)
        snapshotBeingWritten = capture.metadata
        appliedBytesSinceSnapshot = 0
        effects.snapshotToWrite = capture
    }

    /// The shell made the file of the capture at `metadata` durable (`SnapshotWriter`); `data` is its encoded state.
    /// Compacts Raft's log through the capture's index and has storage adopt the file, unless a newer snapshot took
    /// its place meanwhile (one installed from the leader, or `snapshotApplied`): then storage deletes it. Call
    /// between driver calls, never inside one, for the capture `snapshotToWrite` handed out last. The shell should
    /// drop the capture first: its state shares storage with the registry, which the next writes then copy.
    public mutating func snapshotWritten(_ metadata: SnapshotMetadata, data: [UInt8]) {
        precondition(snapshotBeingWritten == metadata, "snapshotWritten for a capture the driver did not hand out")
        snapshotBeingWritten = nil
        guard metadata.index > raft.snapshotMetadata.index else {
            environment.discardSnapshot(metadata)
            return
        }
        // Planted fault: labels what Raft sends lagging followers with the index applied by now, later than the
        // state's; a follower installing it misses the entries in between.
        let through = options.faults.contains(.snapshotLabelledAtCompletion) ? raft.appliedIndex : metadata.index
        let snapshot = raft.compact(through: through, data: data)
        snapshotBytes = data.count
        environment.adoptSnapshot(Snapshot(metadata: metadata, data: data))
        environment.log(.info, "snapshot at index \(snapshot.metadata.index), \(data.count) bytes")
    }

    /// Snapshots the applied state, as the periodic snapshot does, if anything was applied since the last
    /// one, and on this thread. A graceful stop calls it last, so that the next start restores one snapshot and
    /// has no log tail to decode and apply (up to `snapshotEveryEntries` entries otherwise). Safe at any point
    /// outside a Ready: it captures only applied, hence committed, entries, and storage keeps the entries after it.
    /// A periodic snapshot still being written is then discarded when it is reported.
    public mutating func snapshotApplied() {
        guard raft.appliedIndex > raft.snapshotMetadata.index else { return }
        let applied = raft.appliedIndex
        registry.releaseSpareCapacity()
        let snapshot = raft.compact(through: applied, data: registry.snapshotBytes())
        snapshotBytes = snapshot.data.count
        appliedBytesSinceSnapshot = 0
        environment.saveSnapshot(snapshot)
        environment.log(.info, "snapshot at index \(applied), revision \(registry.revision), \(snapshot.data.count) bytes")
    }
}
