import EtcdGateway
import HTTP
import HTTP2
import Posix
import Raft
import Registry
import RosterAPI
import RosterNode

/// Client connections and requests: accepting, routing, submitting to the driver, and answering.
extension RosterServer {
    func accept(_ socket: Socket, peer: SocketAddress) {
        guard !isShuttingDown else {
            socket.close()
            return
        }
        guard sessions.count < configuration.maxConnections else {
            refuseOverLimit(socket, peer: peer)
            return
        }
        let session = ClientSession(id: nextSessionID, server: self, parserLimits: parserLimits)
        nextSessionID += 1
        do {
            let security = try clientSecurity(peer: peer)
            if let clientLoops, !raftLoopTakesConnection(secured: security != nil) {
                clientLoops.adopt(socket, peer: peer, security: security, delegate: session)
            } else {
                _ = try Connection.adopt(socket, peer: peer, on: loop, security: security, delegate: DirectLink(session))
                if clientLoops != nil { sessionOnRaftLoop = session.id }
            }
            sessions[session.id] = session
            metrics.clientConnections = sessions.count
        } catch {
            logger.warning("could not adopt a client connection", ["peer": "\(peer)", "error": "\(error)"])
        }
    }

    /// Whether the Raft loop carries the next plaintext connection itself although I/O loops run (TLS connections always
    /// go to an I/O loop, whose core then does their cryptography): when it carries none. A
    /// client that writes is then served where its writes are handled, without the two hand-offs between threads a
    /// relayed request pays (one waking the Raft loop, one waking the I/O loop with the answer); once it reads, its
    /// connection moves to an I/O loop (`moveToIOLoop`). Measured on one member with two I/O threads, 2 cores, one HTTP
    /// client registering (2026-12-06, fresh members alternating, 4 s): every connection relayed 3,443–3,678/s and
    /// 0.27 ms at the median, this way 5,599–5,605/s and 0.17 ms (`scripts/bench --single-member --baseline-bin`, 18:42
    /// UTC: 5,508–5,932 against 4,890–5,180/s; 16 and 64 clients and reads within the rounds' scatter). Why only one
    /// connection, and why it moves once it reads: with a share of them on the Raft loop (the first, then one in five)
    /// or one reader kept there, 16 clients' reads lost about a tenth (the same benchmark, 18:28 and 18:35 UTC): the
    /// Raft loop answers a read at more cost than an I/O loop, and competes with both I/O loops for the two cores.
    private func raftLoopTakesConnection(secured: Bool) -> Bool {
        configuration.raftLoopKeepsAConnection && !secured && sessionOnRaftLoop == nil
    }

    /// Moves the Raft loop's own connection to an I/O loop once its client reads, or at once when it speaks HTTP/2
    /// (etcd's gRPC clients send every call, reads too, on one connection): reads are what the I/O loops answer
    /// without the Raft loop (from the published view), and more cheaply than the Raft loop does, which must not
    /// spend on one client's reads the core the I/O loops need. Its place goes to the next new connection. Only an
    /// idle plaintext HTTP/1.1 connection with nothing queued moves (`Connection.detach`); otherwise it stays, and
    /// is tried again after its next read.
    /// `unread`: what the session read and has not served (an HTTP/2 preface and what followed), for the I/O loop.
    func moveToIOLoop(_ session: ClientSession, from link: any ClientLink, unread: [UInt8] = []) -> Bool {
        guard let clientLoops, sessionOnRaftLoop == session.id, let connection = link as? Connection,
            let socket = connection.detach()
        else { return false }
        sessionOnRaftLoop = nil
        clientLoops.adopt(socket, peer: connection.peer, security: nil, delegate: session, unread: unread)
        return true
    }

    /// Answers a connection over `--max-connections` with a 503 (`too_many_connections`, `Retry-After`) and
    /// closes it, so the client learns why instead of seeing a bare reset.
    private func refuseOverLimit(_ socket: Socket, peer: SocketAddress) {
        metrics.connectionsRefused += 1
        if metrics.connectionsRefused == 1 || metrics.connectionsRefused.isMultiple(of: 1000) {
            logger.warning(
                "refusing client connections over --max-connections",
                ["limit": "\(configuration.maxConnections)", "peer": "\(peer)",
                 "refused_total": "\(metrics.connectionsRefused)"])
        }
        if let error = socket.answerAndClose(APIAdapter.tooManyConnections(limit: configuration.maxConnections)) {
            logger.debug("could not answer a refused connection", ["peer": "\(peer)", "error": "\(error)"])
        }
    }

    func sessionClosed(_ session: ClientSession) {
        sessions[session.id] = nil
        if sessionOnRaftLoop == session.id { sessionOnRaftLoop = nil }
        if grpcSessions.removeValue(forKey: session.id) != nil { session.grpc?.closed() }
        metrics.clientConnections = sessions.count
        if case .watch(let stream) = session.mode { stopWatchStream(stream) }
        if let request = session.current, pending.removeValue(forKey: request) != nil {
            withDriver { $0.cancel(request) }
        }
    }

    /// Routes one HTTP request and starts serving it.
    func handle(_ request: HTTPRequest, session: ClientSession) {
        let routed = APIAdapter.route(request, limits: registry.limits)
        metrics.requests[APIAdapter.kind(of: routed), default: 0] += 1
        var user: String?
        if registry.auth.isEnabled {
            switch authorize(routed, request: request, session: session) {
            case .failure(let rejection):
                session.finish(APIAdapter.error(APIError(auth: rejection), context: context))
                return
            case .success(let identified):
                user = identified
            }
        }
        switch routed {
        case .node(let nodeRequest):
            if case .read(let query, let options) = nodeRequest, let response = answerLocally(query, options: options) {
                return session.finish(APIAdapter.answer(response, context: context, cache: &instanceCache))
            }
            submit(nodeRequest, session: session, kind: .plain)
        case .prometheusTargets(let query, let options, let ifNoneMatch):
            submit(.read(query, options), session: session, kind: .prometheusTargets(ifNoneMatch: ifNoneMatch))
        case .watch(let spec):
            startWatch(spec, session: session, user: user)
        case .watchStream(let options):
            startWatchStream(options, session: session, user: user)
        case .auth(let authRequest):
            serveHTTPAuth(authRequest, token: Self.bearerToken(request), session: session, what: "\(request.method) \(request.path)")
        case .keepAliveStream(let lease):
            session.beginStream(.keepAliveStream(lease), head: APIAdapter.streamHead(context: context))
            streamKeepAlive(lease, session: session)
        case .health:
            session.finish(APIAdapter.health(context: context))
        case .ready:
            session.finish(APIAdapter.readiness(isReady: isReady, status: lastStatus, context: context))
        case .metrics:
            session.finish(APIAdapter.metrics(metricsText(), context: context))
        case .clusterStatus:
            session.finish(APIAdapter.status(lastStatus, name: configuration.name, context: context))
        case .members:
            session.finish(
                APIAdapter.members(
                    membersWithClientAddresses, configuration: lastStatus.raft.configuration, leader: lastStatus.raft.leader,
                    clusterID: clusterID, context: context))
        case .snapshot:
            serveSnapshot(session: session)
        case .alarms:
            session.finish(APIAdapter.alarms(AlarmDirectory.alarms(in: registry), context: context))
        case .console(let console):
            session.finish(ConsoleResponse.encode(console, context: context).bytes(keepAlive: true))
        case .error(let error):
            session.finish(APIAdapter.error(error, context: context), keepAlive: error.status.code < 500 && error.status.code != 400)
        }
    }

    var isReady: Bool {
        lastStatus.raft.leader != nil && lastStatus.raft.appliedIndex >= lastStatus.raft.commitIndex
            && lastStatus.raft.allowsLocalReads
    }

    var context: ResponseContext {
        APIAdapter.context(lastStatus)
    }

    /// A serializable read's answer from the applied state, at once (see `NodeDriver.answerLocally`); nil when the
    /// read must be submitted.
    func answerLocally(_ query: RegistryQuery, options: ReadOptions) -> NodeResponse? {
        // Checked here too, so a linearizable read does not pay for the clock reads below.
        guard options.consistency == .serializable, !isShuttingDown else { return nil }
        let started = MonotonicClock.seconds()
        guard let response = driver.answerLocally(query, options: options) else { return nil }
        metrics.requestLatency.observe(MonotonicClock.seconds() - started)
        return response
    }

    /// Hands a request to the node; its answer comes back through `complete`.
    /// - Parameter timeout: how long the request may wait for its answer; the server's request timeout if nil.
    func submit(_ request: NodeRequest, session: ClientSession?, kind: Pending.Kind, timeout: Duration? = nil) {
        guard !isShuttingDown else {
            session?.finish(APIAdapter.encode(.failed(.shuttingDown), context: context), keepAlive: false)
            return
        }
        // A client's write was authorized in this loop turn, at the current auth revision; it applies only while
        // auth is still there (`RegistryCommand.authChecked`). The node's own work is not a client's.
        var request = request
        if registry.auth.isEnabled, !kind.isBackground {
            request = request.checked(atAuthRevision: registry.auth.revision)
        }
        let id = RequestID(nextRequestID)
        nextRequestID += 1
        let timer = loop.schedule(after: timeout ?? requestTimeout) { [unowned self] in self.timeOut(id) }
        pending[id] = Pending(session: session, kind: kind, startedAt: MonotonicClock.seconds(), timer: timer, isWrite: request.isWrite)
        switch kind {
        case .plain, .prometheusTargets: session?.begin(id)
        case .streamedKeepAlive, .background, .grpc, .grpcKeepAlive, .readBarrier: break
        }
        withDriver { $0.submit(request, id: id) }
    }

    /// Submits an etcd call's node request; nil when the node refuses new work (shutting down).
    /// - Parameter timeoutMilliseconds: The call's `grpc-timeout`, when shorter than the request timeout.
    func submitGRPC(_ request: NodeRequest, session: ClientSession, kind: Pending.Kind, timeoutMilliseconds: UInt64?)
        -> RequestID?
    {
        guard !isShuttingDown else { return nil }
        let id = RequestID(nextRequestID)
        // The request's one timer is armed with the shorter of the two timeouts (rather than armed with the
        // request timeout, cancelled and armed again: two timer operations per call saved).
        var timeout: Duration?
        if let timeoutMilliseconds, timeoutMilliseconds < UInt64(configuration.requestTimeoutMilliseconds) {
            timeout = .milliseconds(timeoutMilliseconds)
        }
        submit(request, session: session, kind: kind, timeout: timeout)
        return id
    }

    /// Forgets an etcd call's request (its stream was reset or its connection closed).
    func cancelGRPC(_ id: RequestID) {
        guard let waiting = pending.removeValue(forKey: id) else { return }
        if let timer = waiting.timer { loop.cancel(timer) }
        withDriver { $0.cancel(id) }
    }

    /// Who answers in etcd response headers.
    var etcdHeaderContext: EtcdHeaderContext {
        EtcdHeaderContext(
            clusterID: clusterID, memberID: ownID.rawValue, raftTerm: lastStatus.raft.term.rawValue)
    }

    func timeOut(_ id: RequestID) {
        guard let waiting = pending[id] else { return }
        pending[id]?.timer = nil
        withDriver { $0.cancel(id) }
        let failure: NodeFailure =
            waiting.isWrite ? .indeterminate(reason: "no answer within \(configuration.requestTimeoutMilliseconds) ms") : .timedOut
        complete(id, .failed(failure))
    }

    /// Asks the node for a read barrier on behalf of the linearizable reads that I/O loop `index` holds
    /// (`ReadBarriers`), with the request timeout; when the node refuses new work the loop hears at once.
    func submitReadBarrier(loop index: Int, token: UInt64) {
        guard !isShuttingDown else {
            clientLoops?.send(.readBarrierPassed(token: token, appliedIndex: nil), to: index)
            return
        }
        submit(.readBarrier, session: nil, kind: .readBarrier(loop: index, token: token))
    }

    /// Delivers the node's answer to whoever waits for it.
    func complete(_ id: RequestID, _ response: NodeResponse) {
        guard let waiting = pending.removeValue(forKey: id) else { return }
        if let timer = waiting.timer { loop.cancel(timer) }
        if case .readBarrier(let index, let token) = waiting.kind {
            // Not a client's request: the reads it stands for are timed where they are answered.
            var appliedIndex: UInt64?
            if case .readBarrierPassed(let applied) = response {
                appliedIndex = applied
                // Its reads are answered from a view at or after that index: one is published before the answer
                // leaves (the gate was moved to this Ready's state before its answers were handed out).
                clientLoops?.localReads.wantView()
                publishLocalReadsIfWanted()
            }
            clientLoops?.send(.readBarrierPassed(token: token, appliedIndex: appliedIndex), to: index)
            return
        }
        metrics.requestLatency.observe(MonotonicClock.seconds() - waiting.startedAt)
        let session = waiting.session
        switch waiting.kind {
        case .plain:
            session?.finish(APIAdapter.answer(response, context: context, cache: &instanceCache))
        case .streamedKeepAlive:
            session?.writeWatchLine(APIAdapter.keepAliveLine(response))
        case .background:
            break
        case .prometheusTargets(let ifNoneMatch):
            session?.finish(APIAdapter.prometheusTargets(response, ifNoneMatch: ifNoneMatch, context: context))
        case .grpc(let stream, let reply):
            session?.grpc?.complete(id, stream: stream, reply: reply, response: response)
        case .grpcKeepAlive(let stream, let lease):
            session?.grpc?.completeKeepAlive(id, stream: stream, lease: lease, response: response)
        case .readBarrier:
            break  // answered above
        }
    }
}
