import EtcdGateway
import HTTP
import HTTP2
import Posix
import Raft
import Registry
import RosterAPI
import RosterNode

/// A running Roster node: the node driver, its storage, the peer transport, the client listener and
/// the watch streams, all owned by the thread that runs `loop`.
///
/// Every input (a tick, a peer message, a client request) only queues work in the driver; one
/// `processReady()` per loop iteration (after taking in, without waiting, what arrived while the iteration
/// ran) then persists, sends and applies everything queued together, so concurrent requests share one
/// fsync, and returns the effects this shell carries out (answers, watch events, sends, member changes).
/// The driver never calls back into the shell, so any code on the loop thread may call it. Nothing here
/// blocks except that fsync.
public final class RosterServer {
    public let configuration: ServerConfiguration
    let logger: Logger
    let loop: EventLoop
    /// The driver lives in memory this server allocates, not in a stored property: reading a field of a struct
    /// stored in a class made Swift copy the whole driver out under a dynamic access (every array and
    /// dictionary it holds retained, then released), several times per request (callgrind: 5 % of a
    /// linearizable etcd read). Through the pointer, reads and writes happen in place. Loop thread only.
    private let driverStorage: UnsafeMutablePointer<NodeDriver<ServerEnvironment>>
    var driver: NodeDriver<ServerEnvironment> {
        _read { yield driverStorage.pointee }
        _modify { yield &driverStorage.pointee }
    }
    /// This member's ID, the cluster ID and the client address as text, computed once: `configuration`
    /// derives them (hashing names, formatting addresses) on every read, and every etcd answer names them.
    let ownID: NodeID
    let clusterID: UInt64
    let clientAddressText: String
    /// The driver's registry, lent in place.
    var registry: RegistryState {
        _read { yield driverStorage.pointee.registry }
    }
    var transport: PeerTransport!
    var listener: Listener?
    /// The I/O threads that carry client connections (`--io-threads`); nil when this loop carries them.
    var clientLoops: ClientIOLoops?
    /// The DNS interface, when `--dns-addr` is set (see `RosterServer+DNS.swift`).
    var dnsServer: DNSServer?
    /// TLS contexts of the client and peer ports, re-read when their files change.
    let tls: ServerTLS
    let watchHub = WatchHub()
    var metrics = Metrics()
    /// Instances' JSON for listings; see `InstanceJSONCache` for why it can never answer stale bytes.
    var instanceCache = InstanceJSONCache()
    var sessions: [UInt64: ClientSession] = [:]
    /// The session whose connection the Raft loop carries although I/O loops run (`raftLoopTakesConnection`).
    var sessionOnRaftLoop: UInt64? {
        didSet { metrics.clientConnectionsOnRaftLoop = sessionOnRaftLoop == nil ? 0 : 1 }
    }
    /// Client addresses the peers announced in their hellos, for member listings on every member.
    var peerClientAddresses: [NodeID: String] = [:]
    /// The member directory with every client address this node knows: its own, the ones the directory
    /// records, and the ones peers announced.
    var membersWithClientAddresses: [Member] {
        lastStatus.members.map { member in
            var member = member
            if member.id == ownID { member.clientAddress = clientAddressText }
            if member.clientAddress == nil { member.clientAddress = peerClientAddresses[member.id] }
            return member
        }
    }
    /// The sessions speaking HTTP/2 (etcd's gRPC API), which receive applied events for their watches.
    var grpcSessions: [UInt64: ClientSession] = [:]
    var pending: [RequestID: Pending] = [:]
    var nextRequestID: UInt64 = 1
    var nextSessionID: UInt64 = 1
    var isFlushScheduled = false
    /// Set by a Ready loop that reported itself slow, so that its loop iteration is not reported a second time.
    var reportedSlowFlush = false
    var leaseTimer: (id: TimerID, at: UInt64)?
    /// SIGTERM and SIGINT, read on the loop (see `installSignalHandler`).
    var signals: SignalFD?
    var lastStatus: NodeStatus
    var isShuttingDown = false
    /// The current window of refusal logging (`RosterServer+Auth`): when it began, lines logged, lines held back.
    var authRefusalLog: (windowStart: UInt64, logged: Int, suppressed: Int) = (0, 0, 0)
    /// The auth revision the watches were last checked at; a newer one re-checks every watch's permission.
    var watchedAuthRevision: UInt64 = 0
    /// Tokens already verified at the current auth revision (`RosterServer+Auth`).
    var verifiedTokens = VerifiedTokens()
    /// `--auth-token-key`, when given.
    let authTokenKeyFile: AuthTokenKeyFile?
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
            /// One renewal of a streamed keepalive: answered with an NDJSON line.
            case streamedKeepAlive
            /// Work the node starts on its own (an alarm it raises); nobody waits for the answer.
            case background
            /// A unary etcd call on an HTTP/2 stream of the session.
            case grpc(StreamID, EtcdReply)
            /// One keepalive of an etcd `LeaseKeepAlive` stream (the lease ID as the client sent it).
            case grpcKeepAlive(StreamID, Int64)
            /// A read answered as Prometheus target groups.
            case prometheusTargets(ifNoneMatch: String?)
            /// A read barrier of I/O loop `loop` (`ReadBarriers`); its answer goes back to that loop.
            case readBarrier(loop: Int, token: UInt64)

            var isBackground: Bool {
                if case .background = self { true } else { false }
            }
        }
    }

    /// Opens storage, binds the listeners and starts the node on `loop` (which must not run yet).
    public init(configuration: ServerConfiguration, loop: EventLoop, logger: Logger) throws {
        // Parsing validated it already; a configuration built by hand (tests, embedders) is checked here, so
        // RaftOptions.validate() always runs before a node starts.
        try configuration.validate()
        self.configuration = configuration
        self.loop = loop
        self.logger = logger
        self.requestTimeout = configuration.requestTimeout
        var limits = HTTPParserLimits()
        limits.bodyBytes = configuration.maxRequestBytes
        self.parserLimits = limits
        let members = configuration.members
        let ownID = configuration.ownID
        let clusterID = configuration.clusterID
        self.ownID = ownID
        self.clusterID = clusterID
        clientAddressText = configuration.clientAddress.description
        let (storage, persisted) = try NodeStorage.open(
            directory: configuration.dataDirectory, clusterID: clusterID, member: ownID,
            initialConfiguration: Configuration(voters: members.map(\.id)), isJoining: configuration.join, logger: logger)
        tls = try ServerTLS(configuration.tls, logger: logger)
        authTokenKeyFile = try configuration.authTokenKeyPath.map { path throws(AuthTokenKeyError) in try AuthTokenKeyFile(path: path) }
        let transport = try PeerTransport(
            loop: loop, ownID: ownID, clusterID: clusterID, listenAddress: configuration.peerAddress,
            members: members, options: configuration.peerTransportOptions, tls: tls, logger: logger)
        self.transport = transport
        let environment = ServerEnvironment(
            storage: try BackgroundStorage(storage: storage, loop: loop.handle), logger: logger, transport: transport)
        var options = NodeOptions(
            id: ownID, raft: configuration.raftOptions, tickMilliseconds: UInt64(configuration.heartbeatMilliseconds),
            initialMembers: members)
        options.snapshotEveryEntries = UInt64(configuration.snapshotEntries)
        options.registryLimits.requestBytes = configuration.maxRequestBytes
        options.registryLimits.historyRevisions = Int64(configuration.historyRevisions)
        options.registryLimits.historyEvents = configuration.historyEvents
        options.registryLimits.historyBytes = configuration.historyBytes
        options.registryLayouts = configuration.etcdLayouts
        options.unsafeAcknowledgeBeforeCommit = configuration.unsafeAcknowledgeBeforeCommit
        if options.unsafeAcknowledgeBeforeCommit {
            logger.warning("UNSAFE: --unsafe-ack-before-commit answers writes before they commit; acknowledged writes can be lost")
        }
        let driver = try NodeDriver(
            options: options, persisted: persisted, environment: environment, randomSeed: MonotonicClock.milliseconds())
        driverStorage = .allocate(capacity: 1)
        driverStorage.initialize(to: driver)
        lastStatus = driver.status
        environment.storage.reportFinishedWrites(to: self)
        transport.onMessage = { [unowned self] message in self.peerMessage(message) }
        transport.onForward = { [unowned self] forward, peer in self.peerForward(forward, from: peer) }
        transport.onPeerDown = { [unowned self] peer in self.peerDown(peer) }
        transport.onPeerUp = { [unowned self] peer in self.withDriver { $0.peerConnected(peer) } }
        transport.ownClientAddress = clientAddressText
        transport.onPeerClientAddress = { [unowned self] peer, address in self.peerClientAddresses[peer] = address }
        transport.update(members: driver.memberDirectory)
        if configuration.ioThreads > 0 {
            let clientLoops = try ClientIOLoops(
                count: configuration.ioThreads, loop: loop, parserLimits: parserLimits,
                registryLimits: options.registryLimits, idleTimeout: idleTimeout)
            clientLoops.afterEvents = { [unowned self] in self.publishLocalReadsIfWanted() }
            clientLoops.onReadBarrier = { [unowned self] loop, token in self.submitReadBarrier(loop: loop, token: token) }
            self.clientLoops = clientLoops
        }
        listener = try Listener(
            on: configuration.clientAddress, loop: loop,
            onError: { [unowned self] error in self.logger.warning("accept failed", ["error": "\(error)"]) },
            onAccept: { [unowned self] socket, peer in self.accept(socket, peer: peer) })
        try startDNS()
        _ = loop.schedule(after: configuration.tick, repeating: configuration.tick) { [unowned self] in self.tick() }
        // Apply the committed entries the log holds beyond the snapshot now, not at the first tick, so a
        // restarted node is caught up by the time its leader reaches it.
        scheduleFlush()
        reportSlowIterations()
        try installSignalHandler()
        startSpaceMonitor()
        logger.info(
            "started", ["client": "\(configuration.clientAddress)", "peer": "\(configuration.peerAddress)",
                        "io_threads": "\(configuration.ioThreads)",
                        "members": members.map(\.description).joined(separator: ",")])
    }

    deinit {
        driverStorage.deinitialize(count: 1)
        driverStorage.deallocate()
    }

    // MARK: - Time

    func tick() {
        withDriver { $0.tick() }
        let now = MonotonicClock.milliseconds()
        let lostFor = lastStatus.leaderContactAgeMilliseconds ?? UInt64.max
        let leaderLost = lastStatus.raft.leader == nil && lostFor > 3 * UInt64(configuration.electionMilliseconds)
        watchHub.tick(registry: registry, now: now, leaderLost: leaderLost && !lastStatus.raft.configuration.voters.isEmpty)
        metrics.watchers = watchHub.count
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
        var metrics = self.metrics
        if let localReads = clientLoops?.localReads {
            // Reads the I/O loops answered count as requests like any other.
            let local = localReads.mergedLatency()
            metrics.requestLatency.add(local)
            let etcdRanges = min(localReads.etcdRanges(), local.count)
            metrics.requests["read", default: 0] += local.count - etcdRanges
            metrics.requests["grpc", default: 0] += etcdRanges
            metrics.localReads = local.count
        }
        return metrics.render(gauges: [
            ("roster_raft_term", "Current Raft term.", Double(raft.term.rawValue)),
            ("roster_raft_commit_index", "Highest committed log index.", Double(raft.commitIndex.rawValue)),
            ("roster_raft_applied_index", "Highest applied log index.", Double(raft.appliedIndex.rawValue)),
            ("roster_raft_is_leader", "1 if this node leads.", raft.role == .leader ? 1 : 0),
            ("roster_registry_revision", "Current registry revision.", Double(lastStatus.revision.rawValue)),
            ("roster_registry_instances", "Registered instances.", Double(registry.instanceCount)),
            ("roster_registry_leases", "Live leases.", Double(registry.leaseCount)),
            ("roster_pending_requests", "Requests waiting on this node.", Double(pending.count)),
            ("roster_registry_history_events", "Events retained for watches.", Double(registry.historyCount)),
            ("roster_registry_history_bytes", "Approximate bytes of the events retained for watches.",
             Double(registry.historyBytes)),
            ("roster_heap_bytes_in_use", "Bytes the allocator has handed out and not had back.", Double(Heap.bytesInUse)),
        ])
    }
}
