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

/// A running Roster node: the node driver, its storage, the peer transport, the client listener and
/// the watch streams, all owned by the thread that runs `loop`.
///
/// Every input (a tick, a peer message, a client request) only queues work in the driver; one
/// `processReady()` per loop iteration then persists, sends and applies everything queued together,
/// so concurrent requests share one fsync. Nothing here blocks except that fsync.
public final class RosterServer {
    public let configuration: ServerConfiguration
    let logger: Logger
    let loop: EventLoop
    let outbox = DriverOutbox()
    var driver: NodeDriver<ServerEnvironment>!
    var transport: PeerTransport!
    var listener: Listener?
    let watchHub = WatchHub()
    var metrics = Metrics()
    /// Instances' JSON for listings; see `InstanceJSONCache` for why it can never answer stale bytes.
    var instanceCache = InstanceJSONCache()
    var sessions: [UInt64: ClientSession] = [:]
    /// Client addresses the peers announced in their hellos, for member listings on every member.
    var peerClientAddresses: [NodeID: String] = [:]
    /// The member directory with every client address this node knows: its own, the ones the directory
    /// records, and the ones peers announced.
    var membersWithClientAddresses: [Member] {
        lastStatus.members.map { member in
            var member = member
            if member.id == configuration.ownID { member.clientAddress = configuration.clientAddress.description }
            if member.clientAddress == nil { member.clientAddress = peerClientAddresses[member.id] }
            return member
        }
    }
    /// The sessions speaking HTTP/2 (etcd's gRPC API), which receive applied events for their watches.
    var grpcSessions: [UInt64: ClientSession] = [:]
    var pending: [RequestID: Pending] = [:]
    var nextRequestID: UInt64 = 1
    var nextSessionID: UInt64 = 1
    var isInsideDriver = false
    var deferredWork: [() -> Void] = []
    var isFlushScheduled = false
    /// Forwards the driver sent since the last flush, written at its start: one write per peer for a
    /// whole loop iteration. Before `processReady`, so a leader's answer to a forwarded write still
    /// reaches the follower ahead of the append that carries the entry.
    var pendingForwards: [(ForwardMessage, NodeID)] = []
    var leaseTimer: (id: TimerID, at: UInt64)?
    var lastStatus: NodeStatus!
    var isShuttingDown = false
    let requestTimeout: Duration
    let idleTimeout: Duration = .seconds(60)
    let parserLimits: HTTPParserLimits

    /// What a request in flight is waiting for, and what to do with the answer.
    struct Pending {
        weak var session: ClientSession?
        var kind: Kind
        var startedAt: Double
        var timer: TimerID?
        var isWrite: Bool

        enum Kind {
            case plain
            /// The lease grant of a registration with a TTL; the registration follows.
            case grantThenRegister(ServiceInstance)
            /// The registration after its lease grant; a rejection revokes the lease.
            case registerAfterGrant(LeaseID)
            /// One renewal of a streamed keepalive: answered with an NDJSON line.
            case streamedKeepAlive
            /// Internal follow-up work nobody waits for.
            case background
            /// A unary etcd call on an HTTP/2 stream of the session.
            case grpc(StreamID, EtcdReply)
            /// One keepalive of an etcd `LeaseKeepAlive` stream (the lease ID as the client sent it).
            case grpcKeepAlive(StreamID, Int64)
        }
    }

    /// Opens storage, binds the listeners and starts the node on `loop` (which must not run yet).
    public init(configuration: ServerConfiguration, loop: EventLoop, logger: Logger) throws {
        self.configuration = configuration
        self.loop = loop
        self.logger = logger
        self.requestTimeout = configuration.requestTimeout
        var limits = HTTPParserLimits()
        limits.bodyBytes = configuration.maxRequestBytes
        self.parserLimits = limits
        let members = configuration.members
        let ownID = configuration.ownID
        let (storage, persisted) = try NodeStorage.open(
            directory: configuration.dataDirectory, clusterID: configuration.clusterID, member: ownID,
            initialConfiguration: Configuration(voters: members.map(\.id)), isJoining: configuration.join, logger: logger)
        transport = try PeerTransport(
            loop: loop, ownID: ownID, clusterID: configuration.clusterID, listenAddress: configuration.peerAddress,
            members: members, options: configuration.peerTransportOptions, logger: logger)
        let environment = ServerEnvironment(
            storage: storage, outbox: outbox, logger: logger,
            sendMessage: { [unowned self] message in self.transport.send(message) },
            sendForward: { [unowned self] forward, peer in
                self.pendingForwards.append((forward, peer))
                self.scheduleFlush()
            })
        var options = NodeOptions(
            id: ownID, raft: configuration.raftOptions, tickMilliseconds: UInt64(configuration.heartbeatMilliseconds),
            initialMembers: members)
        options.snapshotEveryEntries = UInt64(configuration.snapshotEntries)
        options.registryLimits.requestBytes = configuration.maxRequestBytes
        options.registryLimits.historyRevisions = Int64(configuration.historyRevisions)
        options.registryLimits.historyEvents = configuration.historyEvents
        options.registryLimits.historyBytes = configuration.historyBytes
        options.unsafeAcknowledgeBeforeCommit = configuration.unsafeAcknowledgeBeforeCommit
        if options.unsafeAcknowledgeBeforeCommit {
            logger.warning("UNSAFE: --unsafe-ack-before-commit answers writes before they commit; acknowledged writes can be lost")
        }
        driver = try NodeDriver(options: options, persisted: persisted, environment: environment, randomSeed: MonotonicSeconds.milliseconds())
        lastStatus = driver.status
        transport.onMessage = { [unowned self] message in self.peerMessage(message) }
        transport.onForward = { [unowned self] forward, peer in self.peerForward(forward, from: peer) }
        transport.onPeerDown = { [unowned self] peer in self.peerDown(peer) }
        transport.onPeerUp = { [unowned self] peer in self.withDriver { $0.peerConnected(peer) } }
        transport.ownClientAddress = configuration.clientAddress.description
        transport.onPeerClientAddress = { [unowned self] peer, address in self.peerClientAddresses[peer] = address }
        drainOutbox()
        listener = try Listener(
            on: configuration.clientAddress, loop: loop,
            onError: { [unowned self] error in self.logger.warning("accept failed", ["error": "\(error)"]) },
            onAccept: { [unowned self] socket, peer in self.accept(socket, peer: peer) })
        _ = loop.schedule(after: configuration.tick, repeating: configuration.tick) { [unowned self] in self.tick() }
        // Apply the committed entries the log holds beyond the snapshot now, not at the first tick, so a
        // restarted node is caught up by the time its leader reaches it.
        scheduleFlush()
        try installSignalHandler()
        logger.info(
            "started", ["client": "\(configuration.clientAddress)", "peer": "\(configuration.peerAddress)",
                        "members": members.map(\.description).joined(separator: ",")])
    }

    // MARK: - Driver access

    /// Runs `body` on the driver, or later if the driver is already running (a callback from inside
    /// it), and schedules the Ready loop for the end of this loop iteration.
    func withDriver(_ body: @escaping (inout NodeDriver<ServerEnvironment>) -> Void) {
        guard !isInsideDriver else {
            deferredWork.append { [unowned self] in self.withDriver(body) }
            return
        }
        isInsideDriver = true
        body(&driver)
        isInsideDriver = false
        scheduleFlush()
    }

    func scheduleFlush() {
        guard !isFlushScheduled else { return }
        isFlushScheduled = true
        _ = loop.schedule(after: .zero) { [unowned self] in self.flush() }
    }

    /// One Ready loop for everything queued, then the answers, events and follow-ups it produced.
    func flush() {
        isFlushScheduled = false
        sendPendingForwards()
        isInsideDriver = true
        driver.processReady()
        isInsideDriver = false
        lastStatus = driver.status
        armLeaseTimer()
        drainOutbox()
        runDeferred()
    }

    func sendPendingForwards() {
        guard !pendingForwards.isEmpty else { return }
        let forwards = pendingForwards
        pendingForwards.removeAll(keepingCapacity: true)
        var peers: [NodeID] = []
        for (_, peer) in forwards where !peers.contains(peer) { peers.append(peer) }
        for peer in peers { transport.send(forwards.filter { $0.1 == peer }.map(\.0), to: peer) }
    }

    /// Wakes the leader at its next lease deadline rather than at the next tick, so an expired lease's
    /// instances go away within a commit latency of the TTL's end. One timer, moved earlier as needed;
    /// a wake-up that finds nothing due (a renewed lease) re-arms for the next deadline.
    func armLeaseTimer() {
        guard let due = driver.nextLeaseExpiryMilliseconds else { return }
        if let armed = leaseTimer {
            guard due < armed.at else { return }
            loop.cancel(armed.id)
        }
        let now = MonotonicSeconds.milliseconds()
        let delay = due > now ? due - now : 0
        let id = loop.schedule(after: .milliseconds(delay)) { [unowned self] in
            self.leaseTimer = nil
            self.withDriver { $0.proposeDueLeaseCommands() }
        }
        leaseTimer = (id, due)
    }

    func drainOutbox() {
        for seconds in outbox.fsyncSeconds { metrics.fsync.observe(seconds) }
        outbox.fsyncSeconds.removeAll()
        if let members = outbox.members {
            outbox.members = nil
            transport?.update(members: members)
        }
        let now = MonotonicSeconds.milliseconds()
        if outbox.stateReplaced {
            // A snapshot replaced the state: the batches may not follow on from what watchers have, and
            // the registry already holds all of them, so everyone reads from it instead.
            outbox.stateReplaced = false
            outbox.events.removeAll()
            watchHub.catchUpAll(registry: driver.registry, now: now)
            for session in grpcSessions.values { session.grpc?.catchUpWatches(registry: driver.registry) }
        } else if !outbox.events.isEmpty {
            watchHub.publish(outbox.events, now: now)
            for session in grpcSessions.values where session.grpc?.hasWatches == true {
                session.grpc?.publish(outbox.events, registry: driver.registry)
            }
            outbox.events.removeAll()
        }
        let responses = outbox.responses
        outbox.responses.removeAll()
        for (request, response) in responses { complete(request, response) }
    }

    // MARK: - Time

    func tick() {
        withDriver { $0.tick() }
        let now = MonotonicSeconds.milliseconds()
        let lostFor = lastStatus.leaderContactAgeMilliseconds ?? UInt64.max
        let leaderLost = lastStatus.raft.leader == nil && lostFor > 3 * UInt64(configuration.electionMilliseconds)
        watchHub.tick(registry: driver.registry, now: now, leaderLost: leaderLost && !lastStatus.raft.configuration.voters.isEmpty)
        metrics.watchers = watchHub.count
    }

    // MARK: - Clients

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
            _ = try Connection.adopt(socket, peer: peer, on: loop, delegate: session)
            sessions[session.id] = session
            metrics.clientConnections = sessions.count
        } catch {
            logger.warning("could not adopt a client connection", ["peer": "\(peer)", "error": "\(error)"])
        }
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
        if grpcSessions.removeValue(forKey: session.id) != nil { session.grpc?.closed() }
        metrics.clientConnections = sessions.count
        if case .watch(let stream) = session.mode { stopWatchStream(stream) }
        if let request = session.current, pending.removeValue(forKey: request) != nil {
            withDriver { $0.cancel(request) }
        }
    }

    /// Routes one HTTP request and starts serving it.
    func handle(_ request: HTTPRequest, session: ClientSession) {
        let routed = APIAdapter.route(request, limits: driver.registry.limits)
        metrics.requests[APIAdapter.kind(of: routed), default: 0] += 1
        switch routed {
        case .node(let nodeRequest):
            submit(nodeRequest, session: session, kind: .plain)
        case .registerWithTTL(let instance, let ttl):
            submit(.write(.grantLease(id: nil, ttlMilliseconds: ttl, grantedAtMilliseconds: 0)), session: session, kind: .grantThenRegister(instance))
        case .watch(let spec):
            startWatch(spec, session: session)
        case .watchStream(let options):
            startWatchStream(options, session: session)
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
                    membersWithClientAddresses, configuration: lastStatus.raft.configuration, leader: lastStatus.raft.leader, context: context))
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

    func submit(_ request: NodeRequest, session: ClientSession?, kind: Pending.Kind) {
        guard !isShuttingDown else {
            session?.finish(APIAdapter.encode(.failed(.shuttingDown), context: context), keepAlive: false)
            return
        }
        let id = RequestID(nextRequestID)
        nextRequestID += 1
        var isWrite = false
        if case .write = request { isWrite = true }
        let timer = loop.schedule(after: requestTimeout) { [unowned self] in self.timeOut(id) }
        pending[id] = Pending(session: session, kind: kind, startedAt: MonotonicSeconds.now(), timer: timer, isWrite: isWrite)
        switch kind {
        case .plain, .grantThenRegister, .registerAfterGrant: session?.begin(id)
        case .streamedKeepAlive, .background, .grpc, .grpcKeepAlive: break
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
        submit(request, session: session, kind: kind)
        if let timeoutMilliseconds, timeoutMilliseconds < UInt64(configuration.requestTimeoutMilliseconds),
            let timer = pending[id]?.timer
        {
            loop.cancel(timer)
            pending[id]?.timer = loop.schedule(after: .milliseconds(timeoutMilliseconds)) { [unowned self] in self.timeOut(id) }
        }
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
            clusterID: configuration.clusterID, memberID: configuration.ownID.rawValue, raftTerm: lastStatus.raft.term.rawValue)
    }

    func timeOut(_ id: RequestID) {
        guard let waiting = pending[id] else { return }
        pending[id]?.timer = nil
        withDriver { $0.cancel(id) }
        let failure: NodeFailure =
            waiting.isWrite ? .indeterminate(reason: "no answer within \(configuration.requestTimeoutMilliseconds) ms") : .timedOut
        complete(id, .failed(failure))
    }

    /// Delivers the node's answer to whoever waits for it.
    func complete(_ id: RequestID, _ response: NodeResponse) {
        guard let waiting = pending.removeValue(forKey: id) else { return }
        if let timer = waiting.timer { loop.cancel(timer) }
        metrics.requestLatency.observe(MonotonicSeconds.now() - waiting.startedAt)
        let session = waiting.session
        switch waiting.kind {
        case .plain:
            session?.finish(APIAdapter.answer(response, context: context, cache: &instanceCache))
        case .grantThenRegister(var instance):
            guard case .written(let applied) = response, case .leaseGranted(let lease, _) = applied.response else {
                session?.finish(APIAdapter.encode(response, context: context))
                return
            }
            instance.lease = lease
            deferredWork.append { [unowned self] in
                self.submit(.write(.registerInstance(instance)), session: session, kind: .registerAfterGrant(lease))
            }
            if !isInsideDriver { runDeferred() }
        case .registerAfterGrant(let lease):
            if case .written = response {} else {
                deferredWork.append { [unowned self] in self.submit(.write(.revokeLease(lease)), session: nil, kind: .background) }
            }
            session?.finish(APIAdapter.encode(response, context: context))
        case .streamedKeepAlive:
            session?.writeWatchLine(APIAdapter.keepAliveLine(response))
        case .background:
            break
        case .grpc(let stream, let reply):
            session?.grpc?.complete(id, stream: stream, reply: reply, response: response)
        case .grpcKeepAlive(let stream, let lease):
            session?.grpc?.completeKeepAlive(id, stream: stream, lease: lease, response: response)
        }
    }

    func runDeferred() {
        let work = deferredWork
        deferredWork = []
        for item in work { item() }
    }

    // MARK: - Watches and streams

    func startWatch(_ spec: WatchSpec, session: ClientSession) {
        let now = MonotonicSeconds.milliseconds()
        switch spec.mode {
        case .stream:
            let stream = watchHub.open(
                .single, session: session, progressIntervalMilliseconds: spec.progressIntervalMilliseconds, now: now)
            let watcher = watchHub.add(spec, tag: nil, to: stream, registry: driver.registry)
            session.beginStream(.watch(stream), head: APIAdapter.streamHead(context: context))
            watchHub.catchUp(watcher, registry: driver.registry, now: now)
        case .longPoll(_, let wait):
            let stream = watchHub.open(
                .longPoll, session: session, progressIntervalMilliseconds: spec.progressIntervalMilliseconds, now: now)
            let watcher = watchHub.add(spec, tag: nil, to: stream, registry: driver.registry)
            session.beginLongPoll(stream)
            watchHub.catchUp(watcher, registry: driver.registry, now: now)
            guard !stream.isClosed else { return }  // Answered at once from history.
            stream.longPollTimer = loop.schedule(after: .milliseconds(wait)) { [weak session, unowned self] in
                guard let session, case .watch(let current) = session.mode, current === stream else { return }
                session.completeLongPoll(events: [], revision: self.driver.registry.revision)
            }
        }
        metrics.watchers = watchHub.count
    }

    /// `POST /v1/watch`: a stream with no watches yet; they come as control lines.
    func startWatchStream(_ options: WatchStreamOptions, session: ClientSession) {
        let stream = watchHub.open(
            .multiplexed, session: session, progressIntervalMilliseconds: options.progressIntervalMilliseconds,
            now: MonotonicSeconds.milliseconds())
        session.beginStream(.watch(stream), head: APIAdapter.streamHead(context: context))
    }

    /// One control line of a multiplexed stream: create or cancel a watch, or refuse the line.
    func watchControl(_ line: ArraySlice<UInt8>, stream: WatchStream) {
        let now = MonotonicSeconds.milliseconds()
        let registry = driver.registry
        switch APIAdapter.watchControl(line, limits: registry.limits, progressIntervalMilliseconds: stream.progressIntervalMilliseconds) {
        case .failure(let refusal) where refusal.endsStream:
            stream.session.endWatch(code: refusal.error.code, message: refusal.error.message)
        case .failure(let refusal):
            stream.write(APIAdapter.canceledLine(watch: refusal.watchID, error: refusal.error), now: now)
        case .success(nil):
            break
        case .success(.create(let id, let spec)?):
            if stream.watcher(tagged: id) != nil {
                stream.write(APIAdapter.canceledLine(watch: id, error: .duplicateWatchID(id)), now: now)
            } else if stream.watchers.count >= WatchControl.maximumWatchesPerStream {
                stream.write(
                    APIAdapter.canceledLine(watch: id, error: .tooManyWatches(limit: WatchControl.maximumWatchesPerStream)),
                    now: now)
            } else {
                let watcher = watchHub.add(spec, tag: id, to: stream, registry: registry)
                stream.write(APIAdapter.createdLine(watch: id, revision: registry.revision), now: now)
                watchHub.catchUp(watcher, registry: registry, now: now)
            }
        case .success(.cancel(let id)?):
            if let watcher = stream.watcher(tagged: id) {
                watchHub.remove(watcher)
                stream.write(APIAdapter.canceledLine(watch: id, error: nil), now: now)
            } else {
                stream.write(APIAdapter.canceledLine(watch: id, error: .watchNotFound(id)), now: now)
            }
        }
        metrics.watchers = watchHub.count
    }

    func stopWatchStream(_ stream: WatchStream) {
        if let timer = stream.longPollTimer { loop.cancel(timer) }
        stream.longPollTimer = nil
        watchHub.close(stream)
        metrics.watchers = watchHub.count
    }

    func watchStreamDrained(_ stream: WatchStream) {
        watchHub.catchUp(stream: stream, registry: driver.registry, now: MonotonicSeconds.milliseconds())
    }

    func streamKeepAlive(_ lease: LeaseID, session: ClientSession) {
        submit(.keepAlive(lease), session: session, kind: .streamedKeepAlive)
    }

    func encodeLongPoll(events: [RegistryEvent], revision: Revision, includePrevious: Bool) -> [UInt8] {
        APIAdapter.longPoll(events: events, revision: revision, includePrevious: includePrevious, context: context)
    }

    // MARK: - Peers

    func peerMessage(_ message: Message) {
        withDriver { $0.receive(message) }
    }

    func peerForward(_ forward: ForwardMessage, from peer: NodeID) {
        withDriver { $0.receive(forward, from: peer) }
    }

    func peerDown(_ peer: NodeID) {
        metrics.peerDisconnects += 1
        withDriver { $0.peerDisconnected(peer) }
    }

    // MARK: - Metrics

    func metricsText() -> String {
        let raft = lastStatus.raft
        return metrics.render(gauges: [
            ("roster_raft_term", "Current Raft term.", Double(raft.term.rawValue)),
            ("roster_raft_commit_index", "Highest committed log index.", Double(raft.commitIndex.rawValue)),
            ("roster_raft_applied_index", "Highest applied log index.", Double(raft.appliedIndex.rawValue)),
            ("roster_raft_is_leader", "1 if this node leads.", raft.role == .leader ? 1 : 0),
            ("roster_registry_revision", "Current registry revision.", Double(lastStatus.revision.rawValue)),
            ("roster_registry_instances", "Registered instances.", Double(driver.registry.instanceCount)),
            ("roster_registry_leases", "Live leases.", Double(driver.registry.leaseCount)),
            ("roster_pending_requests", "Requests waiting on this node.", Double(pending.count)),
            ("roster_registry_history_events", "Events retained for watches.", Double(driver.registry.historyCount)),
            ("roster_registry_history_bytes", "Approximate bytes of the events retained for watches.",
             Double(driver.registry.historyBytes)),
            ("roster_heap_bytes_in_use", "Bytes the allocator has handed out and not had back.", Double(Heap.bytesInUse)),
        ])
    }

    // MARK: - Shutdown

    /// SIGTERM/SIGINT arrive through a signalfd on the loop, so shutdown runs on the loop thread.
    private func installSignalHandler() throws {
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
        var target: NodeID?
        withDriver { target = $0.prepareShutdown() }
        if let target { logger.info("transferring leadership", ["to": "\(target)"]) }
        waitForHandOff(deadline: MonotonicSeconds.now() + 3)
    }

    private func waitForHandOff(deadline: Double) {
        if lastStatus.raft.role != .leader || MonotonicSeconds.now() > deadline || lastStatus.raft.configuration.voters.count < 2 {
            // Leave a snapshot at the applied index: the next start then replays no log tail.
            if !isInsideDriver { driver.snapshotApplied() }
            transport.close()
            driver.environment.storage.close()
            loop.stop()
            return
        }
        _ = loop.schedule(after: .milliseconds(50)) { [unowned self] in self.waitForHandOff(deadline: deadline) }
    }
}
