import Raft
import Registry
import RosterNode

// MARK: - What nodes publish: history, lease expiries, watches

extension Simulator {
    /// Opens a watch of every key on `node` from a revision it has applied.
    mutating func openWatch(on node: NodeID) throws(Violation) {
        let revision = nodes[node].box.driver.registry.revision
        let from = Revision(Int64(random.next() % UInt64(revision.rawValue + 1)))
        nodes[node].watch = SimWatch(from: from, delivered: from)
        trace?("t\(now) watch \(name(node)) from \(from) (at \(revision))")
        try catchUp(node)
    }

    /// Reads a watch forward from the registry's history (a new watch, or one whose node installed a
    /// snapshot); a compacted start resyncs the watch at the current revision.
    mutating func catchUp(_ node: NodeID) throws(Violation) {
        guard var watch = nodes[node].watch, nodes[node].isUp else { return }
        let registry = nodes[node].box.driver.registry
        while watch.delivered < registry.revision {
            let batch: WatchBatch
            do {
                batch = try registry.events(after: watch.delivered, matching: .all)
            } catch {
                throw nodeChecker.violation("watch", "node \(name(node)) refused a watch from \(watch.delivered): \(error)")
            }
            switch batch {
            case .resync(_, let revision):
                watch = SimWatch(from: revision, delivered: revision)
            case .events(let events, let through):
                var position = 0
                while position < events.count {
                    let revision = events[position].revision
                    let end = events[position...].firstIndex { $0.revision != revision } ?? events.count
                    try deliver(Array(events[position..<end]), at: revision, to: &watch, on: node)
                    position = end
                }
                watch.delivered = through
            }
        }
        nodes[node].watch = watch
    }

    mutating func deliver(_ events: [RegistryEvent], at revision: Revision, to watch: inout SimWatch, on node: NodeID) throws(Violation) {
        guard revision > watch.delivered else {
            throw nodeChecker.violation("watch order", "node \(name(node)) delivered revision \(revision) after \(watch.delivered)")
        }
        guard nodeChecker.watchableAt[revision] == NodeChecker.digest(events) else {
            throw nodeChecker.violation("watch history", "node \(name(node)) delivered other events at revision \(revision) than were applied")
        }
        watch.delivered = revision
        watch.deliveredRevisions.append(revision)
        statistics.watchedEvents += events.count
    }

    /// What a node published while applying: canonical history, lease expiries, and its watch.
    mutating func notify(_ node: NodeID, _ changes: [RegistryChange]) throws(Violation) {
        var resynced = false
        for change in changes {
            switch change {
            case .applied(let events, let revision):
                try nodeChecker.recordEvents(events, at: revision, on: node)
                for event in events where event.cause == .leaseExpired {
                    guard let lease = event.previous?.lease else { continue }
                    statistics.expiredLeases += 1
                    if try nodeChecker.leaseExpired(lease, at: nowMilliseconds) { try checkGrace(lease, expiredOn: node) }
                }
                let watchable = NodeChecker.watchable(events)
                guard !watchable.isEmpty, var watch = nodes[node].watch, !(resynced && revision <= watch.delivered) else { continue }
                try deliver(watchable, at: revision, to: &watch, on: node)
                nodes[node].watch = watch
            case .replaced(let revision):
                statistics.snapshotsInstalled += 1
                trace?("t\(now) \(name(node)) installed a snapshot at \(revision)")
                resynced = true
                try catchUp(node)
            }
        }
    }

    /// A leader that has applied the entries of earlier terms (so the expiry is its own) expires no
    /// lease before the floor it found on taking over.
    func checkGrace(_ lease: LeaseID, expiredOn node: NodeID) throws(Violation) {
        guard let since = leaderSince, since.id == node, since.readyAt != nil, let floor = leaseFloors[lease] else { return }
        guard nowMilliseconds >= floor else {
            throw nodeChecker.violation(
                "lease grace", "leader \(name(node)) of term \(since.term) expired lease \(lease) \(floor - nowMilliseconds) ms before "
                    + "its replicated remaining TTL plus the election grace had passed since it took over")
        }
    }

    /// Every watch delivered each revision with events in its window exactly once.
    func checkWatchesComplete() throws(Violation) {
        for id in order {
            guard let watch = nodes[id].watch else { continue }
            let expected = nodeChecker.eventRevisions(after: watch.from, through: watch.delivered)
            guard expected == watch.deliveredRevisions else {
                let missing = expected.filter { !watch.deliveredRevisions.contains($0) }
                throw nodeChecker.violation(
                    "watch gap", "watch on \(name(id)) from \(watch.from) through \(watch.delivered) missed revisions \(missing)")
            }
        }
    }
}
