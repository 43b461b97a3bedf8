import EtcdGateway
import HTTP
import HTTP2
import Posix
import Raft
import Registry
import RosterAPI
import RosterNode

/// Graceful shutdown on SIGTERM/SIGINT: stop accepting, hand leadership over, snapshot, stop the loop.
extension RosterServer {
    /// SIGTERM/SIGINT arrive through a signalfd on the loop, so shutdown runs on the loop thread.
    func installSignalHandler() throws {
        let signals = try SignalFD(signals: [SignalNumber.terminate, SignalNumber.interrupt])
        self.signals = signals
        try loop.register(signals.descriptor, interest: .readable) { [unowned self] _ in
            self.beginShutdown(signal: signals.next() ?? 0)
        }
    }

    /// Stops accepting, hands leadership away if leading, then stops the loop.
    func beginShutdown(signal: Int32) {
        guard !isShuttingDown else { return }
        isShuttingDown = true
        logger.info("shutting down", ["signal": "\(signal)", "role": "\(lastStatus.raft.role)"])
        listener?.close()
        for session in grpcSessions.values { session.grpc?.shutDown() }
        if let target = withDriver({ $0.prepareShutdown() }) { logger.info("transferring leadership", ["to": "\(target)"]) }
        waitForHandOff(deadline: MonotonicClock.seconds() + 3)
    }

    private func waitForHandOff(deadline: Double) {
        if lastStatus.raft.role != .leader || MonotonicClock.seconds() > deadline || lastStatus.raft.configuration.voters.count < 2 {
            // Leave a snapshot at the applied index: the next start then replays no log tail.
            driver.snapshotApplied()
            transport.close()
            driver.environment.storage.close()
            clientLoops?.shutdown()
            loop.stop()
            return
        }
        _ = loop.schedule(after: .milliseconds(50)) { [unowned self] in self.waitForHandOff(deadline: deadline) }
    }
}
