import Foundation
import Synchronization

/// One item from a watch stream.
public enum WatchUpdate: Sendable {
    /// A change, in revision order.
    case event(WatchEvent)
    /// Nothing matched up to `revision`; the watch continues after it.
    case progress(revision: Int64)
    /// The requested start left the history window: `items` is the full matching state at `revision`, and events
    /// after it follow. Replace any cached state with it.
    case resync(revision: Int64, items: [KeyValue])
    /// The stream to one node broke (node down, lost its leader, silent too long); the watch is resuming on another
    /// node from the next revision, and nothing is lost or repeated.
    case interrupted(RosterClientError)
    /// The stream is live again on `endpoint`, starting at `fromRevision`.
    case resumed(endpoint: Endpoint, fromRevision: Int64)
}

/// What a watch observes and how it watches.
public struct WatchOptions: Sendable {
    /// The largest number of undelivered updates held for a slow consumer; beyond it the stream ends with
    /// `.watchOverflowed` and the revision to resume after.
    public var bufferLimit = 10_000
    /// How often an idle node sends a progress line.
    public var progressInterval: Duration = .seconds(1)
    /// The longest silence tolerated before the node is considered gone (a few progress intervals).
    public var idleTimeout: Duration = .seconds(5)
    /// Ask for `prev_instance`/`prev_value` on events.
    public var includePrevious = false

    /// Default options.
    public init() {}
}

/// What to watch.
public enum WatchTarget: Sendable {
    case service(String, namespace: String)
    case prefix(String)
    case key(String)

    var query: String {
        switch self {
        case .service(let service, let namespace):
            "service=\(RosterClient.encode(service))&namespace=\(RosterClient.encode(namespace))"
        case .prefix(let prefix): "prefix=\(RosterClient.encode(prefix))"
        case .key(let key): "key=\(RosterClient.encode(key))"
        }
    }
}

extension RosterClient {
    /// Watches a service's instances from `fromRevision` (inclusive; nil means from now), across node failures.
    ///
    /// The stream never ends on its own while the cluster is reachable: when a node dies, goes silent or loses its
    /// leader, the watch yields `.interrupted`, moves to the next node and resumes from the revision after the last
    /// one it delivered, then yields `.resumed`. It ends with an error only for a rejected request (4xx) or a
    /// consumer that fell `bufferLimit` updates behind (`.watchOverflowed`, carrying the revision to resume after).
    /// Cancelling the consuming task, or dropping the stream, stops it.
    public nonisolated func watch(
        service: String, namespace: String? = nil, fromRevision: Int64? = nil, options: WatchOptions = WatchOptions()
    ) -> AsyncThrowingStream<WatchUpdate, any Error> {
        watch(
            .service(service, namespace: namespace ?? configuration.namespace), fromRevision: fromRevision,
            options: options)
    }

    /// Watches keys (`.prefix`, `.key`) or a service; see `watch(service:namespace:fromRevision:options:)`.
    public nonisolated func watch(
        _ target: WatchTarget, fromRevision: Int64? = nil, options: WatchOptions = WatchOptions()
    ) -> AsyncThrowingStream<WatchUpdate, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(
            of: WatchUpdate.self, throwing: (any Error).self, bufferingPolicy: .bufferingOldest(options.bufferLimit))
        let runner = WatchRunner(
            configuration: configuration, target: target, next: fromRevision ?? 0, options: options,
            pool: watchStreams, continuation: continuation)
        continuation.onTermination = { _ in runner.cancel.cancel() }
        let thread = Thread { runner.run() }
        thread.name = "roster-watch"
        thread.start()
        return stream
    }
}

/// The blocking loop behind a watch: one thread, one node at a time, resuming after the last revision.
///
/// The watch rides the client's shared stream to the node (`SharedWatchStream`, one connection per node for all
/// of the client's watches), or its own `GET /v1/watch` stream on a node that predates watch streams.
final class WatchRunner: Sendable {
    let configuration: RosterClientConfiguration
    let target: WatchTarget
    let options: WatchOptions
    let continuation: AsyncThrowingStream<WatchUpdate, any Error>.Continuation
    let cancel = CancelFlag()
    let initialNext: Int64
    let pool: WatchStreamPool
    /// Re-authentications after a stale-token refusal, bounded so that a refused login cannot loop.
    private let staleTokenRetries = Atomic<Int>(0)

    init(
        configuration: RosterClientConfiguration, target: WatchTarget, next: Int64, options: WatchOptions,
        pool: WatchStreamPool, continuation: AsyncThrowingStream<WatchUpdate, any Error>.Continuation
    ) {
        self.configuration = configuration
        self.pool = pool
        self.target = target
        self.options = options
        self.continuation = continuation
        self.initialNext = next
    }

    /// A decoded line; exactly one of the optionals is set, or `type` for an event.
    private struct Line: Decodable {
        struct Progress: Decodable { var revision: Int64 }
        struct Resync: Decodable {
            var revision: Int64
            var items: [KeyValue]
        }
        struct ErrorBody: Decodable {
            var code: String
            var message: String
        }
        var error: ErrorBody?
        var progress: Progress?
        var resync: Resync?
        var type: String?
    }

    /// Runs until cancelled or a terminal error; every exit finishes the continuation.
    func run() {
        var cursor = WatchCursor(from: initialNext)
        var position = 0
        var failures = 0
        let endpoints = configuration.endpoints
        while !cancel.isCancelled {
            let endpoint = endpoints[position % endpoints.count]
            cursor.connected()
            let outcome =
                pool.supportsStreams(endpoint)
                ? followShared(endpoint, cursor: &cursor, failures: &failures)
                : followSingle(endpoint, cursor: &cursor, failures: &failures)
            switch outcome {
            case .stopped: return finish(nil)
            case .rejected(let error): return finish(error)
            case .interrupted(let error): if !yield(.interrupted(error), revision: nil) { return finish(nil) }
            case .retry: continue
            }
            position += 1
            failures += 1
            if failures % endpoints.count == 0 { sleep(round: failures / endpoints.count) }
        }
        finish(nil)
    }

    /// How following one node ended.
    private enum Outcome {
        /// The consumer went away or cancelled.
        case stopped
        /// The node refused the watch itself (4xx): no node will accept it.
        case rejected(RosterClientError)
        /// The node is gone or cut off; resume on the next one.
        case interrupted(RosterClientError)
        /// Try the same node again at once (it turned out not to support watch streams).
        case retry
    }

    /// Follows the watch on the client's shared stream to `endpoint` until that stream breaks.
    private func followShared(_ endpoint: Endpoint, cursor: inout WatchCursor, failures: inout Int) -> Outcome {
        let inbox = DeliveryQueue()
        let create = WatchCreate(target, fromRevision: cursor.resumeFrom, includePrevious: options.includePrevious)
        var subscription: (stream: SharedWatchStream, id: UInt64)?
        // A stream handed out may break or fill up before the subscription lands; a fresh one then serves.
        for _ in 0..<3 where subscription == nil && !cancel.isCancelled {
            let stream: SharedWatchStream
            do {
                let deadline = ContinuousClock.now + configuration.attemptTimeout
                stream = try pool.stream(
                    to: endpoint, options: options, headDeadline: deadline,
                    headers: pool.authorizationHeaders(configuration, endpoint: endpoint, deadline: deadline))
            } catch {
                if error.isStaleToken && staleTokenRetries.add(1, ordering: .relaxed).newValue <= 1 {
                    // The token expired or predates an auth change: log in again once and retry.
                    pool.forgetToken()
                    return .retry
                }
                if error.httpStatus == 404 || error.httpStatus == 405 {
                    pool.markUnsupported(endpoint)
                    return .retry
                }
                if error.isRejection && error.httpStatus != 429 { return .rejected(error) }
                return .interrupted(error)
            }
            if let id = stream.subscribe(create, deliver: { inbox.push($0) }) { subscription = (stream, id) }
        }
        guard let subscription else {
            if cancel.isCancelled { return .stopped }
            return .interrupted(RosterClientError(.unavailable, "no usable watch stream to \(endpoint)", endpoint: endpoint))
        }
        defer { subscription.stream.unsubscribe(subscription.id) }
        // Progress lines are per stream: before the node confirms this watch they say nothing about it.
        var isCreated = false
        while let delivery = inbox.pop(cancel: cancel) {
            switch delivery {
            case .created(let revision):
                isCreated = true
                if cursor.resumeFrom == 0 { cursor.startAfter(revision) }
                failures = 0
                if !yield(.resumed(endpoint: endpoint, fromRevision: cursor.resumeFrom), revision: nil) { return .stopped }
            case .line(let bytes):
                guard isCreated else { continue }
                switch handle(bytes, cursor: &cursor) {
                case .continue: continue
                case .stop: return .stopped
                case .failed(let error): return .interrupted(error)
                }
            case .refused(let error):
                return .rejected(error)
            case .broken(let error):
                return .interrupted(error)
            }
        }
        return .stopped
    }

    /// Follows the watch on its own `GET /v1/watch` stream: for nodes that predate watch streams.
    private func followSingle(_ endpoint: Endpoint, cursor: inout WatchCursor, failures: inout Int) -> Outcome {
        var path =
            "/v1/watch?\(target.query)&progress_interval=\(RosterClient.milliseconds(options.progressInterval))ms"
        if cursor.resumeFrom > 0 { path += "&from_revision=\(cursor.resumeFrom)" }
        if options.includePrevious { path += "&prev_value=true" }
        var streamError: RosterClientError?
        var stopped = false
        let outcome: Result<HTTPResponse, TransportFailure>
        do throws(TransportFailure) {
            outcome = .success(
                try BlockingHTTP.stream(
                    endpoint, path: path, headDeadline: .now + configuration.attemptTimeout,
                    idleTimeout: options.idleTimeout, cancel: cancel,
                    headers: pool.authorizationHeaders(configuration, endpoint: endpoint, deadline: .now + configuration.attemptTimeout),
                    onHead: { head in
                        if cursor.resumeFrom == 0, let text = head.headers["x-roster-revision"],
                            let revision = Int64(text)
                        {
                            cursor.startAfter(revision)
                        }
                        failures = 0
                        if !self.yield(.resumed(endpoint: endpoint, fromRevision: cursor.resumeFrom), revision: nil) {
                            stopped = true
                        }
                    },
                    onLine: { bytes in
                        if stopped { return false }
                        switch self.handle(bytes, cursor: &cursor) {
                        case .continue: return true
                        case .stop: stopped = true
                        case .failed(let error): streamError = error
                        }
                        return false
                    }))
        } catch {
            outcome = .failure(error)
        }
        if stopped || cancel.isCancelled { return .stopped }
        switch outcome {
        case .success(let response) where response.status != 200:
            let error = RosterClient.serverError(response, endpoint: endpoint)
            if response.status >= 400 && response.status < 500 && response.status != 429 { return .rejected(error) }
            return .interrupted(error)
        case .success:
            return .interrupted(
                streamError ?? RosterClientError(.unavailable, "\(endpoint) ended the watch stream", endpoint: endpoint))
        case .failure(.cancelled):
            return .stopped
        case .failure(let failure):
            return .interrupted(
                RosterClientError(.unavailable, "watch on \(endpoint) failed: \(failure)", cause: failure, endpoint: endpoint))
        }
    }

    private enum LineOutcome {
        case `continue`, stop
        case failed(RosterClientError)
    }

    private func handle(_ bytes: [UInt8], cursor: inout WatchCursor) -> LineOutcome {
        let line: Line
        do {
            line = try JSONDecoder().decode(Line.self, from: Data(bytes))
        } catch {
            return .failed(
                RosterClientError(
                    .invalidResponse, "unreadable watch line \(String(decoding: bytes.prefix(200), as: UTF8.self))",
                    cause: error))
        }
        if let error = line.error {
            return .failed(RosterClientError(.init(error.code), error.message))
        }
        if let progress = line.progress {
            guard progress.revision >= cursor.resumeFrom - 1 else { return .continue }
            guard yield(.progress(revision: progress.revision), revision: progress.revision) else { return .stop }
            cursor.startAfter(progress.revision)
        } else if let resync = line.resync {
            guard yield(.resync(revision: resync.revision, items: resync.items), revision: resync.revision) else {
                return .stop
            }
            cursor.startAfter(resync.revision)
        } else if line.type != nil {
            let event: WatchEvent
            do {
                event = try JSONDecoder().decode(WatchEvent.self, from: Data(bytes))
            } catch {
                return .failed(RosterClientError(.invalidResponse, "unreadable watch event", cause: error))
            }
            guard cursor.shouldDeliver(event.revision) else { return .continue }
            guard yield(.event(event), revision: event.revision) else { return .stop }
            cursor.delivered(event.revision)
        }
        return .continue
    }

    /// Yields, ending the stream with `.watchOverflowed` when the consumer's buffer is full.
    private func yield(_ update: WatchUpdate, revision: Int64?) -> Bool {
        switch continuation.yield(update) {
        case .enqueued: return true
        case .terminated:
            cancel.cancel()
            return false
        case .dropped:
            finish(
                RosterClientError(
                    .watchOverflowed,
                    "the consumer fell \(options.bufferLimit) updates behind; resume the watch after the revision "
                        + "in this error", revision: revision.map { $0 - 1 }))
            cancel.cancel()
            return false
        @unknown default:
            return false
        }
    }

    private func finish(_ error: RosterClientError?) {
        continuation.finish(throwing: error)
    }

    private func sleep(round: Int) {
        let capMilliseconds = min(1000, 50 << min(round, 5))
        let deadline = ContinuousClock.now + .milliseconds(Int.random(in: capMilliseconds / 2...capMilliseconds))
        while ContinuousClock.now < deadline && !cancel.isCancelled { usleep(20_000) }
    }
}

/// Where a watch stands, so a resumed stream neither loses nor repeats an event.
///
/// One write can produce several events at one revision (a lease expiry removes all its instances at once), and a
/// stream can break between them. So the cursor remembers the revision to resume from and how many of its events
/// were already delivered, and skips exactly those when the next node replays that revision.
struct WatchCursor: Equatable, Sendable {
    /// The `from_revision` to ask for; 0 means "from now" (only before the first connection).
    private(set) var resumeFrom: Int64
    /// Events at `resumeFrom` already delivered.
    private(set) var seenAtResume = 0
    /// Events at `resumeFrom` still to skip on the current connection.
    private var toSkip = 0

    init(from revision: Int64) { resumeFrom = max(0, revision) }

    /// A new connection starts: the replay of `resumeFrom` must skip what was delivered.
    mutating func connected() { toSkip = seenAtResume }

    /// Everything through `revision` is known (progress, resync or a stream head).
    mutating func startAfter(_ revision: Int64) {
        guard revision + 1 > resumeFrom || (revision + 1 == resumeFrom && seenAtResume == 0) else { return }
        resumeFrom = revision + 1
        seenAtResume = 0
        toSkip = 0
    }

    /// Whether an event at `revision` is new.
    mutating func shouldDeliver(_ revision: Int64) -> Bool {
        if revision < resumeFrom { return false }
        if revision == resumeFrom && toSkip > 0 {
            toSkip -= 1
            return false
        }
        return true
    }

    /// An event at `revision` was delivered.
    mutating func delivered(_ revision: Int64) {
        if revision == resumeFrom {
            seenAtResume += 1
        } else {
            resumeFrom = revision
            seenAtResume = 1
            toSkip = 0
        }
    }
}
