import Codec
import HTTP
import Raft
import Registry
import RosterNode

/// How registry rejections and node failures become HTTP errors.
///
/// Status policy, one status per code:
/// - 400: the request itself is wrong (names, keys, ranges, TTLs, revisions, limits on counts). Roster does
///   not use 422: "malformed" and "semantically invalid" are both the client's to fix, and one status keeps
///   client retry logic simple; the code says which.
/// - 404: the instance or lease does not exist. 409: the request conflicts with current state (stale
///   incarnation, lease ID taken, service or lease table full, membership refused). 410: the revision was
///   compacted. 413: a value or command over the size limit.
/// - 429 and 503: nothing was applied and retrying later is safe; both carry `Retry-After`.
/// - 500 `indeterminate`: the write may or may not have applied. Deliberately not 503, which clients and
///   proxies read as "not processed, retry": an indeterminate write must be checked or retried only when
///   idempotent (registering an instance again is).
/// - 504 `timed_out`: the request did not finish in time; a write may still apply later.
extension APIError {
    /// The error for a registry rejection. `field` overrides the field named in messages (a query
    /// parameter rather than the registry's own field name).
    public init(rejection: RegistryRejection, field: String? = nil) {
        let (status, code, message) = Self.describe(rejection, field: field)
        self.init(status: status, code: code, message: message)
    }

    private static func describe(_ rejection: RegistryRejection, field: String?)
        -> (HTTPStatus, String, String)
    {
        switch rejection {
        case .emptyKey:
            return (.badRequest, "empty_key", "\(field ?? "key") is empty; keys need at least one byte")
        case .keyNotFound(let key):
            return (.notFound, "key_not_found", "key \(printable(key)) does not exist, so there is no value or lease to keep")
        case .valueWithIgnoreValue:
            return (.badRequest, "invalid_field", "a put that keeps the current value must not carry a value")
        case .leaseWithIgnoreLease:
            return (.badRequest, "invalid_field", "a put that keeps the current lease must not name a lease")
        case .keyTooLong(let bytes, let limit):
            return (.badRequest, "key_too_long", "\(field ?? "key") is \(bytes) bytes, limit \(limit)")
        case .valueTooLong(let bytes, let limit):
            return (.contentTooLarge, "value_too_long", "\(field ?? "value") is \(bytes) bytes, limit \(limit)")
        case .requestTooLarge(let bytes, let limit):
            return (.contentTooLarge, "request_too_large", "request is \(bytes) bytes, limit \(limit); split it")
        case .tooManyOperations(let count, let limit):
            return (
                .badRequest, "too_many_operations",
                "transaction has \(count) compares or operations in one list, limit \(limit)"
            )
        case .duplicateKeyInTransaction(let key):
            return (
                .badRequest, "duplicate_key",
                "transaction writes key \(printable(key)) more than once in one branch; write each key once"
            )
        case .invalidRange(let start, let end):
            return (
                .badRequest, "invalid_range",
                "range_end \(printable(end)) sorts before key \(printable(start)); give range_end >= key"
            )
        case .invalidLimit(let limit):
            return (.badRequest, "invalid_limit", "\(field ?? "limit") must be 0 (no limit) or positive, got \(limit)")
        case .invalidName(let name, let value, let reason):
            return (
                .badRequest, "invalid_name",
                "\(field ?? name) \(JSONText.quote(value)) is invalid (\(reason)); use letters, digits, '.', '_', '-'\(name == "id" ? ", ':', '@'" : "")"
            )
        case .tooManyMetadataEntries(let count, let limit):
            return (.badRequest, "too_many_metadata_entries", "metadata has \(count) entries, limit \(limit)")
        case .invalidMetadataEntry(let key, let reason):
            return (.badRequest, "invalid_metadata", "metadata entry \(JSONText.quote(key)) is invalid: \(reason)")
        case .tooManyEndpoints(let count, let limit):
            return (.badRequest, "too_many_endpoints", "endpoints has \(count) entries, limit \(limit)")
        case .invalidEndpoint(let endpoint, let reason):
            return (
                .badRequest, "invalid_endpoint",
                "endpoint \(JSONText.quote(endpoint)) is invalid: \(reason); use scheme://host:port"
            )
        case .serviceFull(let namespace, let service, let limit):
            return (
                .conflict, "service_full",
                "service \(namespace)/\(service) already has \(limit) instances, the limit; deregister some first"
            )
        case .instanceNotFound(let namespace, let service, let id):
            return (
                .notFound, "instance_not_found",
                "no live instance \(namespace)/\(service)/\(id); it may have expired or been deregistered"
            )
        case .staleIncarnation(let current, let offered):
            return (
                .conflict, "stale_incarnation",
                "incarnation \(offered) is older than the live record's \(current); a newer process owns this instance"
            )
        case .invalidLeaseID:
            return (
                .badRequest, "invalid_lease_id",
                "\(field ?? "lease") 0 is reserved for \"no lease\"; use a positive ID or omit it"
            )
        case .leaseNotFound(let id):
            return (
                .notFound, "lease_not_found",
                "no live lease \(id.rawValue); it may have expired or been revoked: grant a new one"
            )
        case .leaseAlreadyExists(let id):
            return (
                .conflict, "lease_exists",
                "lease \(id.rawValue) is already live; omit id to let the registry choose one"
            )
        case .ttlOutOfRange(let ttl, let minimum, let maximum):
            return (
                .badRequest, "ttl_out_of_range", "\(field ?? "ttl") of \(ttl) ms is outside \(minimum)...\(maximum) ms"
            )
        case .tooManyLeases(let limit):
            return (
                .conflict, "too_many_leases",
                "the registry already holds \(limit) leases, the limit; revoke unused ones"
            )
        case .leaseBatchTooLarge(let count, let limit):
            return (.badRequest, "lease_batch_too_large", "\(count) leases in one batch, limit \(limit)")
        case .negativeRevision(let revision):
            return (
                .badRequest, "negative_revision",
                "\(field ?? "revision") must not be negative, got \(revision.rawValue)"
            )
        case .futureRevision(let revision, let current):
            return (
                .badRequest, "future_revision",
                "\(field ?? "revision") \(revision.rawValue) is after the current revision \(current.rawValue)"
            )
        case .compactedRevision(let revision, let compacted):
            return (
                .gone, "compacted",
                "\(field ?? "revision") \(revision.rawValue) was compacted (compaction point \(compacted.rawValue)); read at a later revision"
            )
        case .auth(let rejection):
            return describe(rejection)
        }
    }

    /// The error for a node failure.
    public init(failure: NodeFailure) {
        switch failure {
        case .noLeader(let retryAfterMilliseconds):
            self.init(
                status: .serviceUnavailable, code: "no_leader",
                message: "no leader is known (election in progress or no quorum); nothing was applied, retry",
                retryAfterSeconds: max(1, retryAfterMilliseconds / 1000 + (retryAfterMilliseconds % 1000 == 0 ? 0 : 1)))
        case .leaderBusy(let reason):
            self.init(
                status: .serviceUnavailable, code: "leader_busy",
                message: "the leader refused the request before appending it (\(reason)); nothing was applied, retry",
                retryAfterSeconds: 1)
        case .notApplied:
            self.init(
                status: .serviceUnavailable, code: "not_applied",
                message: "the write was lost in a leader change and did not apply; retrying is safe",
                retryAfterSeconds: 1)
        case .indeterminate(let reason):
            self.init(
                status: .internalServerError, code: "indeterminate",
                message:
                    "the write may or may not have applied (\(reason)); read to check, or retry if it is idempotent")
        case .readNotConfirmed(let readFailure):
            self.init(
                status: .serviceUnavailable, code: "read_not_confirmed",
                message:
                    "the linearizable read could not be confirmed (\(Self.describe(readFailure))); retry, or read with consistency=serializable",
                retryAfterSeconds: 1)
        case .timedOut:
            self.init(
                status: .gatewayTimeout, code: "timed_out",
                message:
                    "the request did not finish in time; a write may still apply, so read before retrying a non-idempotent one"
            )
        case .shuttingDown:
            self.init(
                status: .serviceUnavailable, code: "shutting_down",
                message: "this node is shutting down; nothing was applied, send the request to another node",
                retryAfterSeconds: 1)
        case .membershipRefused(let reason):
            self.init(
                status: .conflict, code: "membership_refused", message: "the membership change was refused: \(reason)")
        case .overloaded(let limit):
            self.init(
                status: .tooManyRequests, code: "overloaded",
                message: "this node has \(limit) requests waiting, the limit; nothing was applied, retry with backoff",
                retryAfterSeconds: 1)
        case .noSpace(let members):
            self.init(
                status: .serviceUnavailable, code: "no_space",
                message: "database space exceeded: NOSPACE alarm raised by \(members.isEmpty ? "a member" : members.joined(separator: ", "))"
                    + "; nothing was applied. Reads, watches, keepalives, deletes and compaction still work: delete data "
                    + "and compact, or free disk space, then disarm (rosterctl alarm disarm)")
        }
    }

    private static func describe(_ failure: ReadFailure) -> String {
        switch failure {
        case .noLeader: "no leader"
        case .leadershipLost: "leadership changed"
        case .tooManyPendingReads: "too many pending reads"
        case .timedOut: "the leader did not answer in time"
        }
    }
}

/// Bytes for a message: UTF-8 text quoted, anything else as base64 marked as such.
func printable(_ bytes: [UInt8]) -> String {
    if let text = UTF8Text.string(bytes) { return JSONText.quote(text) }
    var output: [UInt8] = []
    Base64.encode(bytes, into: &output)
    return "base64:" + String(decoding: output, as: UTF8.self)
}
