// Goal: each node failure and registry rejection reaches the client with its documented status and code, in
// the `{"error": {"code", "message"}}` shape, with `Retry-After` exactly when retrying later is safe. The point
// is that a client can tell "nothing applied, retry" (503/429), "unknown outcome" (500 indeterminate) and "your
// request is wrong" (4xx) apart. Method: encode each case through `APIResponse.encode`, read the body back
// with JSONSerialization, and compare against a table.
import Foundation
import HTTP
import Raft
import Registry
import RosterNode
import Testing

@testable import RosterAPI

struct FailureCase: Sendable, CustomTestStringConvertible {
    var failure: NodeFailure
    var status: Int
    var code: String
    var retryAfter: String?
    var testDescription: String { code }
}

struct RejectionCase: Sendable, CustomTestStringConvertible {
    var rejection: RegistryRejection
    var status: Int
    var code: String
    var testDescription: String { code }
}

let failureCases: [FailureCase] = [
    FailureCase(failure: .noLeader(retryAfterMilliseconds: 1_500), status: 503, code: "no_leader", retryAfter: "2"),
    FailureCase(failure: .noLeader(retryAfterMilliseconds: 0), status: 503, code: "no_leader", retryAfter: "1"),
    FailureCase(
        failure: .noLeader(retryAfterMilliseconds: .max), status: 503, code: "no_leader",
        retryAfter: String(UInt64.max / 1000 + 1)),
    FailureCase(
        failure: .leaderBusy(reason: "transfer in progress"), status: 503, code: "leader_busy", retryAfter: "1"),
    FailureCase(failure: .notApplied, status: 503, code: "not_applied", retryAfter: "1"),
    FailureCase(failure: .indeterminate(reason: "leader lost"), status: 500, code: "indeterminate", retryAfter: nil),
    FailureCase(failure: .readNotConfirmed(.leadershipLost), status: 503, code: "read_not_confirmed", retryAfter: "1"),
    FailureCase(failure: .readNotConfirmed(.noLeader), status: 503, code: "read_not_confirmed", retryAfter: "1"),
    FailureCase(
        failure: .readNotConfirmed(.tooManyPendingReads), status: 503, code: "read_not_confirmed", retryAfter: "1"),
    FailureCase(failure: .readNotConfirmed(.timedOut), status: 503, code: "read_not_confirmed", retryAfter: "1"),
    FailureCase(failure: .timedOut, status: 504, code: "timed_out", retryAfter: nil),
    FailureCase(failure: .shuttingDown, status: 503, code: "shutting_down", retryAfter: "1"),
    FailureCase(
        failure: .membershipRefused("would remove the last voter"), status: 409, code: "membership_refused",
        retryAfter: nil),
    FailureCase(failure: .overloaded(limit: 1024), status: 429, code: "overloaded", retryAfter: "1"),
]

let rejectionCases: [RejectionCase] = [
    RejectionCase(rejection: .emptyKey, status: 400, code: "empty_key"),
    RejectionCase(rejection: .keyTooLong(bytes: 5000, limit: 4096), status: 400, code: "key_too_long"),
    RejectionCase(rejection: .valueTooLong(bytes: 2, limit: 1), status: 413, code: "value_too_long"),
    RejectionCase(rejection: .requestTooLarge(bytes: 2, limit: 1), status: 413, code: "request_too_large"),
    RejectionCase(rejection: .tooManyOperations(count: 200, limit: 128), status: 400, code: "too_many_operations"),
    RejectionCase(rejection: .duplicateKeyInTransaction(key: [0xFF]), status: 400, code: "duplicate_key"),
    RejectionCase(
        rejection: .invalidRange(start: Array("b".utf8), end: Array("a".utf8)), status: 400, code: "invalid_range"),
    RejectionCase(rejection: .invalidName(field: "id", name: "", reason: "empty"), status: 400, code: "invalid_name"),
    RejectionCase(
        rejection: .invalidEndpoint("x", reason: "expected scheme://address"), status: 400, code: "invalid_endpoint"),
    RejectionCase(rejection: .serviceFull(namespace: "d", service: "s", limit: 10), status: 409, code: "service_full"),
    RejectionCase(
        rejection: .instanceNotFound(namespace: "d", service: "s", id: "i"), status: 404, code: "instance_not_found"),
    RejectionCase(rejection: .staleIncarnation(current: 5, offered: 4), status: 409, code: "stale_incarnation"),
    RejectionCase(rejection: .invalidLeaseID, status: 400, code: "invalid_lease_id"),
    RejectionCase(rejection: .leaseNotFound(LeaseID(3)), status: 404, code: "lease_not_found"),
    RejectionCase(rejection: .leaseAlreadyExists(LeaseID(3)), status: 409, code: "lease_exists"),
    RejectionCase(
        rejection: .ttlOutOfRange(ttlMilliseconds: 1, minimum: 2_000, maximum: 9_000), status: 400,
        code: "ttl_out_of_range"),
    RejectionCase(rejection: .tooManyLeases(limit: 1), status: 409, code: "too_many_leases"),
    RejectionCase(rejection: .negativeRevision(Revision(-1)), status: 400, code: "negative_revision"),
    RejectionCase(
        rejection: .futureRevision(Revision(90), current: Revision(41)), status: 400, code: "future_revision"),
    RejectionCase(rejection: .compactedRevision(Revision(3), compacted: Revision(10)), status: 410, code: "compacted"),
]

@Suite("Error mapping")
struct ErrorMappingTests {
    @Test("every node failure has its documented status, code and Retry-After", arguments: failureCases)
    func nodeFailure(_ row: FailureCase) throws {
        let response = APIResponse.encode(.failed(row.failure), context: testContext)
        #expect(response.status.code == row.status)
        #expect(try errorObject(response).code == row.code)
        #expect(response.header("Retry-After") == row.retryAfter)
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.header("X-Roster-Term") == "7")
        #expect(response.header("X-Roster-Leader") == "n1")
        #expect(response.header("X-Roster-Revision") == "41")
        let object = try jsonObject(response.body)
        #expect(Array(object.keys) == ["error"], "the error object is the only top-level key")
    }

    @Test("registry rejections have their documented status and code", arguments: rejectionCases)
    func rejection(_ row: RejectionCase) throws {
        let response = APIResponse.encode(.rejected(row.rejection, evaluatedAt: Revision(7)), context: testContext)
        #expect(response.status.code == row.status)
        let error = try errorObject(response)
        #expect(error.code == row.code)
        #expect(!error.message.isEmpty)
        #expect(response.header("Retry-After") == nil, "a rejection is not fixed by waiting")
        #expect(response.header("X-Roster-Revision") == "7", "the header names the revision the refusal was decided at")
        #expect(try jsonObject(response.body)["revision"] as? Int == 7)
    }

    @Test("indeterminate is distinguishable from not applied by status and code")
    func indeterminateVersusNotApplied() throws {
        let unknown = APIResponse.encode(.failed(.indeterminate(reason: "leader lost")), context: testContext)
        let notApplied = APIResponse.encode(.failed(.notApplied), context: testContext)
        #expect(unknown.status != notApplied.status)
        #expect(try errorObject(unknown).code != errorObject(notApplied).code)
        #expect(try errorObject(unknown).message.contains("may or may not"))
    }

    @Test("an error response's bytes are a well-formed HTTP response")
    func errorBytes() throws {
        let error = APIError(failure: .noLeader(retryAfterMilliseconds: 10))
        let bytes = APIResponse.encodeError(error, context: testContext).bytes(keepAlive: false)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(text.contains("\r\nRetry-After: 1\r\n"))
        #expect(text.contains("\r\nConnection: close\r\n"))
        #expect(
            text.hasSuffix(
                #"{"error":{"code":"no_leader","message":"no leader is known (election in progress or no quorum); nothing was applied, retry"}}"#
            ))
    }
}
