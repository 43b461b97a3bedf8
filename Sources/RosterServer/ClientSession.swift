import HTTP
import Posix
import Registry
import RosterAPI
import RosterNode

/// One client connection: HTTP/1.1 requests answered in order, or, once a watch or a streamed
/// keepalive starts, a chunked NDJSON stream that holds the connection.
///
/// Requests on one connection are served one at a time (a pipelined request waits in the parser's
/// buffer until the previous answer is written), which keeps answers in request order.
final class ClientSession: ConnectionDelegate {
    enum Mode {
        case http
        case watch(WatchHub.Watcher)
        case keepAliveStream(LeaseID)
    }

    let id: UInt64
    unowned let server: RosterServer
    private(set) weak var connection: Connection?
    private var parser: HTTPRequestParser
    private(set) var mode = Mode.http
    /// The request being served; further requests wait in the parser.
    private(set) var current: RequestID?
    private var currentKeepsAlive = true
    private var idleTimer: TimerID?
    private var lineBuffer: [UInt8] = []

    init(id: UInt64, server: RosterServer, parserLimits: HTTPParserLimits) {
        self.id = id
        self.server = server
        self.parser = HTTPRequestParser(limits: parserLimits)
    }

    // MARK: - ConnectionDelegate

    func connectionDidConnect(_ connection: Connection) {
        self.connection = connection
        armIdleTimer(partial: true)
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        self.connection = connection
        switch mode {
        case .http:
            parser.append(bytes)
            serveNext()
        case .keepAliveStream(let lease):
            lineBuffer.append(contentsOf: bytes)
            while let newline = lineBuffer.firstIndex(of: 0x0A) {
                lineBuffer.removeSubrange(...newline)
                server.streamKeepAlive(lease, session: self)
            }
            if lineBuffer.count > 4_096 { endWatch(code: "bad_request", message: "keepalive lines must be short") }
        case .watch:
            break  // A watch client has nothing to say; ignore what it sends.
        }
    }

    func connection(_ connection: Connection, didChangeBackPressure isOverLimit: Bool) {
        guard case .watch(let watcher) = mode else { return }
        watcher.isBackedUp = isOverLimit
        if !isOverLimit { server.watcherDrained(watcher) }
    }

    func connection(_ connection: Connection, didCloseWith reason: Connection.CloseReason) {
        disarmIdleTimer()
        server.sessionClosed(self)
    }

    // MARK: - Requests

    /// Parses and starts the next request, if no request is in progress.
    func serveNext() {
        guard current == nil, case .http = mode, let connection, !connection.isClosed else { return }
        let request: HTTPRequest
        do {
            guard let next = try parser.nextRequest() else {
                if parser.isIdle { armIdleTimer() } else if !isTimingPartialRequest { armIdleTimer(partial: true) }
                return
            }
            request = next
        } catch {
            finish(APIAdapter.parseError(error), keepAlive: false)
            return
        }
        disarmIdleTimer()
        currentKeepsAlive = request.keepAlive
        server.handle(request, session: self)
    }

    /// Marks a request as being served by the node.
    func begin(_ request: RequestID) {
        current = request
    }

    /// Writes a complete answer and moves on to the next request.
    func finish(_ bytes: [UInt8], keepAlive: Bool = true) {
        current = nil
        guard let connection, !connection.isClosed else { return }
        connection.write(bytes)
        if !keepAlive || !currentKeepsAlive {
            connection.closeAfterFlush()
            return
        }
        serveNext()
    }

    // MARK: - Streams

    func beginStream(_ mode: Mode, head: [UInt8]) {
        self.mode = mode
        connection?.write(head)
    }

    func writeWatchLine(_ line: [UInt8]) {
        guard let connection, !connection.isClosed, !line.isEmpty else { return }
        var chunk: [UInt8] = []
        HTTPResponseWriter.writeChunk(line, into: &chunk)
        connection.write(chunk)
    }

    /// Ends a stream with an error line, then closes the connection.
    func endWatch(code: String, message: String) {
        guard let connection, !connection.isClosed else { return }
        writeWatchLine(APIAdapter.streamErrorLine(code: code, message: message))
        var end: [UInt8] = []
        HTTPResponseWriter.writeEnd(into: &end)
        connection.write(end)
        connection.closeAfterFlush()
        if case .watch(let watcher) = mode { server.stopWatch(watcher) }
        mode = .http
    }

    /// Answers a long poll (a watch in `.longPoll` mode) and returns to plain HTTP.
    func completeLongPoll(events: [RegistryEvent], revision: Revision) {
        guard case .watch(let watcher) = mode else { return }
        server.stopWatch(watcher)
        mode = .http
        finish(server.encodeLongPoll(events: events, revision: revision, includePrevious: watcher.spec.includePrevious))
    }

    /// Starts a long poll: like a watch, but answered once.
    func beginLongPoll(_ watcher: WatchHub.Watcher) {
        mode = .watch(watcher)
    }

    // MARK: - Slow or silent clients

    /// Whether the armed timer is the short one for a request still arriving.
    private var isTimingPartialRequest = false

    /// Arms the timer that closes a connection that stays idle (long), or whose request does not
    /// complete in time (short: a slowloris client trickling bytes).
    private func armIdleTimer(partial: Bool = false) {
        disarmIdleTimer()
        guard let connection else { return }
        isTimingPartialRequest = partial
        idleTimer = connection.loop.schedule(after: partial ? server.requestTimeout : server.idleTimeout) { [weak self] in
            guard let self, let connection = self.connection, case .http = self.mode, self.current == nil else { return }
            // A partial request that never completes (slowloris), or an idle keep-alive connection.
            if self.parser.isIdle {
                connection.close()
            } else {
                connection.write(APIAdapter.requestTimeout())
                connection.closeAfterFlush()
            }
        }
    }

    private func disarmIdleTimer() {
        if let idleTimer, let connection { connection.loop.cancel(idleTimer) }
        idleTimer = nil
        isTimingPartialRequest = false
    }
}
