// Goal: scaffolding for the loopback transport tests. Method: each `TestPeer` runs one `PeerTransport` on an
// event loop thread (its own or a shared one) and records what the transport delivers in `Mutex`-backed
// recorders; the test thread drives it with jobs submitted to the loop and waits for recorded outcomes by
// polling against a deadline, never by sleeping and then asserting.
import Codec
import Glibc
import Posix
import Raft
import RosterNode
@testable import RosterServer
import Synchronization
import Wire

/// A value shared between a loop thread and the test thread.
final class Shared<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>

    init(_ initial: Value) { storage = Mutex(initial) }

    var value: Value { storage.withLock { $0 } }

    func update<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        storage.withLock { body(&$0) }
    }
}

extension Shared where Value: RangeReplaceableCollection, Value.Element: Sendable {
    func append(_ element: Value.Element) { update { $0.append(element) } }
}

/// Polls `condition` every millisecond until it holds or `seconds` pass; returns whether it held.
func eventually(seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = MonotonicClock.nanoseconds() + UInt64(seconds * 1e9)
    while MonotonicClock.nanoseconds() < deadline {
        if condition() { return true }
        usleep(1000)
    }
    return condition()
}

struct HarnessFailure: Error, CustomStringConvertible {
    let description: String
}

/// Runs `work` on the loop thread and waits for its result.
func runOnLoop<T: Sendable>(_ handle: EventLoopHandle,
                            _ work: @escaping @Sendable (EventLoop) throws -> T) throws -> T {
    let result = Shared<Result<T, any Error>?>(nil)
    guard handle.submit({ loop in result.update { $0 = Result { try work(loop) } } }) else {
        throw HarnessFailure(description: "loop is not running")
    }
    guard eventually({ result.value != nil }), let outcome = result.value else {
        throw HarnessFailure(description: "loop did not run the work in time")
    }
    return try outcome.get()
}

/// A test logger that keeps lines in memory (and off stderr).
func recordingLogger(_ name: String, lines: Shared<[String]>) -> Logger {
    Logger(name: name, level: .debug) { lines.append($0) }
}

/// Options with fast reconnects, so restart tests finish quickly.
func fastOptions() -> PeerTransportOptions {
    var options = PeerTransportOptions()
    options.reconnectInitialDelay = .milliseconds(5)
    options.reconnectMaxDelay = .milliseconds(100)
    return options
}

/// One cluster member under test: a transport on a loop, and recorders of what it delivered.
///
/// `@unchecked Sendable` proof: the only mutable state, `transport`, is read and written exclusively inside
/// jobs submitted to `handle`, which all run on that one loop thread; the recorders are `Mutex`-backed.
final class TestPeer: @unchecked Sendable {
    let name: String
    let id: NodeID
    let handle: EventLoopHandle
    let options: PeerTransportOptions
    /// TLS between members, or nil for plaintext.
    let tlsSettings: ServerTLSSettings?
    private(set) var port: UInt16 = 0
    private var transport: PeerTransport?
    let messages = Shared<[Message]>([])
    let forwards = Shared<[String]>([])
    let ups = Shared<[NodeID]>([])
    let downs = Shared<[NodeID]>([])
    let logLines = Shared<[String]>([])

    init(_ name: String, handle: EventLoopHandle, options: PeerTransportOptions = fastOptions(),
         tls: ServerTLSSettings? = nil) {
        self.tlsSettings = tls
        self.name = name
        self.id = Member.id(forName: name)
        self.handle = handle
        self.options = options
    }

    var member: Member { Member(id: id, name: name, peerAddress: "127.0.0.1:\(port)") }

    /// Creates the transport listening on `port` (0: any) with an empty address book; returns the port.
    @discardableResult
    func start(port requested: UInt16 = 0, clusterID: UInt64) throws -> UInt16 {
        let bound = try runOnLoop(handle) { loop in
            let logger = recordingLogger(self.name, lines: self.logLines)
            let tls = try self.tlsSettings.map { settings in try ServerTLS(settings, logger: logger) }
            let transport = try PeerTransport(loop: loop, ownID: self.id, clusterID: clusterID,
                                              listenAddress: .loopback(port: requested), members: [],
                                              options: self.options, tls: tls, logger: logger)
            transport.onMessage = { self.messages.append($0) }
            transport.onForward = { forward, sender in self.forwards.append("\(sender):\(forward)") }
            transport.onPeerUp = { self.ups.append($0) }
            transport.onPeerDown = { self.downs.append($0) }
            self.transport = transport
            return transport.localAddress?.port ?? 0
        }
        port = bound
        return bound
    }

    /// Runs `body` with the transport on its loop thread.
    func with<T: Sendable>(_ body: @escaping @Sendable (PeerTransport) throws -> T) throws -> T {
        try runOnLoop(handle) { _ in
            guard let transport = self.transport else { throw HarnessFailure(description: "\(self.name) not started") }
            return try body(transport)
        }
    }

    func update(members: [Member]) throws {
        try with { $0.update(members: members) }
    }

    func isConnected(to peer: TestPeer) -> Bool {
        (try? with { $0.isConnected(to: peer.id) }) ?? false
    }

    func send(_ message: Message) throws {
        try with { $0.send(message) }
    }

    /// Closes the transport (as a process exit would close its sockets).
    func stop() throws {
        try with { $0.close() }
        try runOnLoop(handle) { _ in self.transport = nil }
    }

    func heartbeat(to peer: TestPeer, round: UInt64 = 0) -> Message {
        Message(from: id, to: peer.id, term: Term(1), body: .heartbeat(commit: LogIndex(0), readRound: round))
    }
}

/// Starts `peers`, then gives every one the full member list (ports are known only after binding).
func connectAll(_ peers: [TestPeer], clusterID: UInt64) throws {
    for peer in peers { try peer.start(clusterID: clusterID) }
    let members = peers.map(\.member)
    for peer in peers { try peer.update(members: members) }
    for peer in peers {
        for other in peers where other !== peer {
            guard eventually({ peer.isConnected(to: other) }) else {
                throw HarnessFailure(description: "\(peer.name) did not connect to \(other.name)")
            }
        }
    }
}

/// A raw client that writes `bytes` once connected and records how the connection ended.
final class RawPeerClient: ConnectionDelegate {
    let bytes: [UInt8]
    let closed: Shared<Connection.CloseReason?>

    init(bytes: [UInt8], closed: Shared<Connection.CloseReason?>) {
        self.bytes = bytes
        self.closed = closed
    }

    func connectionDidConnect(_ connection: Connection) {
        connection.write(bytes)
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {}

    func connection(_ connection: Connection, didCloseWith reason: Connection.CloseReason) {
        closed.update { $0 = reason }
    }
}

/// Opens a raw connection to `port` from `handle`'s loop, sends `bytes`, and returns the close recorder.
func sendRaw(_ bytes: [UInt8], to port: UInt16, from handle: EventLoopHandle) throws
    -> Shared<Connection.CloseReason?> {
    let closed = Shared<Connection.CloseReason?>(nil)
    try runOnLoop(handle) { loop in
        _ = try Connection.connect(to: .loopback(port: port), on: loop,
                                   delegate: RawPeerClient(bytes: bytes, closed: closed))
    }
    return closed
}

/// A valid frame carrying `message`, as member `sender` would send it.
func raftFrame(_ message: Message, clusterID: UInt64, sender: NodeID) -> [UInt8] {
    var writer = ByteWriter()
    writer.write(message)
    return PeerFrame(kind: .raft, clusterID: clusterID, senderID: sender.rawValue, payload: writer.bytes).encoded()
}
