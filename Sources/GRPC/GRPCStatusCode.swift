/// The 17 gRPC status codes, with the numbers sent in the `grpc-status` trailer.
///
/// The numbers are fixed by gRPC's status-code document and are what clients compare against (clientv3
/// maps them back to its `codes.Code`), so they must never be renumbered.
public enum GRPCStatusCode: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Success.
    case ok = 0
    /// The caller cancelled the call.
    case cancelled = 1
    /// An error with no better code (also what clients assume for an unparsable status).
    case unknown = 2
    /// The request is wrong whatever the server state (etcd: empty key, duplicate key in a txn).
    case invalidArgument = 3
    /// The deadline passed before the call finished.
    case deadlineExceeded = 4
    /// A named entity does not exist (etcd: lease not found).
    case notFound = 5
    /// The entity to create exists already.
    case alreadyExists = 6
    /// The caller may not do this.
    case permissionDenied = 7
    /// A quota or size limit was hit (oversized messages, etcd: no space).
    case resourceExhausted = 8
    /// The system is not in the state the call needs (etcd: not leader, auth not enabled).
    case failedPrecondition = 9
    /// A concurrency conflict aborted the call.
    case aborted = 10
    /// A value is past the valid range (etcd: revision compacted).
    case outOfRange = 11
    /// The method or encoding is not supported.
    case unimplemented = 12
    /// An invariant broke, including protocol violations by the peer.
    case `internal` = 13
    /// Transient: the client should retry (etcd: no leader).
    case unavailable = 14
    /// Unrecoverable data loss or corruption.
    case dataLoss = 15
    /// Missing or invalid credentials (etcd: invalid auth token).
    case unauthenticated = 16

    /// Parses a `grpc-status` value: decimal digits naming one of the 17 codes; anything else is nil
    /// (a client treats an unparsable status as UNKNOWN, which the caller can do with `?? .unknown`).
    public init?(headerValue: String) {
        guard !headerValue.isEmpty, headerValue.utf8.count <= 2, let number = UInt8(headerValue) else { return nil }
        self.init(rawValue: number)
    }

    /// The decimal form sent in the `grpc-status` trailer.
    public var headerValue: String { String(rawValue) }

    /// The canonical upper-case name, as gRPC documentation and logs spell it.
    public var description: String {
        switch self {
        case .ok: "OK"
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .aborted: "ABORTED"
        case .outOfRange: "OUT_OF_RANGE"
        case .unimplemented: "UNIMPLEMENTED"
        case .internal: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        }
    }
}
