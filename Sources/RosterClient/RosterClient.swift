import Foundation

/// How a `RosterClient` finds nodes and how long it keeps trying.
public struct RosterClientConfiguration: Sendable {
    /// The nodes to talk to; any subset of the cluster works, more give more failover.
    public var endpoints: [Endpoint]
    /// The default deadline of one call, all retries included.
    public var callTimeout: Duration = .seconds(10)
    /// The deadline of one attempt on one node, so a silent node costs at most this before the next is tried: until
    /// the answer's head arrives, and then for any silence while its body arrives (the body itself may take until the
    /// call's deadline).
    public var attemptTimeout: Duration = .seconds(3)
    /// The first retry waits up to this (full jitter), doubling per round up to `maximumBackoff`.
    public var initialBackoff: Duration = .milliseconds(50)
    public var maximumBackoff: Duration = .seconds(1)
    /// The namespace used when a call names none.
    public var namespace: String = "default"
    /// TLS for every endpoint (overriding what each endpoint says); nil leaves each endpoint as it is.
    public var tls: ClientTLS?
    /// A user and password for clusters with auth enabled: the client authenticates before its first call,
    /// sends the token as `Authorization: Bearer`, and authenticates again when a node refuses the token as
    /// expired or older than an auth change. Nil sends no token (auth off, or a client certificate user).
    public var credentials: Credentials?

    /// Creates a configuration for `endpoints`.
    public init(endpoints: [Endpoint]) { self.endpoints = endpoints }
}

/// The Roster client: talks HTTP/JSON to any node of a cluster and survives node failures.
///
/// Every call picks a node (the one that last answered well; for writes, the leader when its address is known,
/// which saves the follower's forwarding hop), fails over to the next on connection errors and timeouts, and
/// retries with exponential backoff and full jitter while the cluster says nothing happened (503
/// `no_leader`, `not_applied`, `read_not_confirmed`, 429). A write whose outcome is unknown (500
/// `indeterminate`, a timeout after sending) is retried only when repeating it is harmless, which callers state
/// with `idempotent`. Every call has a deadline (`callTimeout` unless given) and honours task cancellation.
///
/// An actor because the shared state is small and coordination-shaped (which node is healthy, who leads),
/// while the socket I/O itself runs on dedicated threads (see `Transport`).
public actor RosterClient {
    /// The configuration this client was made with.
    public nonisolated let configuration: RosterClientConfiguration
    /// The watch streams this client's watches share, one per node (up to 1,000 watches each).
    nonisolated let watchStreams = WatchStreamPool()
    /// The position in `endpoints` of the node that last answered well; tried first.
    private var preferred = 0
    /// The leader's member name from the last `X-Roster-Leader` header.
    private var leaderName: String?
    /// Client addresses of members by name, learnt from `GET /v1/cluster/members`.
    private var memberAddresses: [String: Endpoint] = [:]
    /// When the last leader lookup ran, to bound how often it runs.
    private var lastLocate: ContinuousClock.Instant?
    /// The token from the last authentication with `credentials`; nil before it or after a node refused it.
    private var token: String?

    /// Creates a client for `configuration`; no connection is made until the first call.
    public init(configuration: RosterClientConfiguration) {
        precondition(!configuration.endpoints.isEmpty, "RosterClientConfiguration needs at least one endpoint")
        var configuration = configuration
        if let tls = configuration.tls {
            configuration.endpoints = configuration.endpoints.map { endpoint in
                var secured = endpoint
                secured.tls = tls
                return secured
            }
        }
        self.configuration = configuration
    }

    /// Creates a client for `endpoints` with default timeouts.
    public init(endpoints: [Endpoint]) { self.init(configuration: RosterClientConfiguration(endpoints: endpoints)) }

    /// The node the next call tries first.
    public var currentEndpoint: Endpoint { configuration.endpoints[preferred] }

    /// The leader's name as last reported by a node, if any.
    public var knownLeader: String? { leaderName }

    /// Sends one request, with failover and retries, and returns the first 2xx answer.
    ///
    /// Use it for routes without a typed method; the typed methods all go through it.
    /// - Parameters:
    ///   - method: `GET`, `PUT`, `POST`, `PATCH` or `DELETE`.
    ///   - path: The path and query, already percent-encoded (see `RosterClient.encode(_:)`).
    ///   - body: JSON bytes, if any.
    ///   - idempotent: Whether repeating the request is harmless when its outcome is unknown. Reads always are.
    ///   - preferLeader: Try the leader first (writes and admin calls).
    ///   - timeout: This call's deadline instead of `callTimeout`.
    /// - Returns: The 2xx response.
    /// - Throws: `RosterClientError`: the server's code for a rejection (4xx), `.unavailable`, `.timedOut`,
    ///   `.indeterminate`, `.cancelled`.
    public func send(
        _ method: String, _ path: String, body: [UInt8]? = nil, idempotent: Bool, preferLeader: Bool = false,
        timeout: Duration? = nil
    ) async throws -> HTTPResponse {
        let deadline = ContinuousClock.now + (timeout ?? configuration.callTimeout)
        do {
            return try await exchange(method, path, body: body, idempotent: idempotent, preferLeader: preferLeader, deadline: deadline)
        } catch let error as RosterClientError where configuration.credentials != nil && error.isStaleToken {
            // The token expired or predates an auth change: authenticate again once, then repeat the call.
            token = nil
            return try await exchange(method, path, body: body, idempotent: idempotent, preferLeader: preferLeader, deadline: deadline)
        }
    }

    /// The failover loop of `send`, with the current token.
    private func exchange(
        _ method: String, _ path: String, body: [UInt8]?, idempotent: Bool, preferLeader: Bool,
        deadline: ContinuousClock.Instant
    ) async throws -> HTTPResponse {
        var headers: [String] = []
        if let credentials = configuration.credentials, path != "/v1/auth/authenticate" {
            if token == nil { token = try await authenticate(credentials, deadline: deadline) }
            if let token { headers.append("Authorization: Bearer \(token)") }
        }
        var attempt = 0
        var lastError: RosterClientError?
        if preferLeader && shouldLocateLeader() { await locateLeader(deadline: deadline) }
        var order = candidates(preferLeader: preferLeader)
        while true {
            if Task.isCancelled { throw RosterClientError(.cancelled, "\(method) \(path) was cancelled") }
            let now = ContinuousClock.now
            if now >= deadline {
                throw lastError ?? RosterClientError(.unavailable, "\(method) \(path): no node answered in time")
            }
            let endpoint = order[attempt % order.count]
            let attemptDeadline = min(deadline, now + configuration.attemptTimeout)
            var retryAfter: Duration?
            let outcome: Result<HTTPResponse, TransportFailure>
            do throws(TransportFailure) {
                outcome = .success(
                    // The attempt's budget bounds the wait for the node to answer; its answer may then take until the
                    // call's deadline, as long as it keeps arriving.
                    try await Transport.exchange(
                        endpoint, method: method, path: path, body: body, deadline: attemptDeadline, bodyDeadline: deadline,
                        bodyIdleLimit: configuration.attemptTimeout, headers: headers))
            } catch {
                outcome = .failure(error)
            }
            switch outcome {
            case .success(let response):
                noteLeader(response.headers["x-roster-leader"])
                if (200..<300).contains(response.status) {
                    notePreferred(endpoint)
                    return response
                }
                let error = Self.serverError(response, endpoint: endpoint)
                switch (response.status, error.code) {
                case (503, .noSpace):
                    throw error  // The NOSPACE alarm stays until an operator disarms it: retrying cannot help.
                case (503, _), (429, _):
                    retryAfter = response.headers["retry-after"].flatMap { Int($0) }.map { .seconds($0) }
                    lastError = error
                case (500, .indeterminate), (504, _):
                    guard idempotent else { throw error }
                    lastError = error
                default:
                    throw error
                }
            case .failure(let error):
                switch error {
                case .cancelled:
                    throw RosterClientError(.cancelled, "\(method) \(path) was cancelled", endpoint: endpoint)
                case .connectFailed(let text):
                    lastError = RosterClientError(
                        .unavailable, "cannot reach \(endpoint): \(text)", cause: error, endpoint: endpoint)
                case .timedOut, .connectionLost, .malformed:
                    if !idempotent && error.maybeSent {
                        throw RosterClientError(
                            .timedOut,
                            "\(method) \(path) sent to \(endpoint) got no complete answer; it may or may not have "
                                + "been applied: read the state before repeating it",
                            cause: error, endpoint: endpoint)
                    }
                    lastError = RosterClientError(
                        .unavailable, "\(endpoint) failed: \(error)", cause: error, endpoint: endpoint)
                }
            }
            attempt += 1
            if attempt % order.count == 0 || retryAfter != nil {
                // A full round failed, or a node asked us to wait: back off before going on.
                let round = attempt / max(1, order.count)
                try await backoff(round: round, retryAfter: retryAfter, deadline: deadline)
                order = candidates(preferLeader: preferLeader)
            }
        }
    }

    /// A token for `credentials` (`POST /v1/auth/authenticate`, with the usual failover).
    private func authenticate(_ credentials: Credentials, deadline: ContinuousClock.Instant) async throws -> String {
        struct Answer: Decodable { var token: String }
        let body = try JSONSerialization.data(withJSONObject: ["name": credentials.user, "password": credentials.password])
        let response = try await exchange(
            "POST", "/v1/auth/authenticate", body: Array(body), idempotent: true, preferLeader: false, deadline: deadline)
        do {
            return try JSONDecoder().decode(Answer.self, from: Data(response.body)).token
        } catch {
            throw RosterClientError(.invalidResponse, "authenticate answered without a token", cause: error)
        }
    }

    /// Endpoints in the order to try: the leader (when asked and known), then every endpoint from the preferred.
    private func candidates(preferLeader: Bool) -> [Endpoint] {
        let endpoints = configuration.endpoints
        var order = (0..<endpoints.count).map { endpoints[(preferred + $0) % endpoints.count] }
        if preferLeader, let name = leaderName, let leader = memberAddresses[name] {
            order.removeAll { $0 == leader }
            order.insert(leader, at: 0)
        }
        return order
    }

    private func notePreferred(_ endpoint: Endpoint) {
        if let position = configuration.endpoints.firstIndex(of: endpoint) { preferred = position }
    }

    /// Records the leader hint from a response header.
    private func noteLeader(_ header: String?) {
        guard let header, !header.isEmpty else { return }
        leaderName = header
    }

    /// Whether the leader's address is unknown and worth looking up now (at most once a second).
    private func shouldLocateLeader() -> Bool {
        if let name = leaderName, memberAddresses[name] != nil { return false }
        if let last = lastLocate, last.duration(to: .now) < .seconds(1) { return false }
        return true
    }

    /// Learns which configured endpoint is which member (and who leads) by asking each for its status.
    ///
    /// Writes then go straight to the leader, saving the follower's forwarding hop, and administration
    /// requests, which only the leader accepts, find it. Nodes that do not answer are skipped: this is an
    /// optimisation, and the failover loop still tries them all.
    private func locateLeader(deadline: ContinuousClock.Instant) async {
        lastLocate = .now
        let attemptDeadline = min(deadline, .now + .milliseconds(500))
        // All nodes at once, so a silent node costs one short deadline rather than one per node.
        let statuses = await withTaskGroup(of: (Endpoint, NodeStatus)?.self) { group in
            for endpoint in configuration.endpoints {
                group.addTask { await Self.status(of: endpoint, deadline: attemptDeadline).map { (endpoint, $0) } }
            }
            var found: [(Endpoint, NodeStatus)] = []
            for await answer in group { if let answer { found.append(answer) } }
            return found
        }
        for (endpoint, status) in statuses {
            memberAddresses[status.name] = endpoint
            if let leader = status.leader { leaderName = leader }
        }
    }

    /// One node's own status, or nil when it does not answer with one; the failover loop deals with such nodes.
    private static func status(of endpoint: Endpoint, deadline: ContinuousClock.Instant) async -> NodeStatus? {
        let outcome: Result<HTTPResponse, TransportFailure>
        do throws(TransportFailure) {
            outcome = .success(
                try await Transport.exchange(
                    endpoint, method: "GET", path: "/v1/cluster/status", body: nil, deadline: deadline))
        } catch {
            outcome = .failure(error)
        }
        guard case .success(let response) = outcome, response.status == 200 else { return nil }
        do {
            return try JSONDecoder().decode(NodeStatus.self, from: Data(response.body))
        } catch {
            return nil  // Not a status document (an older or foreign server): it cannot tell us anything.
        }
    }

    private func backoff(round: Int, retryAfter: Duration?, deadline: ContinuousClock.Instant) async throws {
        let cap = min(
            configuration.maximumBackoff, configuration.initialBackoff * (1 << min(round, 10)))
        let capMilliseconds = max(
            1, Int(cap.components.seconds * 1000 + cap.components.attoseconds / 1_000_000_000_000_000))
        var wait = Duration.milliseconds(Int.random(in: 0...capMilliseconds))
        if let retryAfter { wait = min(retryAfter, max(wait, .milliseconds(100))) }
        let remaining = ContinuousClock.now.duration(to: deadline)
        if remaining <= .zero { return }
        do {
            try await Task.sleep(for: min(wait, remaining))
        } catch {
            throw RosterClientError(.cancelled, "the call was cancelled while waiting to retry", cause: error)
        }
    }

    /// The error a non-2xx answer stands for, keeping the server's code and message.
    static func serverError(_ response: HTTPResponse, endpoint: Endpoint) -> RosterClientError {
        struct Body: Decodable {
            struct Inner: Decodable {
                var code: String
                var message: String
            }
            var error: Inner
        }
        do {
            let body = try JSONDecoder().decode(Body.self, from: Data(response.body))
            return RosterClientError(
                .init(body.error.code), body.error.message, httpStatus: response.status, endpoint: endpoint)
        } catch {
            return RosterClientError(
                .invalidResponse, "HTTP \(response.status) without a JSON error: \(response.text.prefix(200))",
                cause: error, httpStatus: response.status, endpoint: endpoint)
        }
    }

    /// Percent-encodes one path segment or query value (everything but unreserved characters).
    public nonisolated static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        // alphanumerics includes non-ASCII letters; restrict to ASCII so the server sees exact bytes.
        return text.unicodeScalars.map { scalar -> String in
            if scalar.isASCII && allowed.contains(scalar) { return String(scalar) }
            return String(scalar).utf8.map { String(format: "%%%02X", $0) }.joined()
        }.joined()
    }
}

extension TransportFailure {
    /// Whether the request may have reached the node, which makes its outcome unknown.
    var maybeSent: Bool {
        switch self {
        case .timedOut(let sent): sent
        case .connectionLost: true
        default: false
        }
    }
}
