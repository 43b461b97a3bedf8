/// Everything a `RosterClient` call can throw.
///
/// `code` says what kind of failure it is, so callers branch on it (`error.code == .staleIncarnation`);
/// `message` says what happened and how to fix it; `cause` keeps the underlying error. Server rejections keep the
/// server's code (`stale_incarnation`, `lease_not_found`, …) and its HTTP status.
public struct RosterClientError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure. An open set: a new server error code needs no new client release.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The server's error code, or one of the client's own below.
        public var rawValue: String
        /// Wraps a code string.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// No node answered before the call's deadline (connection refused, timed out, every node leaderless).
        public static let unavailable = Code("unavailable")
        /// The call's deadline passed after the request may have reached a node: the outcome is unknown.
        public static let timedOut = Code("timed_out")
        /// The calling task was cancelled.
        public static let cancelled = Code("cancelled")
        /// A node answered with something that is not the documented JSON.
        public static let invalidResponse = Code("invalid_response")
        /// The arguments are invalid before any request was made.
        public static let invalidArgument = Code("invalid_argument")
        /// The write may or may not have been applied (the leader was lost after appending it).
        public static let indeterminate = Code("indeterminate")
        /// A newer incarnation of the instance is registered; this copy is stale and was refused.
        public static let staleIncarnation = Code("stale_incarnation")
        /// The lease does not exist (expired or revoked).
        public static let leaseNotFound = Code("lease_not_found")
        /// The instance is not registered.
        public static let instanceNotFound = Code("instance_not_found")
        /// The watch's buffer filled because the consumer fell behind; resume after `revision`.
        public static let watchOverflowed = Code("watch_overflowed")
        /// The session or cache was closed.
        public static let closed = Code("closed")
        /// The cluster's NOSPACE alarm is raised: writes that add data are refused until an operator makes room
        /// and disarms it. Not retried.
        public static let noSpace = Code("no_space")
        /// Auth is on and the request carried no token (or certificate user); set `credentials`.
        public static let unauthenticated = Code("unauthenticated")
        /// The token is forged, from another cluster, or expired.
        public static let invalidToken = Code("invalid_token")
        /// The token predates an auth change; authenticate again.
        public static let authOldRevision = Code("auth_old_revision")
        /// The user may not do this.
        public static let permissionDenied = Code("permission_denied")
        /// Wrong user name or password.
        public static let authenticationFailed = Code("authentication_failed")
    }

    /// The kind of failure.
    public var code: Code
    /// What happened, with the values involved and what to do.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error & Sendable)?
    /// The HTTP status when a node answered, else nil.
    public var httpStatus: Int?
    /// The endpoint that gave the final answer, if any.
    public var endpoint: Endpoint?
    /// For `.watchOverflowed`: the last revision delivered, to resume after.
    public var revision: Int64?

    /// Creates an error.
    public init(
        _ code: Code, _ message: String, cause: (any Error & Sendable)? = nil, httpStatus: Int? = nil,
        endpoint: Endpoint? = nil, revision: Int64? = nil
    ) {
        self.code = code
        self.message = message
        self.cause = cause
        self.httpStatus = httpStatus
        self.endpoint = endpoint
        self.revision = revision
    }

    /// True for a rejection by the server (4xx): retrying the same request will not help.
    public var isRejection: Bool { (httpStatus ?? 0) >= 400 && (httpStatus ?? 0) < 500 }

    public var description: String {
        var text = "\(code): \(message)"
        if let endpoint { text += " (from \(endpoint))" }
        return text
    }
}

extension RosterClientError {
    /// Whether a node refused the token as expired, forged or older than an auth change, so that
    /// authenticating again may help.
    var isStaleToken: Bool { code == .invalidToken || code == .authOldRevision }
}

/// A user name and password for a cluster with auth enabled (see `RosterClientConfiguration.credentials`).
public struct Credentials: Sendable, Equatable {
    public var user: String
    public var password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }
}
