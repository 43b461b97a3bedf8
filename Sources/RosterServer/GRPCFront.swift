import EtcdAPI
import EtcdGateway
import GRPC
import HPACK
import HTTP2
import Posix
import Registry
import RosterNode

/// The HTTP/2 layer of an etcd gRPC connection, on the I/O loop that carries its socket (`--io-threads` > 0).
///
/// Why: with the HTTP/2 layer on the Raft loop, every etcd call cost that loop the framing, HPACK and gRPC work,
/// and the I/O thread two relays of raw bytes (36 µs of a member's CPU per one-key read, 2026-12-05), while an
/// HTTP read was answered whole on an I/O thread for 14 µs. Here the I/O loop runs the connection's frames,
/// header compression, flow control and PING; it answers the `Range` calls the published view answers exactly as
/// the Raft loop would (`LocalReadView`: serializable reads, linearizable ones on a caught-up sole voter, and
/// elsewhere linearizable ones after a read barrier, `ReadBarriers`), and passes every other call on as HTTP/2
/// events. The gateway on the Raft loop (`GRPCConnection`) serves those as
/// before and sends back `HTTP2Operation`s, which this layer frames in order.
///
/// Back-pressure: frames leave the HTTP/2 queues only while the socket is under its high-water mark, as before;
/// for watch and snapshot streams the gateway learns how far each queue has drained from `StreamProgress`, so a
/// lagging watch is still cut off from live events and a snapshot is still refilled only as it drains.
///
/// Owned by its I/O thread, like the `RelayEndpoint` that holds it.
final class GRPCFront {
    private unowned let relay: ClientIOLoop
    private unowned let endpoint: RelayEndpoint
    private let id: UInt64
    private weak var connection: Connection?
    private let reads: LocalReads?
    private let statistics: LocalReads.Statistics?
    private var http2 = HTTP2Connection(limits: GRPCConnection.http2Limits)
    /// Watch and snapshot streams passed on: the data octets the gateway sent on each, and the progress last reported.
    private var tracked: [StreamID: TrackedStream] = [:]
    /// Unary calls passed on and not yet answered: while there are any, PING acknowledgements wait for an answer.
    private var awaitingAnswer: Set<StreamID> = []
    private var pingHold: TimerID?
    /// Events for the gateway not yet reported; reported at the end of each input.
    private var events: [HTTP2Event] = []
    /// The first report tells the session the connection speaks HTTP/2, even with no event in it.
    private var hasReported = false
    /// Linearizable `Range` calls waiting for a read barrier, and which calls wait for which barrier (by its token).
    private var parked: [StreamID: ParkedRange] = [:]
    private var parkedByBarrier: [UInt64: [StreamID]] = [:]

    /// A linearizable `Range` call this loop answers once a read barrier passes, or passes on as it arrived.
    private struct ParkedRange {
        let headers: [HeaderField]
        let payload: [UInt8]
        let query: RegistryQuery
        let options: ReadOptions
        let reply: EtcdReply
        let started: Double
    }

    private struct TrackedStream {
        var sentBytes = 0
        var reportedTakenBytes = 0
    }

    init(
        relay: ClientIOLoop, endpoint: RelayEndpoint, id: UInt64, connection: Connection, reads: LocalReads?,
        statistics: LocalReads.Statistics?
    ) {
        self.relay = relay
        self.endpoint = endpoint
        self.id = id
        self.connection = connection
        self.reads = reads
        self.statistics = statistics
    }

    // MARK: - Input

    /// Bytes from the client. Returns the data octets passed on to the gateway (for the relay's inbound bound).
    func receive(_ bytes: UnsafeRawBufferPointer) -> Int {
        let received = http2.receive(bytes)
        var passedBytes = 0
        var answeredHere: [StreamID] = []
        for (index, event) in received.enumerated() {
            switch event {
            case .requestHeaders(let stream, let headers, let endStream):
                if !endStream, answerLocally(stream, headers: headers, rest: received[(index + 1)...]) {
                    answeredHere.append(stream)
                    continue
                }
                noteCall(stream, headers: headers)
            case .data(let stream, let bytes, _):
                if answeredHere.contains(stream) { continue }
                passedBytes += bytes.count
            case .trailers(let stream, _):
                if answeredHere.contains(stream) { continue }
            case .streamReset(let stream, _), .streamAborted(let stream, _):
                forget(stream)
            case .connectionFailed:
                tracked = [:]
                awaitingAnswer = []
                parked = [:]
            case .windowOpened, .goAway:
                break
            }
            events.append(event)
        }
        if !awaitingAnswer.isEmpty && http2.outboundIsOnlyPingAcknowledgementsInPlace() {
            holdPingAcknowledgements()
            report()
        } else {
            flush()
        }
        return passedBytes
    }

    /// The gateway's operations, in the order it made them.
    func perform(_ operations: [HTTP2Operation]) {
        for operation in operations {
            switch operation {
            case .headers(let stream, let fields):
                try? http2.sendHeaders(fields, on: stream)
            case .data(let stream, let bytes):
                do {
                    try http2.sendData(bytes, on: stream)
                    tracked[stream]?.sentBytes += bytes.count
                } catch {
                    if case .queueFull = error {
                        // The client reads too slowly even for the bounded queue: end this call, not the connection,
                        // and tell the gateway as if the client had reset it.
                        http2.resetStream(stream, code: .cancel)
                        forget(stream)
                        events.append(.streamReset(stream, .cancel))
                    }
                    // Anything else: the stream ended here (the client reset it, or the connection failed) before
                    // the operation arrived; the gateway hears of that from the events already on their way.
                }
            case .trailers(let stream, let fields):
                try? http2.sendTrailers(fields, on: stream)
                forget(stream)
            case .trailersOnly(let stream, let fields):
                try? http2.sendTrailersOnly(fields, on: stream)
                forget(stream)
            case .reset(let stream, let code):
                http2.resetStream(stream, code: code)
                forget(stream)
            case .gracefulShutdown:
                http2.beginGracefulShutdown()
            }
        }
        flush()
    }

    /// The socket drained: more frames may go.
    func drained() {
        flush()
    }

    /// The connection closed.
    func closed() {
        parked = [:]
        if let pingHold, let connection { connection.loop.cancel(pingHold) }
        pingHold = nil
    }

    // MARK: - Calls

    /// Notes a call passed on to the gateway: a unary call awaits its answer; a watch or snapshot stream's drain is
    /// reported.
    private func noteCall(_ stream: StreamID, headers: [HeaderField]) {
        guard let path = headers.first(where: { $0.name == GRPCConnection.HeaderName.path }),
            let method = EtcdMethod(pathOctets: path.value)
        else { return }
        switch method {
        case .watch, .snapshot: tracked[stream] = TrackedStream()
        case .leaseKeepAlive: break
        default: awaitingAnswer.insert(stream)
        }
    }

    private func forget(_ stream: StreamID) {
        tracked[stream] = nil
        awaitingAnswer.remove(stream)
        parked[stream] = nil
    }

    /// Answers a `Range` call from the published view when its whole request is in this read and the view answers it
    /// as the Raft loop would, or holds a linearizable one for a read barrier (`ReadBarriers`); false leaves the call
    /// to the gateway, untouched.
    private func answerLocally(_ stream: StreamID, headers: [HeaderField], rest: ArraySlice<HTTP2Event>) -> Bool {
        guard let reads, reads.answering != .nothing, Self.isPlainRange(headers),
            let payload = Self.wholeMessage(on: stream, in: rest)
        else { return false }
        let started = MonotonicClock.seconds()
        // A Range plan needs no TTL bound or member list.
        guard case .submit(.read(let query, let options), let reply) = EtcdUnary.plan(
            .range, payload: payload, minimumTTLMilliseconds: 0, members: [])
        else { return false }
        if options.consistency == .linearizable && reads.answering != .allReads {
            park(
                stream,
                ParkedRange(headers: headers, payload: payload, query: query, options: options, reply: reply, started: started))
            return true
        }
        guard let view = reads.currentView(), !view.state.registry.auth.isEnabled else { return false }
        let age = reads.leaderContactAge(isLeader: view.isLeader, nowMilliseconds: MonotonicClock.milliseconds())
        guard let response = view.state.answer(query, options: options, leaderContactAgeMilliseconds: age) else { return false }
        return send(response, from: view, reply: reply, on: stream, started: started)
    }

    /// Sends the answer to a call from `view`; false when it does not encode (the call then goes to the gateway).
    private func send(_ response: NodeResponse, from view: LocalReads.View, reply: EtcdReply, on stream: StreamID, started: Double)
        -> Bool
    {
        let registry = view.state.registry
        guard case .success(let message) = reply.encode(
                response, context: view.etcdHeader, currentRevision: registry.revision,
                compactedRevision: registry.compactedRevision)
        else { return false }
        do {
            try http2.sendHeaders(GRPCConnection.responseHeaders, on: stream)
            try http2.sendData(GRPCMessageFramer.frame(message), on: stream)
            try http2.sendTrailers(GRPCConnection.okTrailers, on: stream)
        } catch {
            // Only a failed connection, or a client that reset the stream, refuses these; the event that says so
            // tells the gateway.
            if case .queueFull = error { http2.resetStream(stream, code: .cancel) }
        }
        statistics?.latency.withLock { $0.observe(MonotonicClock.seconds() - started) }
        statistics?.etcdRanges.add(1, ordering: .relaxed)
        return true
    }

    /// Holds a linearizable `Range` call for the read barrier asked at the end of this loop turn; PING
    /// acknowledgements wait for its answer as for any unary call's.
    private func park(_ stream: StreamID, _ call: ParkedRange) {
        parked[stream] = call
        awaitingAnswer.insert(stream)
        let token = relay.readBarriers.arrivingToken
        if parkedByBarrier[token] == nil {
            parkedByBarrier[token] = []
            relay.waitForReadBarrier { [weak self] appliedIndex in self?.barrierPassed(token, appliedIndex: appliedIndex) }
        }
        parkedByBarrier[token, default: []].append(stream)
    }

    /// The barrier the calls parked under `token` waited for passed at `appliedIndex` (nil: it failed): each call
    /// still open is answered from the newest view, which holds that index applied, or passed on to the gateway as it
    /// arrived when the view cannot answer it.
    private func barrierPassed(_ token: UInt64, appliedIndex: UInt64?) {
        guard let streams = parkedByBarrier.removeValue(forKey: token) else { return }
        let view = appliedIndex == nil ? nil : reads?.newestView()
        for stream in streams {
            guard let call = parked.removeValue(forKey: stream) else { continue }  // reset meanwhile
            if let appliedIndex, let view, !view.state.registry.auth.isEnabled {
                let age = reads?.leaderContactAge(isLeader: view.isLeader, nowMilliseconds: MonotonicClock.milliseconds())
                if let response = view.state.answer(
                    afterBarrierAt: appliedIndex, call.query, options: call.options, leaderContactAgeMilliseconds: age),
                    send(response, from: view, reply: call.reply, on: stream, started: call.started)
                {
                    awaitingAnswer.remove(stream)
                    continue
                }
            }
            let body = GRPCMessageFramer.frame(call.payload)
            events.append(.requestHeaders(stream, call.headers, endStream: false))
            events.append(.data(stream, body, endStream: true))
            endpoint.passedOn(body.count)
        }
        flush()
    }

    /// Whether request headers open a `KV.Range` call this loop may answer: gRPC content, no compression, and no
    /// `hasleader` requirement (the gateway checks that against the node's status).
    static func isPlainRange(_ headers: [HeaderField]) -> Bool {
        var isRange = false, isGRPC = false
        for field in headers {
            let name = field.name
            switch name.count {
            case 5 where name == GRPCConnection.HeaderName.path:
                isRange = field.value == rangePath
            case 12 where name == GRPCConnection.HeaderName.contentType:
                isGRPC = GRPCConnection.HeaderName.isGRPCContentType(field.value)
            case 13 where name == GRPCConnection.HeaderName.grpcEncoding:
                if !field.value.isEmpty && field.value != GRPCConnection.HeaderName.identityEncoding { return false }
            case 9 where name == GRPCConnection.HeaderName.hasLeader:
                if field.value == GRPCConnection.HeaderName.trueValue { return false }
            default:
                break
            }
        }
        return isRange && isGRPC
    }

    static let rangePath = Array("/etcdserverpb.KV/Range".utf8)

    /// The one gRPC message `stream` carries in `events`, when its DATA up to END_STREAM is all there and holds
    /// exactly one message; nil otherwise (the call then goes to the gateway, which answers every other shape).
    static func wholeMessage(on stream: StreamID, in events: ArraySlice<HTTP2Event>) -> [UInt8]? {
        var deframer = GRPCMessageDeframer(maxMessageBytes: GRPCConnection.maxMessageBytes)
        var messages: [[UInt8]] = []
        for event in events {
            switch event {
            case .data(stream, let bytes, let endStream):
                guard let more = try? deframer.append(bytes) else { return nil }
                messages += more
                guard endStream else { continue }
                guard (try? deframer.finish()) != nil, messages.count == 1 else { return nil }
                return messages[0]
            case .trailers(stream, _), .streamReset(stream, _), .streamAborted(stream, _), .connectionFailed:
                return nil
            default:
                continue
            }
        }
        return nil
    }

    // MARK: - Output

    /// Keeps the PING acknowledgements just queued until the next answer's write (see `GRPCConnection.pingHoldLimit`).
    private func holdPingAcknowledgements() {
        guard pingHold == nil, let connection else { return }
        pingHold = connection.loop.schedule(after: GRPCConnection.pingHoldLimit) { [weak self] in
            guard let self else { return }
            self.pingHold = nil
            self.flush()
        }
    }

    /// Moves queued frames to the socket while it is not backed up, closes once HTTP/2 is finished, and reports.
    private func flush() {
        if let connection, !connection.isClosed {
            if let pingHold {
                connection.loop.cancel(pingHold)
                self.pingHold = nil
            }
            http2.flush(to: connection)
        }
        report()
    }

    /// Octets a tracked stream may drain before the gateway is told: its view of the stream's queue overstates the
    /// real one by less than this, far below the watch lag bound (1 MiB) and the snapshot refill mark. Without the
    /// slack every fan-out of a write to a connection's watches (etcd's clients carry up to 100 per connection) would
    /// come back as a progress report.
    static let progressSlackBytes = 64 << 10

    /// Sends the gateway this input's events and the drain of every tracked stream that moved enough.
    private func report() {
        var progress: [StreamProgress] = []
        for (stream, state) in tracked {
            let taken = state.sentBytes - http2.queuedBytesInPlace(on: stream)
            guard taken - state.reportedTakenBytes >= Self.progressSlackBytes else { continue }
            tracked[stream]?.reportedTakenBytes = taken
            progress.append(StreamProgress(stream: stream, takenBytes: taken))
        }
        guard !events.isEmpty || !progress.isEmpty || !hasReported else { return }
        hasReported = true
        let batch = events
        events = []
        relay.report(.http2(id: id, events: batch, progress: progress))
    }
}
