import AuthCrypto
import EtcdGateway
import HTTP
import Posix
import Registry
import RosterAPI
import RosterNode
import Synchronization

/// Authentication and authorization in the shell: who sent a request (bearer token or client certificate),
/// whether the replicated auth state lets them, and the auth requests that need work the state machine must
/// not do (password checks and derivations on the password worker, random signing keys).
///
/// With auth off every check is one boolean read of the applied state, so the hot path pays nothing else.
extension RosterServer {
    /// The thread that checks and derives passwords, so a flood of logins never stalls the event loop. One
    /// thread: a flood costs at most one core.
    static let passwordWorker: EventLoopThread? = {
        do {
            let worker = try EventLoopThread()
            // Password checks yield the CPU to the event loop (and everything else) when cores are scarce.
            worker.handle.execute { ThreadPriority.lowerCurrentThread() }
            return worker
        } catch {
            // Without a worker, password requests are refused (see `runOnPasswordWorker`), never run on the loop.
            return nil
        }
    }()
    /// Password checks queued or running on the worker, across this process.
    static let passwordJobs = Atomic<Int>(0)
    /// Password checks allowed to wait; more are refused with `overloaded` (a login flood is shed, not queued).
    static let passwordJobsLimit = 64
    /// Bytes of a token signing key.
    static let tokenSigningKeyBytes = 32

    // MARK: - Who and whether

    /// The user a request comes from: nil while auth is off, else the bearer token's user, else (with
    /// `--client-cert-auth`) the client certificate's CN when a user of that name exists (etcd's rule).
    func identify(token: String?, session: ClientSession?) -> Result<String?, AuthRejection> {
        let auth = registry.auth
        guard auth.isEnabled else { return .success(nil) }
        if let token, !token.isEmpty {
            let key = tokenKey(auth)  // first: a new key file empties the cache of verified tokens
            let now = WallClock.unixSeconds()
            if let user = verifiedTokens.user(of: token, authRevision: auth.revision, nowSeconds: now) { return .success(user) }
            let verified = AuthToken.verify(token, key: key, authRevision: auth.revision, nowSeconds: now)
            if case .success(let valid) = verified { verifiedTokens.remember(token, valid) }
            return verified.map { $0.user }
        }
        if configuration.tls.clientCertificateAuth, let name = session?.certificateCommonName, auth.user(name) != nil {
            return .success(name)
        }
        return .failure(.userEmpty)
    }

    /// The key tokens are signed and verified with: `--auth-token-key`'s file when given (re-read when it changed),
    /// else the one replicated when auth was enabled.
    func tokenKey(_ auth: AuthState) -> [UInt8] {
        guard let file = authTokenKeyFile else { return auth.tokenSigningKey }
        switch file.refresh() {
        case .unchanged:
            break
        case .reloaded:
            verifiedTokens = VerifiedTokens()
            logger.info("auth token key reloaded; tokens signed with the previous key are refused", ["file": file.path])
        case .failed(let error):
            logger.error("auth token key not reloaded; the previous key stays in use", ["error": "\(error)"])
        }
        return file.key
    }

    /// Nil if the request may go ahead, else why not (logged, rate-limited, with user and what was asked).
    func authorize(_ requirement: AuthRequirement, token: String?, session: ClientSession?, what: @autoclosure () -> String)
        -> AuthRejection?
    {
        guard registry.auth.isEnabled else { return nil }
        switch identify(token: token, session: session) {
        case .failure(let rejection):
            logRefusal(user: nil, what: what(), rejection)
            return rejection
        case .success(nil):
            return nil
        case .success(let user?):
            guard let rejection = registry.auth.authorize(user: user, requirement) else { return nil }
            logRefusal(user: user, what: what(), rejection)
            return rejection
        }
    }

    /// Nil if `request` may go ahead.
    func authorize(_ request: NodeRequest, token: String?, session: ClientSession?, what: @autoclosure () -> String)
        -> AuthRejection?
    {
        guard registry.auth.isEnabled else { return nil }
        return authorize(request.authRequirement(in: registry), token: token, session: session, what: what())
    }

    /// Logs a refusal with the user and the request, never a token or password; at most a burst per window so a
    /// client retrying in a loop cannot flood the log.
    private func logRefusal(user: String?, what: String, _ rejection: AuthRejection) {
        metrics.authRefusals += 1
        let now = MonotonicClock.milliseconds()
        if now >= authRefusalLog.windowStart + 10_000 {
            if authRefusalLog.suppressed > 0 {
                logger.warning("auth refusals not logged", ["count": "\(authRefusalLog.suppressed)"])
            }
            authRefusalLog = (now, 0, 0)
        }
        guard authRefusalLog.logged < 20 else {
            authRefusalLog.suppressed += 1
            return
        }
        authRefusalLog.logged += 1
        logger.warning("request refused by auth", ["user": user ?? "(none)", "request": what, "reason": "\(rejection)"])
    }

    // MARK: - Auth requests

    /// Serves an auth request. Changes go to `submitChange` (the caller submits them like any write and answers
    /// from the node's response); everything else is answered through `answer`, always on the loop thread.
    func serveAuth(
        _ request: AuthRequest, token: String?, session: ClientSession?, what: String,
        answer: @escaping (AuthAnswer) -> Void, submitChange submitCommand: @escaping (RegistryCommand) -> Void
    ) {
        let auth = registry.auth
        // A change applies only while auth is at the revision root was checked at here (a password change is
        // submitted after the worker hashed it, when the current revision may be newer).
        let checkedAt = auth.isEnabled ? auth.revision : nil
        let submitChange = { (command: AuthCommand) in submitCommand(RegistryCommand.auth(command).checked(atAuthRevision: checkedAt)) }
        // Authenticate and the status are open (a stale token sent along must not block logging in again).
        if auth.isEnabled, request.needsRoot, let rejection = authorize(.root, token: token, session: session, what: what) {
            return answer(.refused(rejection))
        }
        switch request {
        case .read(let read):
            answer(.read(read))
        case .change(let command):
            submitChange(command)
        case .enable:
            do {
                submitChange(.enable(tokenSigningKey: try SecureRandom.bytes(Self.tokenSigningKeyBytes)))
            } catch {
                answer(.failed("no random bytes for a token signing key: \(error)"))
            }
        case .setPassword(let user, let password, let isNewUser):
            if isNewUser, auth.user(user) != nil { return answer(.refused(.userAlreadyExists(user))) }
            if !isNewUser, auth.user(user) == nil { return answer(.refused(.userNotFound(user))) }
            let hasher = PasswordHasher(iterations: UInt32(configuration.authPasswordIterations))
            runOnPasswordWorker(
                { () -> Result<PasswordCredential, AuthCryptoError> in
                    do throws(AuthCryptoError) { return .success(try hasher.credential(for: password)) } catch { return .failure(error) }
                },
                refused: { answer(.failed($0)) },
                then: { result in
                    switch result {
                    case .success(let credential):
                        submitChange(isNewUser ? .addUser(name: user, credential: credential) : .changePassword(name: user, credential: credential))
                    case .failure(let error):
                        answer(.failed("password derivation failed: \(error)"))
                    }
                })
        case .authenticate(let name, let password):
            guard auth.isEnabled else { return answer(.refused(.authNotEnabled)) }
            // An unknown user costs a derivation too, so response times do not tell which names exist.
            let credential = auth.user(name)?.credential
            let checked = credential ?? Self.decoyCredential
            runOnPasswordWorker(
                { PasswordHasher.matches(password, checked) },
                refused: { answer(.failed($0)) },
                then: { [unowned self] matched in
                    let now = registry.auth
                    // The user may have changed while the worker ran: the credential must still be the one checked.
                    guard matched, credential != nil, now.isEnabled, now.user(name)?.credential == credential else {
                        self.logRefusal(user: name, what: what, .authenticationFailed)
                        return answer(.refused(.authenticationFailed))
                    }
                    let expiry = WallClock.unixSeconds() + UInt64(configuration.authTokenTTLSeconds)
                    let token = AuthToken(user: name, authRevision: now.revision, expiresAtSeconds: expiry)
                    answer(.token(token.signed(with: tokenKey(now))))
                })
        }
    }

    /// A credential no password matches cheaply: checked for unknown users so they take as long as known ones.
    static let decoyCredential = PasswordCredential(
        iterations: UInt32(ServerConfiguration().authPasswordIterations), salt: Array(repeating: 0x5a, count: 16),
        hash: Array(repeating: 0, count: 32))

    /// Runs `work` on the password worker and `then` with its result back on the loop thread; refuses at once
    /// (through `refused`) when the worker's backlog is full or there is no worker.
    private func runOnPasswordWorker<Output: Sendable>(
        _ work: @escaping @Sendable () -> Output, refused: (String) -> Void, then: @escaping (Output) -> Void
    ) {
        guard let worker = Self.passwordWorker else { return refused("no password worker thread") }
        guard Self.passwordJobs.add(1, ordering: .relaxed).newValue <= Self.passwordJobsLimit else {
            Self.passwordJobs.subtract(1, ordering: .relaxed)
            metrics.authRefusals += 1
            return refused("too many password checks waiting (\(Self.passwordJobsLimit)); retry with backoff")
        }
        let continuation = LoopConfined(then)
        let handle = loop.handle
        let accepted = worker.handle.execute {
            let output = work()
            Self.passwordJobs.subtract(1, ordering: .relaxed)
            _ = handle.execute { continuation.value(output) }
        }
        if !accepted {
            Self.passwordJobs.subtract(1, ordering: .relaxed)
            refused("the password worker stopped")
        }
    }
}

/// Tokens whose MAC this node already checked, so a client sending the same token on every request costs a
/// dictionary lookup rather than an HMAC. Entries belong to one auth revision (any auth change, a new signing
/// key included, empties the cache) and are still checked for expiry on every use.
struct VerifiedTokens {
    /// Most tokens kept; the cache empties when full (tokens are re-verified, nothing is refused).
    static let capacity = 4_096
    private var revision: UInt64 = 0
    private var tokens: [String: AuthToken] = [:]

    /// The user of `token` if it was verified at `authRevision` and has not expired.
    mutating func user(of token: String, authRevision: UInt64, nowSeconds: UInt64) -> String? {
        if authRevision != revision {
            tokens = [:]
            revision = authRevision
            return nil
        }
        guard let known = tokens[token], known.expiresAtSeconds > nowSeconds else { return nil }
        return known.user
    }

    mutating func remember(_ text: String, _ token: AuthToken) {
        guard token.authRevision == revision else { return }
        if tokens.count >= Self.capacity { tokens = [:] }
        tokens[text] = token
    }
}

/// The outcome of an auth request that is not a change (changes are answered as writes).
enum AuthAnswer {
    case token(String)
    case read(AuthRead)
    case refused(AuthRejection)
    /// The request could not be served (worker busy or gone, no randomness); nothing changed.
    case failed(String)
}


// MARK: - Native HTTP

extension RosterServer {
    /// The token of `Authorization: Bearer <token>`, if the request carries one.
    /// - Complexity: O(header length), on bytes (this runs for every request while auth is on).
    static func bearerToken(_ request: HTTPRequest) -> String? {
        guard let value = request.headers.values(for: "authorization").first else { return nil }
        let bytes = Array(value.utf8)
        let scheme = Array("bearer ".utf8)
        guard bytes.count > scheme.count,
            zip(bytes, scheme).allSatisfy({ $0 | 0x20 == $1 })
        else { return nil }
        var start = scheme.count
        var end = bytes.count
        while start < end && bytes[start] == UInt8(ascii: " ") { start += 1 }
        while end > start && bytes[end - 1] == UInt8(ascii: " ") { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// The user of a routed HTTP request, or why it is refused. `/healthz`, `/readyz`, `/metrics`, the console's
    /// static files, `/v1/cluster/status` (raft role, term, indexes and revision: no keys, like etcd's
    /// Maintenance.Status, and what the console polls on every member cross-origin) and the member list (etcd's
    /// MemberList checks nothing either; a member started with `--join ADDR` reads it) stay open; auth requests
    /// check their own rules in `serveAuth`.
    func authorize(_ routed: RoutedRequest, request: HTTPRequest, session: ClientSession) -> Result<String?, AuthRejection> {
        let requirement: AuthRequirement
        switch routed {
        case .health, .ready, .metrics, .console, .error, .auth, .clusterStatus, .members: return .success(nil)
        case .node(let nodeRequest): requirement = nodeRequest.authRequirement(in: registry)
        case .prometheusTargets(let query, _, _): requirement = query.authRequirement
        case .watch(let spec): requirement = .keys([KeyAccess(.read, spec.filter.range)])
        case .watchStream, .keepAliveStream, .alarms: requirement = .authenticated
        case .snapshot: requirement = .root
        }
        let token = Self.bearerToken(request)
        if let rejection = authorize(requirement, token: token, session: session, what: "\(request.method) \(request.path)") {
            return .failure(rejection)
        }
        return identify(token: token, session: session)
    }

    /// `/v1/auth/…`: answered on the session once served (after the password worker, for logins and passwords).
    func serveHTTPAuth(_ request: AuthRequest, token: String?, session: ClientSession, what: String) {
        // The session serves no pipelined request until this one is answered.
        session.begin(RequestID(nextRequestID))
        nextRequestID += 1
        serveAuth(
            request, token: token, session: session, what: what,
            answer: { [weak session, unowned self] answer in
                guard let session else { return }
                switch answer {
                case .token(let token):
                    session.finish(
                        APIResponse.encodeToken(token, lifetimeSeconds: configuration.authTokenTTLSeconds, context: context)
                            .bytes(keepAlive: true))
                case .read(let read):
                    session.finish(APIResponse.encodeAuthRead(read, auth: registry.auth, context: context).bytes(keepAlive: true))
                case .refused(let rejection):
                    session.finish(APIAdapter.error(APIError(auth: rejection), context: context))
                case .failed(let reason):
                    let error = APIError(status: .serviceUnavailable, code: "auth_unavailable", message: reason, retryAfterSeconds: 1)
                    session.finish(APIAdapter.error(error, context: context))
                }
            },
            submitChange: { [weak session, unowned self] command in
                guard let session else { return }
                submit(.write(command), session: session, kind: .plain)
            })
    }
}
