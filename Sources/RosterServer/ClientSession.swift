import HTTP
import HTTP2
import Posix
import Registry
import RosterAPI
import RosterNode

/// One client connection: HTTP/1.1 requests answered in order, or, once a watch or a streamed
/// keepalive starts, a chunked NDJSON stream that holds the connection.
///
/// Streams that take client lines (the streamed keepalive, the multiplexed watch stream) read them
/// raw from the connection after the request: the request has no body, and the lines are NDJSON.
///
/// Requests on one connection are served one at a time (a pipelined request waits in the parser's
/// buffer until the previous answer is written), which keeps answers in request order. A large answer
/// is streamed as the connection drains (`StreamedAnswer`); the next request waits until it is queued
/// whole.
final class ClientSession: ClientLinkDelegate {
    enum Mode {
        case http
        case watch(WatchStream)
        case keepAliveStream(LeaseID)
        /// HTTP/2 with prior knowledge: etcd's v3 gRPC API.
        case grpc(GRPCConnection)
    }

    /// Tells HTTP/1.1 from h2c by the first bytes, when the Raft loop carries the connection.
    private var prefaceProbe = PrefaceProbe()

    /// The CN of the client's TLS certificate, the user of requests without a token under `--client-cert-auth`.
    var certificateCommonName: String? {
        connection?.peerCommonName
    }

    var grpc: GRPCConnection? {
        if case .grpc(let connection) = mode { connection } else { nil }
    }

    let id: UInt64
    unowned let server: RosterServer
    private(set) weak var connection: (any ClientLink)?
    private var parser: HTTPRequestParser
    private(set) var mode = Mode.http
    /// The request being served; further requests wait in the parser.
    private(set) var current: RequestID?
    private var currentKeepsAlive = true
    /// Whether the last request read (GET): the Raft loop's own connection then moves to an I/O loop.
    private var lastRequestReads = false
    private var idleTimer: TimerID?
    private var lineBuffer: [UInt8] = []
    /// The large answer being streamed; while set, no other bytes reach the socket.
    var answer: StreamedAnswer?

    init(id: UInt64, server: RosterServer, parserLimits: HTTPParserLimits) {
        self.id = id
        self.server = server
        self.parser = HTTPRequestParser(limits: parserLimits)
    }

    // MARK: - ClientLinkDelegate

    func linkDidConnect(_ connection: any ClientLink) {
        self.connection = connection
        armIdleTimer(partial: true)
    }

    func link(_ connection: any ClientLink, didRead bytes: UnsafeRawBufferPointer) {
        self.connection = connection
        switch mode {
        case .http:
            switch prefaceProbe.inspect(bytes) {
            case .undecided: return
            case .http2(let early):
                // The Raft loop's own connection: etcd's clients keep one for every call, reads too, so it moves to an
                // I/O loop with what was read so far, whose HTTP/2 layer answers reads there (`GRPCFront`).
                if server.moveToIOLoop(self, from: connection, unread: early + Array(bytes)) {
                    prefaceProbe = PrefaceProbe()
                    disarmIdleTimer()
                    return
                }
                return switchToHTTP2(early: early, bytes: bytes)
            case .http1(let early): if !early.isEmpty { early.withUnsafeBytes { parser.append($0) } }
            case .alreadyDecided: break
            }
            parser.append(bytes)
            serveNext()
        case .grpc(let grpc):
            grpc.receive(bytes)
        case .keepAliveStream(let lease):
            lineBuffer.append(contentsOf: bytes)
            keepAliveLines(lease)
        case .watch(let stream) where stream.kind == .multiplexed:
            lineBuffer.append(contentsOf: bytes)
            controlLines(stream)
        case .watch:
            break  // A single watch's client has nothing to say; ignore what it sends.
        }
    }

    func link(_ connection: any ClientLink, didReceiveHTTP2 events: [HTTP2Event], progress: [StreamProgress]) {
        self.connection = connection
        if case .http = mode, !prefaceProbe.isDecided, let relayed = connection as? RelayedConnection {
            // The I/O loop saw the HTTP/2 preface and runs the connection's HTTP/2 layer (`GRPCFront`).
            disarmIdleTimer()
            prefaceProbe.decide()
            mode = .grpc(GRPCConnection(server: server, session: self, relay: relayed))
            server.grpcSessions[id] = self
        }
        guard case .grpc(let grpc) = mode else { return }
        grpc.receive(events, progress: progress)
    }

    func link(_ connection: any ClientLink, didChangeBackPressure isOverLimit: Bool) {
        if case .grpc(let grpc) = mode {
            if !isOverLimit { grpc.drained() }
            return
        }
        if answer != nil {
            // Its completion resumes the watch stream or the next request.
            if !isOverLimit { pumpAnswer() }
            return
        }
        guard case .watch(let stream) = mode else { return }
        stream.isBackedUp = isOverLimit
        if !isOverLimit { server.watchStreamDrained(stream) }
    }

    func link(_ connection: any ClientLink, didCloseWith reason: Connection.CloseReason) {
        disarmIdleTimer()
        server.logClientRefusal(reason, peer: connection.peer)
        if let timer = answer?.stallTimer { connection.loop.cancel(timer) }
        answer = nil
        if reason == .outboundOverflow {
            server.logger.warning(
                "closed a client connection: answers it did not read passed the outbound bound, and the last was dropped",
                ["peer": "\(connection.peer)", "bound_bytes": connection.limits.outboundMaxBytes])
        }
        server.sessionClosed(self)
    }

    /// The client sent the HTTP/2 preface: from now on this connection carries etcd gRPC calls.
    private func switchToHTTP2(early: [UInt8], bytes: UnsafeRawBufferPointer) {
        disarmIdleTimer()
        let grpc = GRPCConnection(server: server, session: self)
        mode = .grpc(grpc)
        server.grpcSessions[id] = self
        if !early.isEmpty { early.withUnsafeBytes { grpc.receive($0) } }
        grpc.receive(bytes)
    }

    // MARK: - Requests

    /// How deep `serveNext` runs inside itself: a request answered at once (a serializable read, a health check)
    /// starts the next pipelined request from inside its own answer.
    private var serveDepth = 0
    private var isServeScheduled = false
    /// Past this depth the next request starts on the next loop turn instead, so a client that pipelines thousands
    /// of requests answered at once cannot run the loop thread out of stack.
    static let maximumServeDepth = 32

    /// Parses and starts the next request, if no request is in progress.
    func serveNext() {
        guard current == nil, answer == nil, case .http = mode, let connection, !connection.isClosed else { return }
        guard serveDepth < Self.maximumServeDepth else {
            guard !isServeScheduled else { return }
            isServeScheduled = true
            _ = connection.loop.schedule(after: .zero) { [weak self] in
                self?.isServeScheduled = false
                self?.serveNext()
            }
            return
        }
        serveDepth += 1
        defer { serveDepth -= 1 }
        let request: HTTPRequest
        do {
            guard let next = try parser.nextRequest() else {
                if parser.isIdle {
                    // Once the protocol is known to be HTTP/1.1, the I/O loop may answer the next reads itself; a
                    // connection the Raft loop carries moves to one once it reads (`RosterServer.moveToIOLoop`).
                    if prefaceProbe.isDecided,
                        connection.handOverIdle() || (lastRequestReads && server.moveToIOLoop(self, from: connection))
                    {
                        disarmIdleTimer()
                    } else {
                        armIdleTimer()
                    }
                } else if !isTimingPartialRequest {
                    armIdleTimer(partial: true)
                }
                return
            }
            request = next
        } catch {
            finish(APIAdapter.parseError(error), keepAlive: false)
            return
        }
        disarmIdleTimer()
        currentKeepsAlive = request.keepAlive
        lastRequestReads = request.method == "GET"
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
        afterAnswer(keepAlive: keepAlive)
    }

    /// Writes an answer, whole or streamed; a streamed one moves on to the next request when it is done.
    func finish(_ reply: APIAdapter.Answer) {
        switch reply {
        case .whole(let bytes):
            finish(bytes)
        case .streamed(let body):
            current = nil
            startStreaming(body, completion: .nextRequest)
        }
    }

    /// Closes after the answer when either side asked to, else serves the next pipelined request.
    func afterAnswer(keepAlive: Bool = true) {
        guard let connection, !connection.isClosed else { return }
        if !keepAlive || !currentKeepsAlive {
            connection.closeAfterFlush()
            return
        }
        serveNext()
    }

    // MARK: - Streams

    /// Writes the stream's head; lines the client sent right behind its request (still in the parser)
    /// are taken as the stream's first client lines.
    func beginStream(_ mode: Mode, head: [UInt8]) {
        self.mode = mode
        connection?.write(head)
        let early = parser.takeBufferedBytes()
        guard !early.isEmpty else { return }
        switch mode {
        case .keepAliveStream(let lease):
            lineBuffer.append(contentsOf: early)
            keepAliveLines(lease)
        case .watch(let stream) where stream.kind == .multiplexed:
            lineBuffer.append(contentsOf: early)
            controlLines(stream)
        case .http, .watch, .grpc:
            break
        }
    }

    /// Writes whole lines as one chunk: one send for everything one publish has for this connection.
    func writeWatchLine(_ line: [UInt8]) {
        guard let connection, !connection.isClosed, !line.isEmpty else { return }
        var chunk: [UInt8] = []
        chunk.reserveCapacity(line.count + 12)
        HTTPResponseWriter.writeChunk(line, into: &chunk)
        writeWatchChunk(chunk)
    }

    /// Writes bytes already framed as a chunk, shared with other connections; held behind a streaming
    /// answer, so it never lands inside one.
    func writeWatchChunk(_ chunk: [UInt8]) {
        guard let connection, !connection.isClosed else { return }
        guard let answer else {
            connection.write(chunk)
            return
        }
        if !answer.hold(chunk) {
            cut(connection, reason: "more than \(StreamedAnswer.heldLimitBytes) bytes of lines waited behind a streamed answer")
        }
    }

    /// One renewal per complete keepalive line.
    private func keepAliveLines(_ lease: LeaseID) {
        while let newline = lineBuffer.firstIndex(of: 0x0A) {
            lineBuffer.removeSubrange(...newline)
            server.streamKeepAlive(lease, session: self)
        }
        if lineBuffer.count > 4_096 { endWatch(code: "bad_request", message: "keepalive lines must be short") }
    }

    /// Hands every complete control line to the server; a line that ends the stream drops the rest.
    private func controlLines(_ stream: WatchStream) {
        var start = 0
        while let newline = lineBuffer[start...].firstIndex(of: 0x0A) {
            server.watchControl(lineBuffer[start..<newline], stream: stream)
            start = newline + 1
            guard case .watch(let current) = mode, current === stream, !stream.isClosed else {
                lineBuffer = []
                return
            }
        }
        lineBuffer.removeFirst(start)
        if lineBuffer.count > WatchControl.maximumLineBytes {
            let error = APIError.controlLineTooLong(lineBuffer.count)
            lineBuffer = []
            endWatch(code: error.code, message: error.message)
        }
    }

    /// Ends a stream with an error line, then closes the connection.
    func endWatch(code: String, message: String) {
        guard let connection, !connection.isClosed else { return }
        guard answer == nil else {
            // Mid-line: an error line now would corrupt the resync, so the connection ends without one.
            if case .watch(let stream) = mode { server.stopWatchStream(stream) }
            mode = .http
            cut(connection, reason: "the watch ended (\(code)) while a resync line was being streamed")
            return
        }
        writeWatchLine(APIAdapter.streamErrorLine(code: code, message: message))
        var end: [UInt8] = []
        HTTPResponseWriter.writeEnd(into: &end)
        connection.write(end)
        connection.closeAfterFlush()
        if case .watch(let stream) = mode { server.stopWatchStream(stream) }
        mode = .http
    }

    /// Answers a long poll (a watch in `.longPoll` mode) and returns to plain HTTP.
    func completeLongPoll(events: [RegistryEvent], revision: Revision) {
        guard case .watch(let stream) = mode, let watcher = stream.watchers.first else { return }
        server.stopWatchStream(stream)
        mode = .http
        finish(server.encodeLongPoll(events: events, revision: revision, includePrevious: watcher.spec.includePrevious))
    }

    /// Ends a long poll whose index left the history window with the `resync` answer.
    func completeLongPollResync(items: [KeyValue], revision: Revision) {
        guard case .watch(let stream) = mode else { return }
        server.stopWatchStream(stream)
        mode = .http
        finish(APIAdapter.longPollResync(items: items, revision: revision, context: server.context))
    }

    /// Starts a long poll: like a watch, but answered once.
    func beginLongPoll(_ stream: WatchStream) {
        mode = .watch(stream)
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
            guard let self, let connection = self.connection, case .http = self.mode, self.current == nil,
                self.answer == nil
            else { return }
            // A partial request that never completes (slowloris), or an idle keep-alive connection.
            if self.parser.isIdle {
                connection.closeNow()
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
