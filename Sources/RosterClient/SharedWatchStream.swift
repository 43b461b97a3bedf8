import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One watch stream (`POST /v1/watch`) to one node, shared by every watch of one client on that node: a service
/// that follows 30 dependencies holds one connection per node, not 30.
///
/// A reader thread cuts the stream into lines and routes each to the watch it names (`"watch":id`, or the id of a
/// `created`/`canceled` line); progress lines concern every watch and go to all. When the stream breaks (the node
/// died, lost its leader, fell silent past the idle timeout), every watch hears `.broken` and resumes elsewhere on
/// its own, exactly as a watch with its own connection would.
final class SharedWatchStream: @unchecked Sendable {
    // Safety: the reader thread alone uses `reader` and receives on `connection`; sends and the final close happen under
    // `sendLock` (`isClosed` is only touched under it), so no thread uses the descriptor after it is closed.
    // `Connection.send` mutates only `sentAnything`, which `receive` never reads. Everything else mutable is in
    // `state`, under its mutex.

    /// What a watch hears from its stream.
    enum Delivery: Sendable {
        /// The node confirmed the watch; without a start revision, its events are those after `revision`.
        case created(revision: Int64)
        /// An event, resync or progress line, to decode as on a single-watch stream.
        case line([UInt8])
        /// The node refused the watch (a 4xx-like reason: bad name, too many watches).
        case refused(RosterClientError)
        /// The stream is gone; resume on another node.
        case broken(RosterClientError)
    }

    /// The most watches one stream carries; the server refuses more (`too_many_watches`), so the pool opens
    /// another stream instead.
    static let capacity = 1_000

    let endpoint: Endpoint
    private let connection: Connection
    private var reader: ResponseReader
    private let cancel: CancelFlag
    private let sendLock = NSLock()
    private var isClosed = false
    private let state = Mutex(State())

    private struct State {
        var subscribers: [UInt64: @Sendable (Delivery) -> Void] = [:]
        var nextID: UInt64 = 1
        var broken: RosterClientError?
    }

    private init(endpoint: Endpoint, connection: Connection, reader: ResponseReader, cancel: CancelFlag) {
        self.endpoint = endpoint
        self.connection = connection
        self.reader = reader
        self.cancel = cancel
    }

    /// Opens a stream and starts its reader thread.
    /// - Throws: `RosterClientError`: with `httpStatus` when the node answered other than 200 (404 or 405: a node
    ///   that predates watch streams), else `.unavailable`.
    static func open(
        _ endpoint: Endpoint, progressInterval: Duration, idleTimeout: Duration, headDeadline: ContinuousClock.Instant,
        headers: [String] = []
    ) throws(RosterClientError) -> SharedWatchStream {
        let cancel = CancelFlag()
        let connection: Connection
        var reader: ResponseReader
        let response: HTTPResponse
        do throws(TransportFailure) {
            connection = try Connection.open(endpoint, deadline: headDeadline, cancel: cancel)
        } catch {
            throw RosterClientError(.unavailable, "watch stream to \(endpoint) failed: \(error)", cause: error, endpoint: endpoint)
        }
        do throws(TransportFailure) {
            let path = "/v1/watch?progress_interval=\(RosterClient.milliseconds(progressInterval))ms"
            try connection.send(
                BlockingHTTP.requestBytes(endpoint, method: "POST", path: path, body: nil, headers: headers), deadline: headDeadline)
            reader = ResponseReader(connection: connection)
            var head = try reader.readHead(deadline: headDeadline)
            if head.status != 200 {
                head.body = try reader.readBody(headers: head.headers, method: "POST", deadline: headDeadline)
            }
            response = head
        } catch {
            connection.close()
            throw RosterClientError(.unavailable, "watch stream to \(endpoint) failed: \(error)", cause: error, endpoint: endpoint)
        }
        guard response.status == 200 else {
            connection.close()
            throw RosterClient.serverError(response, endpoint: endpoint)
        }
        let stream = SharedWatchStream(endpoint: endpoint, connection: connection, reader: reader, cancel: cancel)
        let thread = Thread { stream.read(idleTimeout: idleTimeout) }
        thread.name = "roster-watch-stream"
        thread.start()
        return stream
    }

    var isBroken: Bool { state.withLock { $0.broken != nil } }

    /// Whether another watch fits on this stream.
    var hasRoom: Bool { state.withLock { $0.broken == nil && $0.subscribers.count < Self.capacity } }

    /// Starts a watch on this stream; `deliver` hears everything about it, from the reader thread.
    /// - Returns: The watch id, or nil when the stream broke or filled up meanwhile (open another).
    func subscribe(_ create: WatchCreate, deliver: @escaping @Sendable (Delivery) -> Void) -> UInt64? {
        let admitted: UInt64? = state.withLock { state in
            guard state.broken == nil, state.subscribers.count < Self.capacity else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.subscribers[id] = deliver
            return id
        }
        guard let id = admitted else { return nil }
        var create = create
        create.id = id
        send(ControlLine(create: create))
        return id
    }

    /// Stops a watch; when it was the last one, the stream closes.
    func unsubscribe(_ id: UInt64) {
        let isLast = state.withLock { state in
            state.subscribers[id] = nil
            return state.subscribers.isEmpty
        }
        if isLast {
            fail(RosterClientError(.closed, "no watch left on the stream to \(endpoint)"))
        } else {
            send(ControlLine(cancel: .init(id: id)))
        }
    }

    // MARK: - Private

    private func send(_ line: ControlLine) {
        let data: Data
        do {
            data = try JSONEncoder().encode(line)
        } catch {
            preconditionFailure("watch control line not encodable: \(error)")
        }
        var failure: TransportFailure?
        sendLock.lock()
        if !isClosed {
            do throws(TransportFailure) {
                try connection.send(Array(data) + [0x0A], deadline: .now + .seconds(5))
            } catch {
                failure = error
            }
        }
        sendLock.unlock()
        if let failure {
            fail(RosterClientError(.unavailable, "watch stream to \(endpoint) broke: \(failure)", cause: failure, endpoint: endpoint))
        }
    }

    /// Marks the stream broken, tells every watch once, and closes the socket.
    private func fail(_ error: RosterClientError) {
        let subscribers: [@Sendable (Delivery) -> Void]? = state.withLock { state in
            guard state.broken == nil else { return nil }
            state.broken = error
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        guard let subscribers else { return }
        cancel.cancel()
        sendLock.lock()
        if !isClosed { _ = shutdown(connection.descriptor, Int32(SHUT_RDWR)) }
        sendLock.unlock()
        for deliver in subscribers { deliver(.broken(error)) }
    }

    /// The reader thread: chunks to lines to watches, until the stream breaks.
    private func read(idleTimeout: Duration) {
        var pending: [UInt8] = []
        defer {
            sendLock.lock()
            isClosed = true
            connection.close()
            sendLock.unlock()
        }
        while !isBroken {
            let chunk: [UInt8]?
            do throws(TransportFailure) {
                chunk = try reader.readChunk(deadline: .now + idleTimeout)
            } catch {
                return fail(RosterClientError(.unavailable, "watch stream to \(endpoint) failed: \(error)", cause: error, endpoint: endpoint))
            }
            guard let chunk else {
                return fail(RosterClientError(.unavailable, "\(endpoint) ended the watch stream", endpoint: endpoint))
            }
            pending.append(contentsOf: chunk)
            var start = 0
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                if newline > start { route(Array(pending[start..<newline])) }
                start = newline + 1
            }
            pending.removeFirst(start)
        }
    }

    private static let watchPrefix = Array(#"{"watch":"#.utf8)
    private static let resyncPrefix = Array(#"{"resync":{"watch":"#.utf8)

    /// Sends one line to the watch it concerns (events and resyncs by their `watch` field, cheaply; the rare
    /// control answers through Foundation's JSON).
    private func route(_ line: [UInt8]) {
        if let id = Self.number(after: Self.watchPrefix, in: line) ?? Self.number(after: Self.resyncPrefix, in: line) {
            deliver(.line(line), to: id)
            return
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else { return }
        if let created = object["created"] as? [String: Any], let id = created["id"] as? Int,
            let revision = created["revision"] as? Int
        {
            deliver(.created(revision: Int64(revision)), to: UInt64(id))
        } else if let canceled = object["canceled"] as? [String: Any], let error = canceled["error"] as? [String: Any] {
            let refusal = RosterClientError(
                .init(error["code"] as? String ?? "watch_refused"), error["message"] as? String ?? "watch refused",
                endpoint: endpoint)
            if let id = canceled["id"] as? Int { deliver(.refused(refusal), to: UInt64(id)) }
        } else if object["progress"] != nil {
            let everyone = state.withLock { Array($0.subscribers.values) }
            for deliver in everyone { deliver(.line(line)) }
        } else if let error = object["error"] as? [String: Any] {
            fail(
                RosterClientError(
                    .init(error["code"] as? String ?? "watch_failed"), error["message"] as? String ?? "watch stream ended",
                    endpoint: endpoint))
        }
    }

    private func deliver(_ delivery: Delivery, to id: UInt64) {
        let subscriber = state.withLock { $0.subscribers[id] }
        subscriber?(delivery)
    }

    /// The decimal number right after `prefix` at the start of `line`.
    private static func number(after prefix: [UInt8], in line: [UInt8]) -> UInt64? {
        guard line.count > prefix.count, line.starts(with: prefix) else { return nil }
        var value: UInt64 = 0
        var position = prefix.count
        while position < line.count, (48...57).contains(line[position]) {
            value = value &* 10 &+ UInt64(line[position] - 48)
            position += 1
        }
        return position > prefix.count ? value : nil
    }
}

/// The shared watch streams of one client, at most `SharedWatchStream.capacity` watches each.
final class WatchStreamPool: Sendable {
    private struct Key: Hashable {
        var endpoint: Endpoint
        var progressMilliseconds: Int64
        var idleMilliseconds: Int64
    }

    private let streams = Mutex<[Key: [SharedWatchStream]]>([:])
    /// Nodes that answered `POST /v1/watch` with 404 or 405: their watches use one `GET` stream each.
    private let unsupported = Mutex<Set<Endpoint>>([])
    /// Serializes opening, so watches started together share one new stream instead of racing to open several.
    private let opening = Mutex<Void>(())

    init() {}

    /// A live stream to `endpoint` with room for one more watch, opened if needed.
    func stream(
        to endpoint: Endpoint, options: WatchOptions, headDeadline: ContinuousClock.Instant, headers: [String] = []
    ) throws(RosterClientError) -> SharedWatchStream {
        let key = Key(
            endpoint: endpoint, progressMilliseconds: RosterClient.milliseconds(options.progressInterval),
            idleMilliseconds: RosterClient.milliseconds(options.idleTimeout))
        return try opening.withLock { _ throws(RosterClientError) -> SharedWatchStream in
            if let live = streams.withLock({ $0[key]?.first { $0.hasRoom } }) { return live }
            let stream = try SharedWatchStream.open(
                endpoint, progressInterval: options.progressInterval, idleTimeout: options.idleTimeout,
                headDeadline: headDeadline, headers: headers)
            streams.withLock { all in
                all[key] = (all[key] ?? []).filter { !$0.isBroken } + [stream]
            }
            return stream
        }
    }

    /// The token the client's watches send when it has credentials (watches run on their own threads, so they
    /// log in themselves rather than through the actor).
    private let token = Mutex<String?>(nil)

    /// `Authorization` header lines for a watch opened now: none without credentials; else the current token,
    /// authenticating first (blocking, on the watch's thread) when there is none.
    func authorizationHeaders(_ configuration: RosterClientConfiguration, endpoint: Endpoint, deadline: ContinuousClock.Instant)
        -> [String]
    {
        guard let credentials = configuration.credentials else { return [] }
        if let current = token.withLock({ $0 }) { return ["Authorization: Bearer \(current)"] }
        struct Answer: Decodable { var token: String }
        do {
            let body = try JSONSerialization.data(withJSONObject: ["name": credentials.user, "password": credentials.password])
            let response = try BlockingHTTP.exchange(
                endpoint, method: "POST", path: "/v1/auth/authenticate", body: Array(body), deadline: deadline, cancel: CancelFlag())
            guard response.status == 200 else { return [] }
            let answer = try JSONDecoder().decode(Answer.self, from: Data(response.body))
            token.withLock { $0 = answer.token }
            return ["Authorization: Bearer \(answer.token)"]
        } catch {
            // No token: the open then fails with the node's own refusal, which names the problem.
            return []
        }
    }

    /// Forgets the token after a node refused it as stale, so the next open authenticates again.
    func forgetToken() { token.withLock { $0 = nil } }

    /// Whether `endpoint` serves watch streams (as far as is known).
    func supportsStreams(_ endpoint: Endpoint) -> Bool { !unsupported.withLock { $0.contains(endpoint) } }

    func markUnsupported(_ endpoint: Endpoint) { _ = unsupported.withLock { $0.insert(endpoint) } }

    /// How many live streams the pool holds (for tests and metrics).
    var liveStreamCount: Int {
        streams.withLock { all in all.values.reduce(0) { $0 + $1.filter { !$0.isBroken }.count } }
    }
}

/// What a watch asks its shared stream for: the fields of a `create` line.
struct WatchCreate: Encodable, Sendable {
    var id: UInt64 = 0
    var service: String?
    var namespace: String?
    var prefix: String?
    var key: String?
    var fromRevision: Int64?
    var includePrevious: Bool?

    enum CodingKeys: String, CodingKey {
        case id, service, namespace, prefix, key
        case fromRevision = "from_revision"
        case includePrevious = "prev_value"
    }

    init(_ target: WatchTarget, fromRevision: Int64, includePrevious: Bool) {
        switch target {
        case .service(let service, let namespace):
            self.service = service
            self.namespace = namespace
        case .prefix(let prefix): self.prefix = prefix
        case .key(let key): self.key = key
        }
        self.fromRevision = fromRevision > 0 ? fromRevision : nil
        self.includePrevious = includePrevious ? true : nil
    }
}

/// One control line: exactly one of its fields is set.
private struct ControlLine: Encodable {
    struct Cancel: Encodable { var id: UInt64 }
    var create: WatchCreate?
    var cancel: Cancel?
}

/// A watch's inbox: the reader thread pushes, the watch's own thread waits for the next delivery.
final class DeliveryQueue: @unchecked Sendable {
    // Safety: `items` is only touched while holding `condition`.
    private let condition = NSCondition()
    private var items: [SharedWatchStream.Delivery] = []

    func push(_ delivery: SharedWatchStream.Delivery) {
        condition.lock()
        items.append(delivery)
        condition.signal()
        condition.unlock()
    }

    /// The next delivery, or nil once `cancel` is set; waits in slices so a cancellation is noticed promptly.
    func pop(cancel: CancelFlag) -> SharedWatchStream.Delivery? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty {
            if cancel.isCancelled { return nil }
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(BlockingHTTP.pollSliceMilliseconds) / 1000))
        }
        return items.removeFirst()
    }
}
