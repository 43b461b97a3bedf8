import Codec
import Posix
import Raft
import RosterNode
import Wire

/// Carries Raft messages and forwarded requests between cluster members over TCP.
///
/// Connections: each member dials one outbound connection to every other member and sends only on it; the
/// connections it accepts are receive-only. Two one-way connections per pair cost one extra socket, but remove
/// the race of two members dialing each other at once and having to agree which connection survives, and a
/// broken direction heals independently of the other. Both ends of a pair see a failure: the sender through
/// its outbound connection, the receiver through the inbound one, and both report `onPeerDown`.
///
/// Trust: every inbound frame passes the `PeerFrameDecoder` (magic, version, cluster ID, size bound, CRC), then
/// must name a current member as its sender, and a Raft message must be from that sender and addressed to us.
/// Bytes that fail the decoder, or a sender that is unknown or changes mid-connection, close the connection; a
/// misaddressed message is dropped and logged. Peer bytes never trap.
///
/// Ordering and loss: per peer, frames leave in FIFO order except that queued control messages overtake queued
/// snapshot chunks (see `PeerOutboundQueue`). Messages to an unconnected peer are dropped; Raft retries. A
/// snapshot chunk already handed to the kernel (at most `sendWindowBytes` plus one chunk) still delays a
/// heartbeat behind it; at 1 MiB chunks that is one chunk's transmission time.
///
/// Threading: loop-thread owned and not `Sendable`. Create, use and close it on `loop`'s thread; callbacks run
/// there too, and may call back into the transport (for example `send` from `onMessage`).
public final class PeerTransport {
    public let ownID: NodeID
    public let clusterID: UInt64
    public let options: PeerTransportOptions
    let logger: Logger
    private let loop: EventLoop
    private var listener: Listener?
    /// TLS between members (nil: plaintext). With it, a member's certificate is verified during the handshake,
    /// before its connection delivers a single frame.
    let tls: ServerTLS?

    /// Delivers a Raft message addressed to this member.
    public var onMessage: (Message) -> Void = { _ in }
    /// Delivers a forwarded request or response and the member that sent it.
    public var onForward: (ForwardMessage, NodeID) -> Void = { _, _ in }
    /// An established connection to or from the member broke. May be reported once per direction. Always
    /// reported on a later loop turn: a `send` can break a link synchronously (connection reset), and its caller
    /// (the driver's Ready loop, writing ahead of the fsync) must never be re-entered by the callback.
    public var onPeerDown: (NodeID) -> Void = { _ in }
    /// The outbound connection to the member is established; messages to it are now sent.
    public var onPeerUp: (NodeID) -> Void = { _ in }
    /// A member told us its client address ("host:port") in its hello.
    public var onPeerClientAddress: (NodeID, String) -> Void = { _, _ in }
    /// Our own client address, sent in every hello so every member can list every member's client URL
    /// (etcd's MemberList) without a write to the log. Older members ignore a hello's payload.
    public var ownClientAddress: String = ""

    private var members: [NodeID: Member] = [:]
    private var links: [NodeID: PeerLink] = [:]
    private var sessions: [ObjectIdentifier: PeerInboundSession] = [:]
    private var isClosed = false
    private(set) var counters = PeerTransportCounters()

    /// Starts listening on `listenAddress` and dials every member other than `ownID`.
    /// - Parameters:
    ///   - listenAddress: The peer listener; port 0 picks a free port (read `localAddress`).
    ///   - members: The address book; may be empty and set later with `update(members:)`.
    /// - Throws: `SystemError` if the listener cannot be bound.
    public init(loop: EventLoop, ownID: NodeID, clusterID: UInt64, listenAddress: SocketAddress,
                members: [Member], options: PeerTransportOptions = PeerTransportOptions(),
                tls: ServerTLS? = nil, logger: Logger) throws(SystemError) {
        precondition(loop.isOnLoopThread, "PeerTransport must be created on its loop thread")
        self.loop = loop
        self.tls = tls
        self.ownID = ownID
        self.clusterID = clusterID
        self.options = options
        self.logger = logger
        listener = try Listener(on: listenAddress, loop: loop, onError: { [logger] error in
            logger.warning("peer listener accept failed", ["error": error])
        }, onAccept: { [weak self] socket, remote in
            self?.accept(socket, remote: remote)
        })
        update(members: members)
    }

    /// The bound peer address (with the kernel's port when bound to port 0).
    public var localAddress: SocketAddress? { listener?.localAddress }

    // MARK: - Membership

    /// Replaces the address book: new members are dialed, removed members' connections are closed and their
    /// frames refused from now on, and a member whose address changed is redialed at the new one.
    public func update(members newMembers: [Member]) {
        checkThread()
        guard !isClosed else { return }
        members = Dictionary(newMembers.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        for (id, link) in links.sorted(by: { $0.key < $1.key })
        where members[id]?.peerAddress != link.member.peerAddress {
            link.stop()
            links[id] = nil
            if members[id] == nil { closeSessions(from: id) }
        }
        for member in newMembers.sorted(by: { $0.id < $1.id }) where member.id != ownID && links[member.id] == nil {
            let link = PeerLink(member: member, transport: self, loop: loop, options: options)
            links[member.id] = link
            link.dial()
        }
    }

    private func closeSessions(from id: NodeID) {
        for session in sessions.values where session.sender == id {
            session.connection?.close()
        }
    }

    // MARK: - Sending

    /// Sends a Raft message to `message.to`; dropped (and counted) if that peer is unknown or not connected.
    public func send(_ message: Message) {
        checkThread()
        precondition(message.from == ownID, "PeerTransport.send: message from \(message.from), but this node is \(ownID)")
        guard let link = connectedLink(message.to) else { return }
        var writer = ByteWriter()
        writer.write(message)
        let isSnapshot = if case .snapshotChunk = message.body { true } else { false }
        send(kind: .raft, payload: writer.bytes, isSnapshot: isSnapshot, on: link)
    }

    /// Sends a forwarded request or response to `peer`; dropped (and counted) if it is unknown or not connected.
    public func send(_ forward: ForwardMessage, to peer: NodeID) {
        checkThread()
        guard let link = connectedLink(peer) else { return }
        send(kind: .forward, payload: forward.encoded(), isSnapshot: false, on: link)
    }

    /// Sends forwards, then Raft messages, in one write per peer: the leader's answers to forwarded writes and the
    /// append carrying them reach a follower in one read, and a Ready's messages cost one system call per peer
    /// rather than one each. Per peer the order is kept; a snapshot chunk leaves on its own, after what was batched
    /// for its peer before it (the queue lets control frames overtake chunks, never the other way). Frames for an
    /// unknown or unconnected peer are dropped and counted, as by the single sends.
    public func send(forwards: [(message: ForwardMessage, peer: NodeID)], messages: [Message]) {
        checkThread()
        var batches = PeerWriteBatches(limitBytes: 256 << 10)
        for (forward, peer) in forwards {
            guard let link = batches.link(for: peer, connectedLink) else { continue }
            let payload = forward.encoded()
            guard fitsFrame(payload, kind: "forward", link: link) else { continue }
            batches.append(PeerFrame(kind: .forward, clusterID: clusterID, senderID: ownID.rawValue, payload: payload).encoded(), for: peer)
        }
        for message in messages {
            precondition(message.from == ownID, "PeerTransport.send: message from \(message.from), but this node is \(ownID)")
            if case .snapshotChunk = message.body {
                batches.flush(message.to)
                send(message)
                continue
            }
            guard let link = batches.link(for: message.to, connectedLink) else { continue }
            var writer = ByteWriter()
            writer.write(message)
            guard fitsFrame(writer.bytes, kind: "peer message", link: link) else { continue }
            batches.append(PeerFrame(kind: .raft, clusterID: clusterID, senderID: ownID.rawValue, payload: writer.bytes).encoded(), for: message.to)
        }
        batches.flushAll()
    }

    /// Whether `payload` fits one frame; if not, counts and logs the drop (the receiver would refuse the frame and
    /// drop the connection, so refusing here keeps the link up).
    private func fitsFrame(_ payload: [UInt8], kind: String, link: PeerLink) -> Bool {
        guard payload.count > options.maxFrameBytes else { return true }
        counters.droppedOversized += 1
        logger.error("outbound \(kind) exceeds the frame limit; dropped", [
            "peer": link.member.name, "bytes": payload.count, "limit": options.maxFrameBytes,
        ])
        return false
    }

    /// The link to `peer` if it can take a frame now; otherwise counts the drop and returns nil, before any
    /// encoding work is spent.
    private func connectedLink(_ peer: NodeID) -> PeerLink? {
        guard !isClosed else { return nil }
        guard let link = links[peer] else {
            counters.droppedUnknownPeer += 1
            logger.debug("message for unknown peer dropped", ["peer": peer])
            return nil
        }
        guard link.isConnected else {
            link.countDropWhileDisconnected()
            return nil
        }
        return link
    }

    private func send(kind: PeerFrame.Kind, payload: [UInt8], isSnapshot: Bool, on link: PeerLink) {
        guard fitsFrame(payload, kind: kind == .forward ? "forward" : "peer message", link: link) else { return }
        let frame = PeerFrame(kind: kind, clusterID: clusterID, senderID: ownID.rawValue, payload: payload)
        link.send(PeerOutboundQueue.Frame(bytes: frame.encoded(), isSnapshot: isSnapshot))
    }

    // MARK: - Receiving

    private func accept(_ socket: Socket, remote: SocketAddress) {
        guard !isClosed, sessions.count < options.maxInboundConnections else {
            counters.refusedConnections += 1
            logger.warning("peer connection refused: too many inbound connections", [
                "remote": remote, "limit": options.maxInboundConnections,
            ])
            socket.close()
            return
        }
        let session = PeerInboundSession(transport: self, loop: loop, clusterID: clusterID,
                                         maxFrameBytes: options.maxFrameBytes)
        do {
            let security = try inboundSecurity(remote: remote)
            let connection = try Connection.adopt(socket, peer: remote, on: loop,
                                                  limits: options.inboundConnectionLimits(secured: security != nil),
                                                  security: security, delegate: session)
            sessions[ObjectIdentifier(session)] = session
            session.start(connection, handshakeTimeout: options.handshakeTimeout)
        } catch {
            logger.warning("could not adopt peer connection", ["remote": remote, "error": error])
        }
    }

    /// Checks one decoded frame and delivers it; closes `connection` when the sender is not acceptable.
    func receive(_ frame: PeerFrame, on session: PeerInboundSession, connection: Connection) {
        let sender = NodeID(rawValue: frame.senderID)
        if frame.kind == .hello && sender != ownID && members[sender] == nil {
            // A member we do not know yet, typically one that joined before we applied its addition: its
            // hello may not cost it the connection (it would redial with backoff), and it carries nothing.
            // The connection stays anonymous, under the handshake timeout, until a frame we accept.
            return
        }
        guard sender != ownID, let member = members[sender] else {
            reject(connection, "peer frame from unknown sender; closing connection", ["sender": sender])
            return
        }
        let isNewSession = session.sender == nil
        guard session.identify(as: sender) else {
            reject(connection, "peer connection changed its sender; closing", [
                "first": session.sender.map { "\($0)" } ?? "-", "now": member.name,
            ])
            return
        }
        if isNewSession { links[sender]?.peerIsBack() }
        switch frame.kind {
        case .raft: receiveRaft(frame.payload, from: member, connection: connection)
        case .forward: receiveForward(frame.payload, from: member, connection: connection)
        case .hello:
            // Identified the sender above; the payload, if any, is its client address.
            if !frame.payload.isEmpty, frame.payload.count <= 512, let address = String(validating: frame.payload, as: UTF8.self) {
                onPeerClientAddress(sender, address)
            }
        }
    }

    private func receiveRaft(_ payload: [UInt8], from member: Member, connection: Connection) {
        let message: Message
        do {
            var reader = ByteReader(payload)
            message = try reader.readMessage(limits: options.messageLimits)
            try reader.expectEnd()
        } catch {
            reject(connection, "undecodable raft message; closing connection", ["peer": member.name, "error": error])
            return
        }
        guard message.from == member.id, message.to == ownID else {
            counters.droppedMisaddressed += 1
            logger.warning("misaddressed raft message dropped", [
                "peer": member.name, "from": message.from, "to": message.to,
            ])
            return
        }
        counters.messagesReceived += 1
        onMessage(message)
    }

    private func receiveForward(_ payload: [UInt8], from member: Member, connection: Connection) {
        let forward: ForwardMessage
        do {
            forward = try ForwardMessage.decode(payload, maxCommandBytes: options.maxForwardCommandBytes)
        } catch {
            reject(connection, "undecodable forward message; closing connection", ["peer": member.name, "error": error])
            return
        }
        counters.forwardsReceived += 1
        onForward(forward, member.id)
    }

    private func reject(_ connection: Connection, _ message: String, _ fields: KeyValuePairs<String, Any>) {
        counters.rejectedConnections += 1
        logger.warning(message, fields)
        logger.debug("rejected peer connection", ["remote": connection.peer])
        connection.close()
    }

    func countRejectedConnection() {
        counters.rejectedConnections += 1
    }

    // MARK: - Link and session events

    func peerDidConnect(_ id: NodeID) {
        guard !isClosed else { return }
        if let link = links[id] { send(kind: .hello, payload: Array(ownClientAddress.utf8), isSnapshot: false, on: link) }
        onPeerUp(id)
    }

    func peerDidDisconnect(_ id: NodeID) {
        guard !isClosed, members[id] != nil else { return }
        reportPeerDown(id)
    }

    func inboundDidClose(_ session: PeerInboundSession, reason: Connection.CloseReason) {
        sessions[ObjectIdentifier(session)] = nil
        logRefusal(reason, remote: session.remote)
        guard let sender = session.sender, !isClosed, members[sender] != nil else { return }
        logger.info("inbound peer connection closed", ["peer": members[sender]?.name ?? "\(sender)", "reason": reason])
        reportPeerDown(sender)
    }

    /// See `onPeerDown`: found by RollingRestartTests as "Fatal access conflict" when a reset during the Ready
    /// loop's early send reached the driver while the loop still held it.
    private func reportPeerDown(_ id: NodeID) {
        _ = loop.schedule(after: .zero) { [weak self] in
            guard let self, !self.isClosed else { return }
            self.onPeerDown(id)
        }
    }

    // MARK: - Lifecycle

    /// Stops listening, closes every connection and cancels reconnects; no callbacks run afterwards. Idempotent.
    public func close() {
        checkThread()
        guard !isClosed else { return }
        isClosed = true
        listener?.close()
        listener = nil
        for link in links.values { link.stop() }
        links = [:]
        for session in Array(sessions.values) { session.connection?.close() }
        sessions = [:]
    }

    // MARK: - Introspection

    /// Whether the outbound connection to `peer` is established.
    public func isConnected(to peer: NodeID) -> Bool {
        links[peer]?.isConnected ?? false
    }

    /// Counters of the link to `peer`, nil if it is not a peer.
    public func statistics(for peer: NodeID) -> PeerLinkStatistics? {
        links[peer]?.statistics
    }

    /// Bytes waiting in the transport's queue for `peer` (beyond what its connection buffers).
    public func queuedBytes(for peer: NodeID) -> Int {
        links[peer]?.queuedBytes ?? 0
    }

    /// Transport-wide counters.
    public var statistics: PeerTransportCounters { counters }

    /// Accepted connections currently open.
    public var inboundConnectionCount: Int { sessions.count }

    private func checkThread(_ function: StaticString = #function) {
        precondition(loop.isOnLoopThread, "PeerTransport.\(function) called off its loop thread")
    }
}

/// Transport-wide counters, for tests and the status endpoint.
public struct PeerTransportCounters: Sendable, Equatable {
    public var messagesReceived = 0
    public var forwardsReceived = 0
    /// Inbound connections closed for bad bytes or an unacceptable sender.
    public var rejectedConnections = 0
    /// Inbound connections closed at once because the inbound limit was reached.
    public var refusedConnections = 0
    /// Raft messages whose `from`/`to` did not match the frame's sender and us.
    public var droppedMisaddressed = 0
    public var droppedUnknownPeer = 0
    public var droppedOversized = 0
}

/// The bytes `PeerTransport.send(forwards:messages:)` gathers per peer before writing, in the order the peers first
/// appear. A batch is written early once it holds `limitBytes`, so a burst still fits the send queue piecewise.
private struct PeerWriteBatches {
    let limitBytes: Int
    private var batches: [(peer: NodeID, link: PeerLink?, bytes: [UInt8])] = []

    init(limitBytes: Int) { self.limitBytes = limitBytes }

    /// The link for `peer`, looked up once per batch (`lookUp` counts a drop for a peer that cannot take frames).
    mutating func link(for peer: NodeID, _ lookUp: (NodeID) -> PeerLink?) -> PeerLink? {
        if let batch = batches.first(where: { $0.peer == peer }) { return batch.link }
        let link = lookUp(peer)
        batches.append((peer, link, []))
        return link
    }

    mutating func append(_ frame: [UInt8], for peer: NodeID) {
        guard let position = batches.firstIndex(where: { $0.peer == peer }), let link = batches[position].link else { return }
        if !batches[position].bytes.isEmpty && batches[position].bytes.count + frame.count > limitBytes {
            link.send(PeerOutboundQueue.Frame(bytes: batches[position].bytes, isSnapshot: false))
            batches[position].bytes = []
        }
        batches[position].bytes.append(contentsOf: frame)
    }

    mutating func flush(_ peer: NodeID) {
        guard let position = batches.firstIndex(where: { $0.peer == peer }), let link = batches[position].link,
            !batches[position].bytes.isEmpty
        else { return }
        link.send(PeerOutboundQueue.Frame(bytes: batches[position].bytes, isSnapshot: false))
        batches[position].bytes = []
    }

    mutating func flushAll() {
        for batch in batches { flush(batch.peer) }
    }
}
