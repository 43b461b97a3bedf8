// Goal: shared helpers for the gateway tests, so each test states its scenario and nothing else.
// Method: a real `RegistryState` stands in for the node. `Node.call` runs a unary etcd call the way the shell
// does (plan → the node's request served against the registry, as `NodeDriver.serve` serves reads → reply
// encoding) and decodes the answer. A seeded SplitMix64 drives every random test, and failures name the seed.
import EtcdAPI
@testable import EtcdGateway
import GRPC
import Protobuf
import Raft
import Registry
import RosterNode


/// UTF-8 bytes of a string.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A key's text, for readable failure messages.
func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

let testContext = EtcdHeaderContext(clusterID: 0xC1, memberID: 0xA1, raftTerm: 3)

/// A registry standing in for the node: applies commands at consecutive indexes and serves node requests.
struct Node {
    var registry: RegistryState
    var nextIndex: UInt64 = 1

    init(limits: RegistryLimits = .standard) { registry = RegistryState(limits: limits) }

    @discardableResult
    mutating func apply(_ command: RegistryCommand) -> CommandResult {
        defer { nextIndex += 1 }
        return registry.apply(command, at: nextIndex)
    }

    @discardableResult
    mutating func put(_ key: String, _ value: String = "v", lease: LeaseID? = nil) -> Revision {
        let result = apply(.put(Registry.PutRequest(key: bytes(key), value: bytes(value), lease: lease)))
        guard case .applied(let applied) = result else { preconditionFailure("put \(key) refused: \(result)") }
        return applied.revision
    }

    @discardableResult
    mutating func delete(_ key: String) -> Revision {
        let result = apply(.deleteRange(Registry.DeleteRangeRequest(.key(bytes(key)))))
        guard case .applied(let applied) = result else { preconditionFailure("delete \(key) refused: \(result)") }
        return applied.revision
    }

    mutating func grant(_ id: UInt64, ttlMilliseconds: Int64 = 10_000) {
        apply(.grantLease(id: LeaseID(id), ttlMilliseconds: ttlMilliseconds, grantedAtMilliseconds: 0))
    }

    /// What the node answers to `request`: writes are applied, reads served as `NodeDriver.serve` serves them.
    mutating func serve(_ request: NodeRequest) -> NodeResponse {
        switch request {
        case .write(let command):
            let evaluatedAt = registry.revision
            switch apply(command) {
            case .applied(let applied): return .written(applied)
            case .rejected(let rejection): return .rejected(rejection, evaluatedAt: evaluatedAt)
            }
        case .read(let query, let options):
            let context = ReadContext(
                revision: registry.revision, consistency: options.consistency, leaderContactAgeMilliseconds: nil)
            do {
                let result: QueryResult
                switch query {
                case .range(let request): result = .range(try registry.range(request))
                case .rangeAt(let request, let revision): result = .range(try registry.range(request, atRevision: revision))
                case .lease(let lease, let includeKeys): result = .lease(try registry.timeToLive(lease, includeKeys: includeKeys))
                case .leases: result = .leases(registry.leases())
                case .hash(let revision): result = .hash(try registry.stateHash(atRevision: revision))
                default: preconditionFailure("the gateway never asks \(query)")
                }
                return .read(result, context)
            } catch {
                return .rejected(error, evaluatedAt: registry.revision)
            }
        case .keepAlive, .admin, .registerWithLease, .readBarrier:
            preconditionFailure("not served by this test node: \(request)")
        }
    }

    /// A unary call end to end: the encoded answer, or the status the shell would send.
    mutating func call(_ method: EtcdMethod, _ message: some ProtoMessage, minimumTTLMilliseconds: Int64 = 2_000)
        -> Result<[UInt8], GRPCStatus>
    {
        switch EtcdUnary.plan(method, payload: message.encoded(), minimumTTLMilliseconds: minimumTTLMilliseconds, members: []) {
        case .fail(let status): return .failure(status)
        case .local(let local): preconditionFailure("\(method) answered locally: \(local)")
        case .submit(let request, let reply):
            let response = serve(request)
            return reply.encode(
                response, context: testContext, currentRevision: registry.revision, compactedRevision: registry.compactedRevision)
        }
    }

    /// A unary call that must succeed, decoded as `Answer`.
    mutating func expect<Answer: ProtoMessage>(
        _ method: EtcdMethod, _ message: some ProtoMessage, as: Answer.Type, minimumTTLMilliseconds: Int64 = 2_000
    ) throws -> Answer {
        let bytes = try call(method, message, minimumTTLMilliseconds: minimumTTLMilliseconds).get()
        return try Answer(decoding: bytes)
    }

    mutating func range(_ request: EtcdAPI.RangeRequest) throws -> RangeResponse {
        try expect(.range, request, as: RangeResponse.self)
    }

    /// The status a call fails with (nil when it succeeds).
    mutating func status(_ method: EtcdMethod, _ message: some ProtoMessage, minimumTTLMilliseconds: Int64 = 2_000)
        -> GRPCStatus?
    {
        if case .failure(let status) = call(method, message, minimumTTLMilliseconds: minimumTTLMilliseconds) {
            return status
        }
        return nil
    }
}

extension EtcdAPI.RangeRequest {
    static func key(_ key: String, end: String = "") -> EtcdAPI.RangeRequest {
        var request = EtcdAPI.RangeRequest()
        request.key = bytes(key)
        request.rangeEnd = bytes(end)
        return request
    }
}

extension WatchRequest {
    static func create(
        _ key: String, end: String = "", start: Int64 = 0, id: Int64 = 0, prevKV: Bool = false,
        filters: [WatchCreateRequest.FilterType] = []
    ) -> WatchRequest {
        var create = WatchCreateRequest()
        create.key = bytes(key)
        create.rangeEnd = bytes(end)
        create.startRevision = start
        create.watchID = id
        create.prevKV = prevKV
        create.filters = filters
        var request = WatchRequest()
        request.requestUnion = .createRequest(create)
        return request
    }

    static func cancel(_ id: Int64) -> WatchRequest {
        var request = WatchRequest()
        request.requestUnion = .cancelRequest(WatchCancelRequest(watchID: id))
        return request
    }

    static var progress: WatchRequest {
        var request = WatchRequest()
        request.requestUnion = .progressRequest(WatchProgressRequest())
        return request
    }
}
