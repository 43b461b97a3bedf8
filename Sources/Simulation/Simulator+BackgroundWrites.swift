import RosterNode

// MARK: - Readies written in the background, finishing some steps later

extension Simulator {
    /// Reports each node's background writes that finished by now to its driver (`NodeDriver.persisted(ticket:)`),
    /// or crashes the node whose write a power loss tore.
    mutating func advanceBackgroundWrites() throws(Violation) {
        for id in order where nodes[id].isUp {
            guard let first = nodes[id].box.driver.environment.backgroundWrites.first, first.due <= nowMilliseconds else { continue }
            nodes[id].box.driver.environment.nowMilliseconds = nowMilliseconds
            let finished = nodes[id].box.driver.environment.finishDueBackgroundWrites()
            let environment = nodes[id].box.driver.environment
            if let problem = environment.problem { throw Violation(step: now, property: problem.property, detail: problem.detail) }
            if environment.hasStopped {
                crash(id, reason: "crash in a background write of")
                continue
            }
            if let finished {
                trace?("t\(now) \(name(id)) wrote through ticket \(finished)")
                try input(id) { $0.persisted(ticket: finished) }
            }
        }
    }
}
