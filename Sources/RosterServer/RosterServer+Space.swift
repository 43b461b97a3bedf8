import Posix
import RosterNode

/// The NOSPACE alarm's trigger: this member watches its own state size and free disk space and, past
/// `--quota-bytes` or below `--min-free-bytes`, raises the alarm as a replicated write, so every member
/// refuses writes that add data (`AlarmDirectory`). The alarm stays until an operator disarms it; a member
/// still short of space raises it again at its next check.
extension RosterServer {
    /// How often the bounds are checked: often enough that a fast writer cannot run far past the quota, rarely
    /// enough that the statvfs call costs nothing.
    static let spaceCheckInterval = Duration.milliseconds(500)

    func startSpaceMonitor() {
        guard configuration.quotaBytes > 0 || configuration.minFreeBytes > 0 else { return }
        _ = loop.schedule(after: Self.spaceCheckInterval, repeating: Self.spaceCheckInterval) { [unowned self] in
            self.checkSpace()
        }
    }

    /// Raises NOSPACE for this member when a bound is passed and its alarm is not already in force.
    func checkSpace() {
        guard !isShuttingDown, let shortage = spaceShortage() else { return }
        let name = configuration.name
        guard !AlarmDirectory.alarms(in: registry).contains(where: { $0.member == name }) else { return }
        logger.warning(
            "raising the NOSPACE alarm: writes that add data are refused cluster-wide until it is disarmed",
            ["reason": shortage, "fix": "delete data and compact, or free disk space, then `rosterctl alarm disarm`"])
        submit(.write(AlarmDirectory.raiseNoSpace(member: name)), session: nil, kind: .background)
    }

    /// Which bound is passed, in words, or nil when both hold.
    func spaceShortage() -> String? {
        let stateBytes = driver.environment.storage.snapshotBytes
        if configuration.quotaBytes > 0 && stateBytes > configuration.quotaBytes {
            return "the state (newest snapshot) is \(stateBytes) bytes, over --quota-bytes \(configuration.quotaBytes)"
        }
        guard configuration.minFreeBytes > 0 else { return nil }
        do {
            let free = try FileSystemSpace.availableBytes(at: configuration.dataDirectory)
            if free < UInt64(configuration.minFreeBytes) {
                return "\(configuration.dataDirectory) has \(free) bytes free, under --min-free-bytes \(configuration.minFreeBytes)"
            }
        } catch {
            logger.warning("cannot read the free space of the data directory", ["error": "\(error)"])
        }
        return nil
    }
}
