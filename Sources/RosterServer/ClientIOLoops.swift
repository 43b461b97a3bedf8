import HTTP
import Posix
import Registry

/// The I/O threads that carry client connections, seen from the Raft loop (`--io-threads N`, N > 0).
///
/// Why: one loop thread that owns Raft, apply, every socket and TLS leaves the other cores idle. The
/// sockets' system calls (epoll, reads, writes: on loopback a write also runs the receiver's TCP stack) and
/// TLS records move to N I/O threads; the sessions' logic (parsing, routing, handlers, encoding, watches)
/// stays on the Raft loop, where it was, so the request handling code and its guarantees do not change.
///
/// How: the Raft loop still accepts (one call per connection) and hands each socket to the I/O loop carrying the
/// fewest (under the default it keeps one writer's itself, `RosterServer.raftLoopTakesConnection`), keeping a
/// `RelayedConnection` as the session's `ClientLink`. Each direction is one FIFO of values
/// per I/O loop: `RelayCommand`s (adopt, write, close) out, `RelayEvent`s (connected, read, sent, back
/// pressure, closed) back, each batched per loop turn into one cross-thread job, so events of one connection
/// stay in order and requests that arrive together still share one Ready and one fsync.
///
/// Measured (single member, 2 cores shared with other builds, 2026-12-04, `scripts/bench --single-member`):
/// with one I/O thread the Raft loop spends 25–28 µs of CPU per read instead of 35, 53 µs per registration
/// at 64 clients instead of 69, and half as much per watch event fanned out to 1,000 watchers; the relay
/// itself costs a few µs of CPU per request and, at one client, 20–50 µs of latency (two cross-thread
/// hand-offs, each waking a sleeping thread). So the Raft loop's ceiling rises by about a third on a machine
/// with cores to spare; on two busy cores the total CPU, not the Raft loop, is the limit.
///
/// Owned by the Raft loop; every method runs there. It and its `ClientIOLoop`s refer to each other (events
/// find their way back through `LoopConfined(self)`), so they live as long as the server, which is the intent.
final class ClientIOLoops {
    /// The Raft loop.
    let loop: EventLoop
    private var threads: [EventLoopThread] = []
    private var sides: [LoopConfined<ClientIOLoop>] = []
    private var connections: [UInt64: RelayedConnection] = [:]
    private var commands: [[RelayCommand]]
    private var isFlushScheduled = false
    /// Live connections each I/O loop carries.
    private var carried: [Int]
    private var nextID: UInt64 = 1

    /// Serializable reads the I/O loops answer themselves, from the view the Raft loop publishes.
    let localReads: LocalReads
    /// Called after each batch of events from an I/O loop is handled (the server publishes a view an I/O loop
    /// asked for meanwhile).
    var afterEvents: (() -> Void)?
    /// Called for each read barrier an I/O loop asks (its index and the barrier's token); the answer goes back as
    /// `RelayCommand.readBarrierPassed`.
    var onReadBarrier: ((_ loop: Int, _ token: UInt64) -> Void)?

    /// Starts `count` I/O threads.
    /// - Parameter idleTimeout: how long a connection an I/O loop serves may stay silent.
    /// - Throws: `SystemError` if a thread, its epoll or its eventfd cannot be created.
    /// - Parameter registryLimits: the node's, which route requests (`APIAdapter.route`).
    init(
        count: Int, loop: EventLoop, parserLimits: HTTPParserLimits, registryLimits: RegistryLimits, idleTimeout: Duration
    ) throws(SystemError) {
        precondition(count > 0, "ClientIOLoops needs at least one thread")
        self.loop = loop
        self.commands = Array(repeating: [], count: count)
        self.carried = Array(repeating: 0, count: count)
        self.localReads = LocalReads(ioLoops: count)
        let receiver = LoopConfined(self)
        for index in 0..<count {
            let server = LocalReadServer(
                reads: localReads, statistics: localReads.statistics[index], parserLimits: parserLimits,
                registryLimits: registryLimits)
            sides.append(
                LoopConfined(
                    ClientIOLoop(
                        index: index, raft: loop.handle, receiver: receiver, localReads: server, views: localReads,
                        idleTimeout: idleTimeout)))
            threads.append(try EventLoopThread(name: "roster-io-\(index + 1)"))
        }
    }

    /// The number of I/O threads.
    var count: Int { threads.count }

    /// The I/O loop the next connection goes to: the one carrying the fewest, the first of them on a tie.
    static func leastLoaded(_ carried: [Int]) -> Int {
        carried.indices.min { carried[$0] < carried[$1] } ?? 0
    }

    /// Hands an accepted socket to the I/O loop that carries the fewest connections (the first of them on a tie);
    /// `delegate` hears its events on this loop.
    /// `unread`: bytes already read from the socket (a connection the Raft loop hands over), taken first.
    func adopt(
        _ socket: Socket, peer: SocketAddress, security: (any ConnectionSecurity)?, delegate: any ClientLinkDelegate,
        unread: [UInt8] = []
    ) {
        let id = nextID
        nextID += 1
        let target = Self.leastLoaded(carried)
        carried[target] += 1
        connections[id] = RelayedConnection(id: id, ioLoop: target, peer: peer, relay: self, delegate: delegate)
        send(.adopt(id: id, socket: socket, peer: peer, security: SecurityTransfer(security), unread: unread), to: target)
    }

    /// Queues a command for an I/O loop; this turn's commands leave together.
    func send(_ command: RelayCommand, to index: Int) {
        commands[index].append(command)
        guard !isFlushScheduled else { return }
        isFlushScheduled = true
        _ = loop.schedule(after: .zero) { [unowned self] in self.flush() }
    }

    /// Hands every queued command to its I/O loop.
    func flush() {
        isFlushScheduled = false
        for index in commands.indices where !commands[index].isEmpty {
            let batch = commands[index]
            commands[index] = []
            let side = sides[index]
            threads[index].submit { loop in side.value.perform(batch, on: loop) }
        }
    }

    /// Events from I/O loop `index`, in the order they happened there.
    func receive(_ events: [RelayEvent], from index: Int) {
        for event in events {
            switch event {
            case .connected(let id, let peerCommonName):
                connections[id]?.didConnect(peerCommonName: peerCommonName)
            case .read(let id, let bytes):
                connections[id]?.didRead(bytes)
            case .sent(let id, let acknowledged, let outbound):
                connections[id]?.didSend(acknowledged: acknowledged, outboundBytes: outbound)
            case .backPressure(let id, let isOverLimit, let outbound):
                connections[id]?.didChangeRemoteBackPressure(isOverLimit, outboundBytes: outbound)
            case .http2(let id, let events, let progress):
                connections[id]?.didReceiveHTTP2(events, progress: progress)
            case .closed(let id, let reason):
                connections[id]?.didClose(reason)
            case .readBarrier(let token):
                onReadBarrier?(index, token)
            }
        }
        afterEvents?()
    }

    /// Forgets a connection that closed.
    func remove(_ id: UInt64) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        carried[connection.ioLoop] -= 1
    }

    /// Sends what is queued, then stops every I/O thread (their connections close) and waits for them.
    func shutdown() {
        flush()
        for thread in threads { thread.shutdown() }
    }
}
