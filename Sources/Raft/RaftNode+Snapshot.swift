// MARK: - Snapshots (Raft §7, thesis §5)

extension RaftNode {
    /// Compacts the log: the application has captured its state after applying `index` in `data`.
    ///
    /// - Returns: the snapshot, which the shell MUST persist (storage may then drop the entries it
    ///   covers). Until it is persisted, storage still holds the older snapshot and the entries, so a
    ///   crash in between loses nothing.
    public mutating func compact(through index: LogIndex, data: [UInt8]) -> Snapshot {
        precondition(!isReadyInFlight, "compact() between drainReady() and advance(past:)")
        precondition(index <= log.appliedIndex, "snapshot at \(index) beyond applied \(log.appliedIndex)")
        precondition(index >= log.base.index, "snapshot at \(index) below the current one at \(log.base.index)")
        let metadata = snapshotMetadata(through: index)
        log.compact(to: metadata, data: data)
        configurationHistory.removeAll { $0.index < index }
        if configurationHistory.first?.index != index {
            configurationHistory.insert((index, metadata.configuration), at: 0)
        }
        return Snapshot(metadata: metadata, data: data)
    }

    /// What a snapshot of the applied state through `index` records: that entry's term and the configuration
    /// in force there. The same value `compact(through:data:)` gives the snapshot, so a shell can write the
    /// snapshot's file before it compacts (see `NodeDriver.snapshotWritten`).
    public func snapshotMetadata(through index: LogIndex) -> SnapshotMetadata {
        precondition(index <= log.appliedIndex, "snapshot at \(index) beyond applied \(log.appliedIndex)")
        guard let entryTerm = log.term(at: index) else { preconditionFailure("no term at \(index)") }
        return SnapshotMetadata(index: index, term: entryTerm, configuration: configuration(at: index))
    }

    /// A node started to join an existing cluster knows no configuration until the leader's snapshot
    /// arrives; until then it accepts no entries.
    var isJoining: Bool { configuration.members.isEmpty }

    func configuration(at index: LogIndex) -> Configuration {
        guard let match = configurationHistory.last(where: { $0.index <= index }) else {
            preconditionFailure("no configuration at \(index); history starts at \(configurationHistory[0].index)")
        }
        return match.configuration
    }

    /// Starts (or restarts, if the leader compacted again meanwhile) sending the log base snapshot.
    mutating func startSnapshot(to member: NodeID) {
        guard var state = progress[member] else { return }
        if case .snapshot(let index, _) = state.state, index == log.base.index {
            return  // Already under way; heartbeat responses resend lost chunks.
        }
        state.becomeSnapshot(index: log.base.index)
        progress[member] = state
        sendSnapshotChunks(to: member)
    }

    /// Sends the chunks after the last one sent, up to `snapshotChunksInFlight` ahead of the follower's
    /// acknowledgement. The follower takes chunks only in order (TCP keeps them so) and answers one out of order
    /// with the offset it needs; a chunk lost on the way is sent again once a heartbeat interval passes without
    /// progress (`resendSnapshotIfStalled`).
    mutating func sendSnapshotChunks(to member: NodeID) {
        guard var state = progress[member], case .snapshot(let index, let acknowledged) = state.state else { return }
        guard index == log.base.index else {
            startSnapshot(to: member)
            return
        }
        let data = log.baseData
        let total = UInt64(data.count)
        let window = UInt64(options.snapshotChunksInFlight) * UInt64(options.snapshotChunkBytes)
        var offset = max(state.snapshotSentOffset ?? acknowledged, acknowledged)
        // An empty snapshot is still one chunk (empty, and the last).
        var isFirst = state.snapshotSentOffset == nil
        while (offset < total || (isFirst && total == 0)) && offset - acknowledged < window {
            let start = Int(offset)
            let end = min(start + options.snapshotChunkBytes, data.count)
            let chunk = SnapshotChunk(
                metadata: log.base, totalBytes: total, offset: offset, data: Array(data[start..<end]))
            send(to: member, .snapshotChunk(chunk), afterPersist: false)
            offset = UInt64(end)
            isFirst = false
        }
        state.snapshotSentOffset = offset
        progress[member] = state
    }

    /// On a heartbeat answer from a follower receiving a snapshot: if it acknowledged nothing since the previous
    /// answer, a chunk was lost (a dropped connection, a full send queue), so send again from what it has.
    mutating func resendSnapshotIfStalled(to member: NodeID) {
        guard var state = progress[member], case .snapshot(_, let acknowledged) = state.state else { return }
        if acknowledged == state.snapshotOffsetAtLastHeartbeat { state.snapshotSentOffset = nil }
        state.snapshotOffsetAtLastHeartbeat = acknowledged
        progress[member] = state
        sendSnapshotChunks(to: member)
    }

    mutating func handleSnapshotResponse(from member: NodeID, _ response: SnapshotResponse) {
        guard var state = progress[member] else { return }
        state.ticksSinceContact = 0
        if response.isComplete {
            _ = state.acknowledge(response.snapshotIndex)
            state.becomeProbe()
            progress[member] = state
            sendAppends(to: member, evenIfEmpty: true)
            return
        }
        guard case .snapshot(let index, let acknowledged) = state.state, index == response.snapshotIndex else {
            progress[member] = state
            return
        }
        if response.nextOffset < acknowledged {
            // The follower lost what it had received (it restarted): start again from where it is.
            state.snapshotSentOffset = nil
        }
        state.state = .snapshot(index: index, nextOffset: response.nextOffset)
        progress[member] = state
        sendSnapshotChunks(to: member)
    }

    mutating func handleSnapshotChunk(from sender: NodeID, _ chunk: SnapshotChunk) {
        let metadata = chunk.metadata
        if metadata.index <= log.commitIndex && !isJoining {
            // We already have everything it covers.
            let done = SnapshotResponse(snapshotIndex: metadata.index, nextOffset: chunk.totalBytes, isComplete: true)
            send(to: sender, .snapshotResponse(done), afterPersist: true)
            return
        }
        if snapshotReceiver?.metadata != metadata {
            snapshotReceiver = chunk.offset == 0 ? Snapshot(metadata: metadata, data: []) : nil
        }
        guard let received = snapshotReceiver?.data.count, UInt64(received) == chunk.offset else {
            let expected = UInt64(snapshotReceiver?.data.count ?? 0)
            let resume = SnapshotResponse(snapshotIndex: metadata.index, nextOffset: expected, isComplete: false)
            send(to: sender, .snapshotResponse(resume), afterPersist: true)
            return
        }
        // Taken out before appending, so the bytes received so far are not copied for every chunk (with a copy
        // left behind in `snapshotReceiver`, each append copied them all: quadratic in the snapshot's size).
        var receiving = snapshotReceiver.take()!
        receiving.data.append(contentsOf: chunk.data)
        guard chunk.isLast else {
            snapshotReceiver = receiving
            let next = SnapshotResponse(snapshotIndex: metadata.index, nextOffset: UInt64(receiving.data.count), isComplete: false)
            send(to: sender, .snapshotResponse(next), afterPersist: true)
            return
        }
        snapshotReceiver = nil
        install(receiving)
        let done = SnapshotResponse(snapshotIndex: metadata.index, nextOffset: chunk.totalBytes, isComplete: true)
        send(to: sender, .snapshotResponse(done), afterPersist: true)
    }

    mutating func install(_ snapshot: Snapshot) {
        log.restore(snapshot)
        configuration = snapshot.metadata.configuration
        configurationHistory = [(snapshot.metadata.index, configuration)]
    }
}
