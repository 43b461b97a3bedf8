/// The 17 gRPC status codes, with the numbers sent in the `grpc-status` trailer.
///
/// The numbers are fixed by gRPC's status-code document and are what clients compare against (clientv3
/// maps them back to its `codes.Code`), so they must never be renumbered.
public enum GRPCStatusCode: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case ok = 0
    case cancelled = 1
    case unknown = 2
    case invalidArgument = 3
    case deadlineExceeded = 4
    case notFound = 5
    case alreadyExists = 6
    case permissionDenied = 7
    case resourceExhausted = 8
    case failedPrecondition = 9
    case aborted = 10
    case outOfRange = 11
    case unimplemented = 12
    case `internal` = 13
    case unavailable = 14
    case dataLoss = 15
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
