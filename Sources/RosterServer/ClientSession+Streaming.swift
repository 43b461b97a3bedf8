import Posix
import RosterAPI

/// Streaming a large answer to the session's connection as it drains; see `StreamedAnswer`.
extension ClientSession {
    /// Starts streaming `body`; its first piece goes out on the next loop turn, so a caller in the middle
    /// of a catch-up or a request never sees the answer finish (and the session move on) under its feet.
    func startStreaming(_ body: ResponseStream, completion: StreamedAnswer.Completion) {
        guard let connection, !connection.isClosed else { return }
        precondition(answer == nil, "session \(id) starts a streamed answer while another streams")
        let streamed = StreamedAnswer(body, completion: completion, now: MonotonicClock.milliseconds())
        answer = streamed
        let interval = Self.stallCheckInterval(server.configuration.clientStall)
        streamed.stallTimer = connection.loop.schedule(after: interval, repeating: interval) { [weak self] in
            self?.checkStall()
        }
        _ = connection.loop.schedule(after: .zero) { [weak self] in self?.pumpAnswer() }
    }

    /// A watch stream's resync line too large to write whole: live events and catch-up pause until it is
    /// written (the stream counts as backed up), then resume from the line's revision.
    func streamLine(_ body: ResponseStream, of stream: WatchStream) {
        stream.isBackedUp = true
        startStreaming(body, completion: .resumeWatch)
    }

    /// Writes what the connection takes now; on the loop thread, after a drain or a yielded turn.
    func pumpAnswer() {
        guard let answer, let connection, !connection.isClosed else { return }
        switch answer.pump(into: connection, cache: &server.instanceCache) {
        case .finished:
            finishStreaming(answer, connection: connection)
        case .waitingForDrain:
            break  // `link(_:didChangeBackPressure:)` calls back.
        case .yielded:
            _ = connection.loop.schedule(after: .zero) { [weak self] in self?.pumpAnswer() }
        }
    }

    private func finishStreaming(_ finished: StreamedAnswer, connection: any ClientLink) {
        if let timer = finished.stallTimer { connection.loop.cancel(timer) }
        answer = nil
        for chunk in finished.held where !connection.isClosed { connection.write(chunk) }
        guard !connection.isClosed else { return }
        switch finished.completion {
        case .nextRequest:
            afterAnswer()
        case .resumeWatch:
            guard case .watch(let stream) = mode, !connection.isOverLimit else { return }
            stream.isBackedUp = false
            server.watchStreamDrained(stream)
        }
    }

    /// Cuts a reader that took nothing for the stall bound while our buffer was full.
    private func checkStall() {
        guard let answer, let connection, !connection.isClosed else { return }
        let stalled = answer.stalledMilliseconds(connection, now: MonotonicClock.milliseconds())
        let bound = server.configuration.clientStallMilliseconds
        guard stalled >= UInt64(bound) else { return }
        cut(connection, reason: "it read nothing of a streamed answer for \(stalled) ms (bound --client-stall-ms \(bound))")
    }

    /// Closes the connection at once, logging the peer and why.
    func cut(_ connection: any ClientLink, reason: String) {
        server.logger.warning(
            "cut a client connection", ["peer": "\(connection.peer)", "session": id, "reason": reason])
        connection.closeNow()
    }

    /// A quarter of the bound (at least 10 ms), so a stall is noticed within 1.25 bounds.
    static func stallCheckInterval(_ bound: Duration) -> Duration {
        max(bound / 4, .milliseconds(10))
    }
}
