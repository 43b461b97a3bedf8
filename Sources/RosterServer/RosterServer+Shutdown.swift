import CLinuxShim
import EtcdGateway
import HTTP
import HTTP2
import Posix
import Raft
import Registry
import RosterAPI
import RosterNode

#if canImport(Glibc)
    import Glibc
#endif

/// Graceful shutdown on SIGTERM/SIGINT: stop accepting, hand leadership over, snapshot, stop the loop.
extension RosterServer {
    /// SIGTERM/SIGINT arrive through a signalfd on the loop, so shutdown runs on the loop thread.
    func installSignalHandler() throws {
        var mask = sigset_t()
        sigemptyset(&mask)
        sigaddset(&mask, SIGTERM)
        sigaddset(&mask, SIGINT)
        pthread_sigmask(SIG_BLOCK, &mask, nil)
        let descriptor = signalfd(-1, &mask, Int32(SFD_NONBLOCK | SFD_CLOEXEC))
        guard descriptor >= 0 else { throw SystemError(errno: errno, operation: "signalfd") }
        try loop.register(descriptor, interest: .readable) { [unowned self] _ in
            var info = signalfd_siginfo()
            _ = withUnsafeMutableBytes(of: &info) { read(descriptor, $0.baseAddress, $0.count) }
            self.beginShutdown(signal: Int32(info.ssi_signo))
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
        waitForHandOff(deadline: MonotonicSeconds.now() + 3)
    }

    private func waitForHandOff(deadline: Double) {
        if lastStatus.raft.role != .leader || MonotonicSeconds.now() > deadline || lastStatus.raft.configuration.voters.count < 2 {
            // Leave a snapshot at the applied index: the next start then replays no log tail.
            driver.snapshotApplied()
            transport.close()
            driver.environment.storage.close()
            loop.stop()
            return
        }
        _ = loop.schedule(after: .milliseconds(50)) { [unowned self] in self.waitForHandOff(deadline: deadline) }
    }
}
