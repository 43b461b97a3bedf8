import RosterNode

// MARK: - Periodic snapshots, written off the node's loop

extension Simulator {
    /// Steps a snapshot's encoding-and-write or its report take: up to two ticks each, so entries apply, leaders
    /// change and snapshots arrive from the leader while one is under way, as on a loaded server.
    mutating func snapshotWriteDelay() -> Int {
        1 + Int(random.next() % UInt64(2 * options.unitsPerTick))
    }

    /// Carries each node's periodic snapshot one phase further when its step comes: first the worker's write of the
    /// file, then the report to the driver (`NodeDriver.snapshotWritten`), which compacts.
    mutating func advanceSnapshotWrites() throws(Violation) {
        for id in order where nodes[id].isUp {
            guard var write = nodes[id].snapshotWrite, write.due <= now else { continue }
            if let data = write.data {
                nodes[id].snapshotWrite = nil
                trace?("t\(now) snapshot written \(name(id)) at \(write.capture.metadata.index)")
                try input(id) { $0.snapshotWritten(write.capture.metadata, data: data) }
                continue
            }
            let data = write.capture.encode()
            do {
                try nodes[id].box.driver.environment.disk.writeFile(of: write.capture.snapshot(data: data))
            } catch {
                throw Violation(step: now, property: error.property, detail: error.detail)
            }
            write.data = data
            write.due = now + snapshotWriteDelay()
            nodes[id].snapshotWrite = write
        }
    }
}
