import EtcdAPI
import EtcdGateway
import GRPC
import HPACK
import HTTP2
import Posix
import Protobuf
import Raft
import Registry
import RosterNode

/// One HTTP/2 (h2c, prior knowledge) client connection carrying etcd v3 gRPC calls.
///
/// The HTTP/2 state machine (`HTTP2Connection`) and the etcd translation (`EtcdGateway`) are pure; this
/// class only moves bytes between them and the socket and hands node requests to the server. With I/O threads
/// (`--io-threads` > 0) the HTTP/2 layer runs on the I/O loop that carries the socket (`GRPCFront`, which also answers
/// `Range` calls from the published view): this class then takes that layer's events and sends it
/// `HTTP2Operation`s instead, and everything else stays as it is. Unary calls
/// become node requests answered through the server's pending table; `Watch` streams keep an
/// `EtcdWatchSession` fed with the events the node applies; `LeaseKeepAlive` streams turn each message into a
/// keepalive.
///
/// Back-pressure: outbound frames are taken from the HTTP/2 queues only while the socket is not over its
/// high-water mark, so a slow reader's data waits in bounded per-stream queues; a watch whose stream queue
/// is over `watchLagBytes` stops receiving live events and catches up from history when it drains.
final class GRPCConnection {
    enum CallKind {
        case unary
        case watch(EtcdWatchSession)
        case keepAlive
        /// `Maintenance.Snapshot`: nil until the backup is encoded, then the bytes still to send.
        case snapshot(SnapshotTransfer?)
    }

    struct Call {
        var method: EtcdMethod
        var kind: CallKind
        var deframer: GRPCMessageDeframer
        var timeoutMilliseconds: UInt64?
        /// The `token` metadata (from etcd's Authenticate), checked on every request of the call.
        var token: String?
        /// The client ended its side (END_STREAM or trailers).
        var clientDone = false
        var responseStarted = false
        /// Node requests in flight for this call.
        var inFlight = InFlightRequests()
        /// An auth request is being served off the loop (a password check or derivation).
        var isServingAuth = false
        /// On a relayed connection: the data octets sent on the stream, and those the I/O loop reports passed to
        /// the socket (`StreamProgress`); the difference is the stream's queue.
        var relayedBytes = 0
        var takenBytes = 0

        /// Marks the response started; true if it was not before (the caller sends the response headers).
        mutating func markResponseStarted() -> Bool {
            defer { responseStarted = true }
            return !responseStarted
        }
    }

    /// Queued bytes above which a watch stops taking live events (it catches up from history later).
    static let watchLagBytes = 1 << 20
    /// Largest request message accepted (etcd's 1.5 MiB request limit plus gRPC overhead).
    static let maxMessageBytes = 2 << 20

    /// HTTP/2 limits for etcd calls: one answer may be as large as a whole Range (etcd builds its answers whole
    /// too, and clientv3 accepts up to 2 GiB), so a stream may queue 64 MiB; the connection bound of 128 MiB
    /// caps what a client that stops reading can make this node hold. Watches are cut off from live events
    /// long before that (`watchLagBytes`).
    static let http2Limits: HTTP2Limits = {
        var limits = HTTP2Limits()
        limits.maxQueuedBytesPerStream = 64 << 20
        limits.maxQueuedBytesPerConnection = 128 << 20
        return limits
    }()

    /// The server that owns this connection.
    ///
    /// Unowned, so each `server.x` takes and drops a strong reference; to keep a value read from the server's
    /// driver (`server.registry.revision`) in place, Swift then copied the whole node driver out first (every table
    /// retained and released: about 4,000 instructions a read). The per-call paths bind `let server = self.server`
    /// once, and read through that strong reference without copies.
    unowned let server: RosterServer
    unowned let session: ClientSession
    /// The HTTP/2 layer, when it runs here (`--io-threads 0`); unused on a relayed connection.
    private(set) var http2: HTTP2Connection
    /// Set when the HTTP/2 layer runs on the I/O loop that carries the socket (`GRPCFront`): what this gateway sends
    /// then goes there as `HTTP2Operation`s, and its events come from there.
    let relay: RelayedConnection?
    /// Operations for the relayed HTTP/2 layer, sent by the next `flush`.
    private var operations: [HTTP2Operation] = []
    var calls = StreamTable<Call>()
    /// Sends PING acknowledgements held for an answer that did not come in time (`holdPingAcknowledgements`).
    private var pingHold: TimerID?

    /// How long PING acknowledgements may wait for an answer to leave with. Long enough for a linearizable read
    /// or a write under load; far below the keepalive timeouts clients wait for an acknowledgement (etcdctl's
    /// default is 6 s, gRPC-Go's 20 s).
    static let pingHoldLimit: Duration = .milliseconds(5)

    init(server: RosterServer, session: ClientSession, relay: RelayedConnection? = nil) {
        self.server = server
        self.session = session
        self.relay = relay
        http2 = HTTP2Connection(limits: Self.http2Limits)
    }

    var hasWatches: Bool { calls.values.contains { if case .watch = $0.kind { true } else { false } } }

    // MARK: - Input

    func receive(_ bytes: UnsafeRawBufferPointer) {
        let events = http2.receive(bytes)
        handle(events)
        if http2.outboundIsOnlyPingAcknowledgementsInPlace(), awaitsNodeAnswer {
            holdPingAcknowledgements()
        } else {
            flush()
        }
        // A window the client opened lets frames go that the flush above just took from the queues: a lagging watch
        // or a snapshot waiting for its queue to drain looks again now, or (when the socket never backed up, so no
        // drain follows) it would wait for the next read, possibly for ever.
        if events.contains(where: { if case .windowOpened = $0 { true } else { false } }) { drained() }
    }

    /// Events and stream progress from the HTTP/2 layer on the I/O loop (a relayed connection).
    func receive(_ events: [HTTP2Event], progress: [StreamProgress]) {
        for report in progress { calls[report.stream]?.takenBytes = report.takenBytes }
        handle(events)
        if !progress.isEmpty {
            resumeLaggingWatches()
            sendSnapshotChunks()
        }
        flush()
    }

    private func handle(_ events: [HTTP2Event]) {
        let endedLater = Self.streamsEndedByReset(in: events)
        for event in events {
            // The HTTP/2 layer has already closed such a stream: whatever its request would produce could not be
            // sent, and its `.streamReset` (or `.streamAborted`) later in this batch ends the call.
            if !endedLater.isEmpty, let stream = event.requestStream, endedLater.contains(stream) { continue }
            handle(event)
        }
    }

    /// The streams a batch of events resets or aborts. `HTTP2Connection.receive` handles a whole read before the
    /// gateway sees its events, so a client that cancels a call in the same write as its request (gRPC-Go cancels a
    /// watch stream right after its last cancel request) has the stream gone before its request is handled; the
    /// gateway skips those requests rather than answer on a stream that no longer exists.
    static func streamsEndedByReset(in events: [HTTP2Event]) -> [StreamID] {
        var ended: [StreamID] = []
        for event in events {
            switch event {
            case .streamReset(let stream, _), .streamAborted(let stream, _): ended.append(stream)
            default: break
            }
        }
        return ended
    }

    /// True while a call waits for the node's answer, which then comes within a round of replication or a
    /// read index.
    private var awaitsNodeAnswer: Bool { calls.values.contains { !$0.inFlight.isEmpty } }

    /// Keeps the PING acknowledgements just queued until the next answer's write (or `pingHoldLimit`).
    /// gRPC-Go clients ping with nearly every request they send (their bandwidth-delay estimate), so a lone
    /// acknowledgement per request would cost this node a write and a relay to the I/O thread, and the client a
    /// read and a wake-up, for 17 octets that can travel in front of the answer instead.
    private func holdPingAcknowledgements() {
        guard pingHold == nil, let loop = session.connection?.loop else { return }
        pingHold = loop.schedule(after: Self.pingHoldLimit) { [weak self] in
            guard let self else { return }
            self.pingHold = nil
            self.flush()
        }
    }

    private func handle(_ event: HTTP2Event) {
        switch event {
        case .requestHeaders(let stream, let headers, let endStream):
            open(stream, headers: headers)
            if endStream { clientEnded(stream) }
        case .data(let stream, let bytes, let endStream):
            data(bytes, on: stream)
            if endStream { clientEnded(stream) }
        case .trailers(let stream, _):
            clientEnded(stream)
        case .streamReset(let stream, _), .streamAborted(let stream, _):
            drop(stream)
        case .windowOpened:
            resumeLaggingWatches()
            sendSnapshotChunks()
        case .connectionFailed:
            // The connection dropped every stream with its GOAWAY: end the calls too, so no answer is sent on
            // a stream that no longer exists and no node request runs for nobody.
            closed()
        case .goAway:
            break  // The client opens nothing new; calls in progress finish.
        }
    }

    /// A new call: checks its headers and either starts it or answers with a Trailers-Only status.
    private func open(_ stream: StreamID, headers: [HeaderField]) {
        let server = self.server  // one strong reference for the call (see `server`)
        // Names and values are compared as octets and only the values kept become strings: a request carries a
        // dozen fields (user-agent, te, authority, ...) that would otherwise each become two strings per call.
        var pathOctets: [UInt8] = [], contentType: [UInt8] = [], encoding: [UInt8] = [], timeout: String?
        var requiresLeader = false, token: String?
        for field in headers {
            // By length first (literals, so no static is touched): most fields match none of the names and are
            // passed over without a comparison.
            let name = field.name
            switch name.count {
            case 5 where name == HeaderName.path:
                pathOctets = field.value
            case 5 where name == HeaderName.token:
                token = String(decoding: field.value, as: UTF8.self)
            case 12 where name == HeaderName.contentType:
                contentType = field.value
            case 12 where name == HeaderName.grpcTimeout:
                timeout = String(decoding: field.value, as: UTF8.self)
            case 13 where name == HeaderName.grpcEncoding:
                encoding = field.value
            case 9 where name == HeaderName.hasLeader:
                requiresLeader = field.value == HeaderName.trueValue
            default:
                break
            }
        }
        guard HeaderName.isGRPCContentType(contentType) else {
            let contentType = String(decoding: contentType, as: UTF8.self)
            return fail(stream, GRPCStatus(code: .unknown, message: "content-type \(contentType) is not application/grpc"))
        }
        guard encoding.isEmpty || encoding == HeaderName.identityEncoding else {
            let encoding = String(decoding: encoding, as: UTF8.self)
            return fail(stream, GRPCStatus(code: .unimplemented, message: "grpc-encoding \(encoding) is not supported; send uncompressed messages"))
        }
        guard let method = EtcdMethod(pathOctets: pathOctets) else {
            let path = String(decoding: pathOctets, as: UTF8.self)
            return fail(stream, GRPCStatus(code: .unimplemented, message: "unknown method \(path)"))
        }
        if requiresLeader && server.lastStatus.raft.leader == nil {
            return fail(stream, EtcdStatus.error(.noLeader))
        }
        var milliseconds: UInt64?
        if let timeout {
            do {
                milliseconds = UInt64(max(try GRPCTimeout(parsing: timeout).nanoseconds / 1_000_000, 1))
            } catch {
                return fail(stream, GRPCStatus(code: .internal, message: "malformed grpc-timeout \(timeout): \(error)"))
            }
        }
        let kind: CallKind
        switch method {
        case .watch, .leaseKeepAlive:
            // Streams authenticate once, when they open; a watch's permission is then checked per watch.
            var user: String?
            if server.registry.auth.isEnabled {
                if let rejection = server.authorize(.authenticated, token: token, session: session, what: method.rawValue) {
                    return fail(stream, EtcdStatus.of(rejection))
                }
                if case .success(let identified) = server.identify(token: token, session: session) { user = identified }
            }
            if method == .watch {
                var watches = EtcdWatchSession(context: server.etcdHeaderContext)
                watches.user = user
                kind = .watch(watches)
            } else {
                kind = .keepAlive
            }
        case .snapshot:
            // As etcd: a snapshot holds every key, so only root may take one.
            if server.registry.auth.isEnabled,
                let rejection = server.authorize(.root, token: token, session: session, what: method.rawValue)
            {
                return fail(stream, EtcdStatus.of(rejection))
            }
            kind = .snapshot(nil)
        default: kind = .unary
        }
        calls[stream] = Call(
            method: method, kind: kind, deframer: GRPCMessageDeframer(maxMessageBytes: Self.maxMessageBytes),
            timeoutMilliseconds: milliseconds, token: token)
        server.metrics.requests["grpc", default: 0] += 1
        if case .watch = kind { startResponse(stream) }
        if case .keepAlive = kind { startResponse(stream) }
    }

    private func data(_ bytes: [UInt8], on stream: StreamID) {
        guard calls.contains(stream) else { return }
        let messages: [[UInt8]]
        do {
            // In place: a copy of the call would share the deframer's buffers and copy them on append.
            messages = try calls[stream]!.deframer.append(bytes)
        } catch {
            return fail(stream, error.status)
        }
        for message in messages { self.message(message, on: stream) }
    }

    private func message(_ payload: [UInt8], on stream: StreamID) {
        guard let call = calls[stream] else { return }
        switch call.kind {
        case .unary:
            guard call.inFlight.isEmpty, !call.responseStarted, !call.isServingAuth else {
                return fail(stream, GRPCStatus(code: .internal, message: "a unary call takes exactly one request message"))
            }
            unary(call.method, payload, token: call.token, on: stream)
        case .watch(var watches):
            let request: WatchRequest
            do {
                request = try WatchRequest(decoding: payload)
            } catch {
                return fail(stream, GRPCStatus(code: .invalidArgument, message: "grpc: error unmarshalling request: \(error)"))
            }
            let responses = watches.receive(request, registry: server.registry)
            calls[stream]?.kind = .watch(watches)
            send(responses, on: stream)
        case .keepAlive:
            do {
                let request = try LeaseKeepAliveRequest(decoding: payload)
                submit(.keepAlive(LeaseID(UInt64(bitPattern: request.id))), kind: .grpcKeepAlive(stream, request.id), on: stream)
            } catch {
                fail(stream, GRPCStatus(code: .invalidArgument, message: "grpc: error unmarshalling request: \(error)"))
            }
        case .snapshot(let transfer):
            guard transfer == nil, call.inFlight.isEmpty, !call.responseStarted else {
                return fail(stream, GRPCStatus(code: .internal, message: "a snapshot call takes exactly one request message"))
            }
            startSnapshot(payload, on: stream)
        }
    }

    private func clientEnded(_ stream: StreamID) {
        // Marked in place, then read: a copy changed and written back cost a whole entry's retains and releases.
        calls[stream]?.clientDone = true
        guard let call = calls[stream] else { return }
        do {
            try call.deframer.finish()
        } catch {
            return fail(stream, error.status)
        }
        switch call.kind {
        case .unary:
            if call.inFlight.isEmpty && !call.responseStarted && !call.isServingAuth {
                fail(stream, GRPCStatus(code: .internal, message: "the call ended without a request message"))
            }
        case .keepAlive:
            // A half-closed keepalive stream (python-etcd3's refresh) is finished once its answers are out.
            if call.inFlight.isEmpty { finish(stream, .ok) }
        case .watch:
            finish(stream, .ok)
        case .snapshot:
            // The request normally comes with END_STREAM; the snapshot then streams on and finishes the call.
            if !call.responseStarted {
                fail(stream, GRPCStatus(code: .internal, message: "the call ended without a request message"))
            }
        }
    }

    // MARK: - Unary calls

    private func unary(_ method: EtcdMethod, _ payload: [UInt8], token: String?, on stream: StreamID) {
        let server = self.server  // one strong reference for the call (see `server`)
        if let plan = EtcdAuth.plan(method, payload: payload) {
            switch plan {
            case .fail(let status): fail(stream, status)
            case .serve(let request): serveAuth(request, method: method, token: token, on: stream)
            }
            return
        }
        let minimumTTLMilliseconds = server.registry.limits.minimumTTLMilliseconds
        // The plan needs member IDs and peers only; client addresses are added for local answers below.
        let plan = EtcdUnary.plan(
            method, payload: payload, minimumTTLMilliseconds: minimumTTLMilliseconds,
            members: server.lastStatus.members, leader: server.lastStatus.raft.leader?.rawValue)
        switch plan {
        case .fail(let status):
            fail(stream, status)
        case .local(let call):
            // As etcd 3.4: MemberList and Status check nothing (a member joining with --join reads the list).
            let requirement: AuthRequirement?
            switch call {
            case .memberList, .status: requirement = nil
            case .alarmList: requirement = .authenticated
            case .defragment, .leadershipAlreadyThere: requirement = .root
            }
            if let requirement, let rejection = server.authorize(requirement, token: token, session: session, what: method.rawValue) {
                return fail(stream, Self.status(of: rejection, method: method))
            }
            var status = server.lastStatus
            status.members = server.membersWithClientAddresses
            let answer = EtcdLocalAnswer.answer(
                call, status: status, context: server.etcdHeaderContext, ownClientURL: "http://\(server.clientAddressText)",
                storageBytes: Int64(server.driver.environment.storage.approximateBytes))
            respond(answer, on: stream)
        case .submit(let request, let reply):
            // Listing alarms reads Roster's own alarm keys, but etcd lets any user list alarms.
            let rejection: AuthRejection?
            if case .alarms = reply {
                rejection = server.authorize(.authenticated, token: token, session: session, what: method.rawValue)
            } else {
                rejection = server.authorize(request, token: token, session: session, what: method.rawValue)
            }
            if let rejection { return fail(stream, Self.status(of: rejection, method: method)) }
            submit(request, kind: .grpc(stream, reply), on: stream)
        }
    }

    /// The status for an auth refusal of `method`: etcd 3.4's maintenance server refuses Defragment, Hash and
    /// HashKV for want of the root role with its own error, `Unknown` "auth: permission denied"; everything else
    /// gets the `EtcdStatus` mapping.
    static func status(of rejection: AuthRejection, method: EtcdMethod) -> GRPCStatus {
        switch (rejection, method) {
        case (.permissionDenied, .defragment), (.permissionDenied, .hash), (.permissionDenied, .hashKV):
            GRPCStatus(code: .unknown, message: "auth: permission denied")
        default:
            EtcdStatus.of(rejection)
        }
    }

    /// A call of etcd's `Auth` service: changes are submitted like writes; tokens and reads answer directly.
    private func serveAuth(_ request: AuthRequest, method: EtcdMethod, token: String?, on stream: StreamID) {
        calls[stream]?.isServingAuth = true
        server.serveAuth(
            request, token: token, session: session, what: method.rawValue,
            answer: { [weak self] answer in
                guard let self, self.calls.contains(stream) else { return }
                let header = self.server.etcdHeaderContext.header(revision: self.server.registry.revision)
                switch answer {
                case .token(let token): self.respond(EtcdAuth.authenticated(token: token, header: header), on: stream)
                case .read(let read):
                    switch EtcdAuth.answer(read, auth: self.server.registry.auth, header: header) {
                    case .success(let bytes): self.respond(bytes, on: stream)
                    case .failure(let status): self.fail(stream, status)
                    }
                case .refused(let rejection): self.fail(stream, EtcdStatus.of(rejection))
                case .failed(let reason): self.fail(stream, GRPCStatus(code: .unavailable, message: "etcdserver: \(reason)"))
                }
                self.flush()
            },
            submitChange: { [weak self] command in
                guard let self, self.calls.contains(stream) else { return }
                self.submit(.write(command), kind: .grpc(stream, .auth), on: stream)
                self.flush()
            })
    }

    /// Hands a node request to the server; the answer comes back through `complete` or `completeKeepAlive`.
    private func submit(_ request: NodeRequest, kind: RosterServer.Pending.Kind, on stream: StreamID) {
        if case .read(let query, let options) = request, case .grpc(_, let reply) = kind,
            let response = server.answerLocally(query, options: options)
        {
            return answer(response, reply: reply, on: stream)
        }
        guard let id = server.submitGRPC(request, session: session, kind: kind, timeoutMilliseconds: calls[stream]?.timeoutMilliseconds)
        else {
            return fail(stream, EtcdStatus.error(.stopped))
        }
        calls[stream]?.inFlight.insert(id)
    }

    /// The node's answer to a unary call.
    func complete(_ id: RequestID, stream: StreamID, reply: EtcdReply, response: NodeResponse) {
        guard calls[stream]?.inFlight.remove(id) != nil else { return }
        answer(response, reply: reply, on: stream)
        flush()
    }

    /// Encodes the node's answer to a unary call and ends the call with it.
    private func answer(_ response: NodeResponse, reply: EtcdReply, on stream: StreamID) {
        let server = self.server  // one strong reference for the call (see `server`)
        let currentRevision = server.registry.revision
        let compactedRevision = server.registry.compactedRevision
        switch reply.encode(
            response, context: server.etcdHeaderContext, currentRevision: currentRevision,
            compactedRevision: compactedRevision, members: reply.listsMembers ? memberList() : [])
        {
        case .success(let bytes): respond(bytes, on: stream)
        case .failure(let status): fail(stream, status)
        }
    }

    /// Every member as etcd lists them, after a membership change this node applied.
    private func memberList() -> [EtcdAPI.Member] {
        var status = server.driver.status
        status.members = server.membersWithClientAddresses
        return EtcdLocalAnswer.members(
            status, ownID: server.ownID.rawValue, ownClientURL: "http://\(server.clientAddressText)")
    }

    /// The node's answer to one keepalive of a `LeaseKeepAlive` stream.
    func completeKeepAlive(_ id: RequestID, stream: StreamID, lease: Int64, response: NodeResponse) {
        let server = self.server  // one strong reference for the call (see `server`)
        guard calls[stream]?.inFlight.remove(id) != nil else { return }
        let revision = server.registry.revision
        let answer = EtcdKeepAlive.answer(
            lease: lease, response: response, context: server.etcdHeaderContext, revision: revision)
        switch answer {
        case .success(let bytes):
            send(message: bytes, on: stream)
            if let call = calls[stream], call.clientDone, call.inFlight.isEmpty { finish(stream, .ok) }
        case .failure(let status):
            fail(stream, status)
        }
        flush()
    }

    // MARK: - Watches

    /// Events the node applied, for every watch stream of this connection.
    func publish(_ batches: [(events: [RegistryEvent], revision: Revision)], registry: RegistryState) {
        var encoder = WatchResponseEncoder()
        for (stream, call) in calls {
            guard case .watch(var watches) = call.kind else { continue }
            if queuedBytes(on: stream) > Self.watchLagBytes { watches.isLagging = true }
            for batch in batches {
                watches.publish(batch.events, revision: batch.revision, registry: registry, into: &encoder)
            }
            calls[stream]?.kind = .watch(watches)
            let framed = encoder.takeFramed()
            if !framed.isEmpty { sendFramed(framed, on: stream) }
        }
        flush()
    }

    /// Cancels the watches whose stream's user may no longer read their keys (after an auth change).
    func cancelUnpermittedWatches(registry: RegistryState) {
        for (stream, call) in calls {
            guard case .watch(var watches) = call.kind else { continue }
            let responses = watches.cancelUnpermitted(registry: registry)
            calls[stream]?.kind = .watch(watches)
            send(responses, on: stream)
        }
        flush()
    }

    /// Every watch re-reads history (a snapshot replaced the state, or the stream drained).
    func catchUpWatches(registry: RegistryState) {
        for (stream, call) in calls {
            guard case .watch(var watches) = call.kind else { continue }
            let responses = watches.catchUp(registry: registry)
            calls[stream]?.kind = .watch(watches)
            send(responses, on: stream)
        }
        flush()
    }

    private func resumeLaggingWatches() {
        for (stream, call) in calls {
            guard case .watch(let watches) = call.kind, watches.isLagging,
                queuedBytes(on: stream) <= Self.watchLagBytes / 2
            else { continue }
            var resumed = watches
            let responses = resumed.catchUp(registry: server.registry)
            calls[stream]?.kind = .watch(resumed)
            send(responses, on: stream)
        }
    }

    // MARK: - Output

    func startResponse(_ stream: StreamID) {
        // One in-place access: a read of the call would copy it whole just to look at one flag.
        guard calls[stream]?.markResponseStarted() == true else { return }
        if relay != nil { return operations.append(.headers(stream, Self.responseHeaders)) }
        do {
            try http2.sendHeaders(Self.responseHeaders, on: stream)
        } catch {
            unexpected(error, stream, "response headers")
            drop(stream)
        }
    }

    private func send(_ responses: [WatchResponse], on stream: StreamID) {
        var encoder = WatchResponseEncoder()
        send(responses, on: stream, encoder: &encoder)
    }

    /// Sends a fan-out's responses on one stream as one run of gRPC messages: one queue entry and as few DATA
    /// frames as the window allows, rather than a frame per watch.
    private func send(_ responses: [WatchResponse], on stream: StreamID, encoder: inout WatchResponseEncoder) {
        guard !responses.isEmpty else { return }
        let messages = responses.map { encoder.encode($0) }
        var framed: [UInt8] = []
        framed.reserveCapacity(messages.reduce(0) { $0 + GRPCMessageDeframer.prefixBytes + $1.count })
        for message in messages { GRPCMessageFramer.append(message, to: &framed) }
        sendFramed(framed, on: stream)
    }

    func send(message: [UInt8], on stream: StreamID) {
        sendFramed(GRPCMessageFramer.frame(message), on: stream)
    }

    /// Queues gRPC-framed messages on the stream, ending the call (not the connection) if its reader is too slow.
    private func sendFramed(_ framed: [UInt8], on stream: StreamID) {
        startResponse(stream)
        if relay != nil {
            calls[stream]?.relayedBytes += framed.count
            return operations.append(.data(stream, framed))
        }
        do {
            try http2.sendData(framed, on: stream)
        } catch {
            if case .queueFull = error {
                // The client reads too slowly even for the bounded queue: end this call, not the connection.
                server.logger.warning("reset a gRPC stream whose client does not read", ["stream": "\(stream)", "error": "\(error)"])
                http2.resetStream(stream, code: .cancel)
            } else {
                unexpected(error, stream, "a message")
            }
            drop(stream)
        }
    }

    private func respond(_ message: [UInt8], on stream: StreamID) {
        send(message: message, on: stream)
        finish(stream, .ok)
    }

    /// Ends a call with `status`: trailers after a started response, Trailers-Only before one.
    func finish(_ stream: StreamID, _ status: GRPCStatus) {
        guard let call = calls.removeValue(forKey: stream) else { return }
        cancelInFlight(call)
        if relay != nil {
            let trailers = Self.trailers(status)
            return operations.append(
                call.responseStarted ? .trailers(stream, trailers) : .trailersOnly(stream, Self.responseHeaders + trailers))
        }
        do {
            if call.responseStarted {
                try http2.sendTrailers(Self.trailers(status), on: stream)
            } else {
                try http2.sendTrailersOnly(Self.responseHeaders + Self.trailers(status), on: stream)
            }
        } catch {
            unexpected(error, stream, "trailers")
        }
    }

    func fail(_ stream: StreamID, _ status: GRPCStatus) {
        if !calls.contains(stream) {
            // Refused before the call was set up, on the stream whose HEADERS `open` is handling.
            if relay != nil { return operations.append(.trailersOnly(stream, Self.responseHeaders + Self.trailers(status))) }
            do {
                try http2.sendTrailersOnly(Self.responseHeaders + Self.trailers(status), on: stream)
            } catch {
                unexpected(error, stream, "a Trailers-Only refusal")
            }
            return
        }
        finish(stream, status)
    }

    /// Handles a send the connection refused on a stream the gateway still holds a call for.
    ///
    /// Only one refusal is expected: `.connectionClosed`. `receive` returns all the events of one read at once,
    /// so a call opened early in a read may be answered after a later frame of the same read failed the
    /// connection; the `.connectionFailed` event that follows ends every call, so nothing is lost. Any other
    /// refusal means the gateway's bookkeeping disagrees with the connection's (a stream it thinks open and
    /// unanswered is not): a bug, stopped in debug builds and logged in release, costing only this call.
    private func unexpected(_ error: HTTP2SendError, _ stream: StreamID, _ what: String) {
        if case .connectionClosed = error { return }
        assertionFailure("HTTP/2 refused \(what) on gRPC stream \(stream), which the gateway holds open: \(error)")
        server.logger.warning(
            "HTTP/2 refused \(what) on a gRPC stream the gateway thought open", ["stream": "\(stream)", "error": "\(error)"])
    }

    private func drop(_ stream: StreamID) {
        guard let call = calls.removeValue(forKey: stream) else { return }
        cancelInFlight(call)
    }

    private func cancelInFlight(_ call: Call) {
        for id in call.inFlight.all { server.cancelGRPC(id) }
    }

    /// Moves queued frames to the socket while it is not backed up; closes once HTTP/2 is finished.
    func flush() {
        if let relay {
            guard !operations.isEmpty else { return }
            relay.sendHTTP2(operations)
            operations = []
            return
        }
        guard let connection = session.connection, !connection.isClosed else { return }
        if let pingHold {
            connection.loop.cancel(pingHold)
            self.pingHold = nil
        }
        http2.flush(to: connection)
    }

    /// The connection drained: more frames may go, and lagging watches catch up.
    func drained() {
        resumeLaggingWatches()
        sendSnapshotChunks()
        flush()
    }

    /// Every call ends: the connection closed.
    func closed() {
        for call in calls.values { cancelInFlight(call) }
        calls = [:]
    }

    /// Graceful shutdown: GOAWAY, then close once the calls in progress finish.
    func shutDown() {
        if relay != nil {
            operations.append(.gracefulShutdown)
        } else {
            http2.beginGracefulShutdown()
        }
        flush()
    }

    /// Body octets queued on `stream` and not yet written; on a relayed connection, what was sent minus what the I/O
    /// loop reported written, which overstates the queue by less than `GRPCFront.progressSlackBytes`.
    func queuedBytes(on stream: StreamID) -> Int {
        guard relay != nil else { return http2.queuedBytesInPlace(on: stream) }
        return calls[stream].map { $0.relayedBytes - $0.takenBytes } ?? 0
    }

    /// The request header names and values `open` looks for, as octets.
    enum HeaderName {
        static let path = Array(":path".utf8)
        static let contentType = Array("content-type".utf8)
        static let grpcEncoding = Array("grpc-encoding".utf8)
        static let grpcTimeout = Array("grpc-timeout".utf8)
        static let hasLeader = Array("hasleader".utf8)
        static let token = Array("token".utf8)
        static let trueValue = Array("true".utf8)
        static let grpcContentType = Array("application/grpc".utf8)
        static let identityEncoding = Array("identity".utf8)

        /// Whether a content-type starts with `application/grpc`, as `String.hasPrefix` answers it: by octets,
        /// except that a non-ASCII octet right after the prefix could combine with its final `c` into another
        /// character, which the string comparison this replaced would not count as the prefix.
        static func isGRPCContentType(_ value: [UInt8]) -> Bool {
            guard value.starts(with: grpcContentType) else { return false }
            guard value.count > grpcContentType.count, value[grpcContentType.count] >= 0x80 else { return true }
            return String(decoding: value, as: UTF8.self).hasPrefix("application/grpc")
        }
    }

    /// One constant list for every response, so the HPACK encoder recognizes it by identity and reuses its block.
    static let responseHeaders = [
        HeaderField(name: Array(":status".utf8), value: Array("200".utf8)),
        HeaderField(name: Array("content-type".utf8), value: Array("application/grpc".utf8)),
    ]

    /// The trailers of every successful call, one constant list for the same reason as `responseHeaders`.
    static let okTrailers = [HeaderField(name: Array("grpc-status".utf8), value: Array("0".utf8))]

    static func trailers(_ status: GRPCStatus) -> [HeaderField] {
        if status.code == .ok && status.message.isEmpty { return okTrailers }
        var fields = [HeaderField(name: Array("grpc-status".utf8), value: Array(String(status.code.rawValue).utf8))]
        if !status.message.isEmpty {
            fields.append(
                HeaderField(name: Array("grpc-message".utf8), value: Array(GRPCMessageEncoding.encode(status.message).utf8)))
        }
        return fields
    }
}

extension HTTP2Event {
    /// The stream whose request this event carries (headers, a message or the client's end); nil for the others.
    var requestStream: StreamID? {
        switch self {
        case .requestHeaders(let stream, _, _), .data(let stream, _, _), .trailers(let stream, _): stream
        default: nil
        }
    }
}

extension HTTP2Connection {
    // The connection's queries, for `GRPCConnection`, which stores the connection: called as getters on a struct
    // stored in a class, they made Swift copy the whole connection state out of the class first (retaining and
    // releasing every queue and table in it) for each query, several times per call in `flush` and once per
    // watch stream in a fan-out. As `mutating` methods they run on the stored value itself. The queries change
    // nothing; `takeOutboundIfAny` is `takeOutbound` behind its own check, so `flush` takes one access per step.

    /// `takeOutbound()` when `hasOutbound`, else nil: the check and the take in one access.
    mutating func takeOutboundIfAny() -> [UInt8]? { hasOutbound ? takeOutbound() : nil }

    /// Moves queued frames to `link` while it is not backed up (a slow reader's data waits in the bounded stream
    /// queues), and closes it after them once HTTP/2 is finished. One access to the connection state per step.
    mutating func flush(to link: some ClientLink) {
        while !link.isOverLimit, let bytes = takeOutboundIfAny() {
            link.write(bytes)
        }
        if isFinishedWithNothingToSend() { link.closeAfterFlush() }
    }

    /// `isFinished && !hasOutbound`, read in place in one access.
    mutating func isFinishedWithNothingToSend() -> Bool { isFinished && !hasOutbound }

    /// `outboundIsOnlyPingAcknowledgements`, read in place.
    mutating func outboundIsOnlyPingAcknowledgementsInPlace() -> Bool { outboundIsOnlyPingAcknowledgements }

    /// `queuedBytes(on:)`, read in place.
    mutating func queuedBytesInPlace(on stream: StreamID) -> Int { queuedBytes(on: stream) }
}
