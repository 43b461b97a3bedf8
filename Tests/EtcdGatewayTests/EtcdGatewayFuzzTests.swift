// Goal: nothing a client sends can crash the gateway. Random bytes as the request of every method plan or fail
// with a status; bytes that are not the method's message fail with INVALID_ARGUMENT, and no input is answered
// INTERNAL or UNKNOWN. Random Watch requests against a live session never crash it either.
// Method: seeded generators (every failure names the seed and the payload): pure random bytes, and valid messages
// with a few bytes flipped, cut or appended, so decoding gets deep before it fails.
import EtcdAPI
@testable import EtcdGateway
import GRPC
import Protobuf
import Raft
import Registry
import Testing

@Suite("etcd gateway fuzz")
struct EtcdGatewayFuzzTests {
    /// Whether `payload` decodes as the request message of `method` (nil for methods without one here).
    static func decodes(_ method: EtcdMethod, _ payload: [UInt8]) -> Bool? {
        do {
            switch method {
            case .range: _ = try EtcdAPI.RangeRequest(decoding: payload)
            case .put: _ = try EtcdAPI.PutRequest(decoding: payload)
            case .deleteRange: _ = try EtcdAPI.DeleteRangeRequest(decoding: payload)
            case .txn: _ = try TxnRequest(decoding: payload)
            case .compact: _ = try CompactionRequest(decoding: payload)
            case .leaseGrant: _ = try LeaseGrantRequest(decoding: payload)
            case .leaseRevoke: _ = try LeaseRevokeRequest(decoding: payload)
            case .leaseTimeToLive: _ = try LeaseTimeToLiveRequest(decoding: payload)
            case .leaseLeases: _ = try LeaseLeasesRequest(decoding: payload)
            case .memberList: _ = try MemberListRequest(decoding: payload)
            case .status: _ = try StatusRequest(decoding: payload)
            case .alarm: _ = try AlarmRequest(decoding: payload)
            case .defragment: _ = try DefragmentRequest(decoding: payload)
            case .hash: _ = try HashRequest(decoding: payload)
            case .hashKV: _ = try HashKVRequest(decoding: payload)
            case .moveLeader: _ = try MoveLeaderRequest(decoding: payload)
            case .memberAdd: _ = try MemberAddRequest(decoding: payload)
            case .memberRemove: _ = try MemberRemoveRequest(decoding: payload)
            case .memberUpdate: _ = try MemberUpdateRequest(decoding: payload)
            case .memberPromote: _ = try MemberPromoteRequest(decoding: payload)
            default: return nil
            }
            return true
        } catch {
            return false
        }
    }

    /// A plausible message of the method, so mutations reach deep into decoding.
    static func seedMessage(_ method: EtcdMethod, _ random: inout SplitMix64) -> [UInt8] {
        switch method {
        case .range:
            var request = EtcdAPI.RangeRequest.key("abc", end: "abd")
            request.limit = 3
            request.sortOrder = .descend
            request.sortTarget = .mod
            request.minModRevision = 1
            request.revision = Int64.random(in: -2...3, using: &random)
            return request.encoded()
        case .put: return EtcdAPI.PutRequest(key: bytes("k"), value: bytes("value"), lease: 5, prevKV: true).encoded()
        case .deleteRange: return EtcdAPI.DeleteRangeRequest(key: bytes("a"), rangeEnd: [0], prevKV: true).encoded()
        case .txn:
            let compare = EtcdAPI.Compare(result: .greater, target: .mod, key: bytes("k"), targetUnion: .modRevision(2))
            let put = RequestOp(request: .requestPut(EtcdAPI.PutRequest(key: bytes("k"), value: bytes("v"))))
            let range = RequestOp(request: .requestRange(.key("k", end: "l")))
            guard Bool.random(using: &random) else {
                return TxnRequest(compare: [compare], success: [put, range], failure: [range]).encoded()
            }
            // Nested, with a range compare, so mutations reach the nested and range paths too.
            let overRange = EtcdAPI.Compare(result: .equal, target: .value, key: bytes("a"), targetUnion: .value(bytes("v")), rangeEnd: [0])
            let nested = RequestOp(request: .requestTxn(TxnRequest(compare: [overRange], success: [put], failure: [range])))
            return TxnRequest(compare: [compare, overRange], success: [range, nested], failure: [nested, range]).encoded()
        case .compact:
            let extreme: Int64 = Bool.random(using: &random) ? .min : .max
            let revision = Bool.random(using: &random) ? Int64.random(in: -3...3, using: &random) : extreme
            return CompactionRequest(revision: revision, physical: true).encoded()
        case .leaseGrant: return LeaseGrantRequest(ttl: 30, id: 9).encoded()
        case .leaseTimeToLive: return LeaseTimeToLiveRequest(id: 9, keys: true).encoded()
        case .leaseRevoke: return LeaseRevokeRequest(id: 9).encoded()
        case .hashKV: return HashKVRequest(revision: Int64.random(in: -3...3, using: &random)).encoded()
        case .moveLeader: return MoveLeaderRequest(targetID: 3).encoded()
        case .memberAdd: return MemberAddRequest(peerURLs: ["http://10.0.0.4:2380"], isLearner: true).encoded()
        case .memberRemove: return MemberRemoveRequest(id: 3).encoded()
        case .memberUpdate: return MemberUpdateRequest(id: 3, peerURLs: ["http://10.0.0.4:2380"]).encoded()
        case .memberPromote: return MemberPromoteRequest(id: 3).encoded()
        case .alarm: return AlarmRequest(action: .deactivate, memberID: 3, alarm: .noSpace).encoded()
        default: return []
        }
    }

    static func payload(_ method: EtcdMethod, _ random: inout SplitMix64) -> [UInt8] {
        if Bool.random(using: &random) {
            return (0..<Int.random(in: 0...48, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
        }
        var message = seedMessage(method, &random)
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            switch Int.random(in: 0..<3, using: &random) {
            case 0 where !message.isEmpty:
                message[Int.random(in: 0..<message.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            case 1 where !message.isEmpty:
                message.removeLast(Int.random(in: 1...message.count, using: &random))
            default:
                message.append(UInt8.random(in: 0...255, using: &random))
            }
        }
        return message
    }

    static let unaryMethods = EtcdMethod.allCases.filter { $0.kind == .unary }

    @Test("random requests for every unary method plan, or fail with INVALID_ARGUMENT when they do not decode",
          arguments: unaryMethods)
    func unaryPlans(method: EtcdMethod) {
        let seed = UInt64(EtcdMethod.allCases.firstIndex(of: method) ?? 0) + 1
        var random = SplitMix64(seed: seed)
        var node = Node()
        node.put("k")
        node.grant(9)
        for round in 0..<1_000 {
            let payload = Self.payload(method, &random)
            let plan = EtcdUnary.plan(method, payload: payload, minimumTTLMilliseconds: 2_000, members: [])
            let context = "seed \(seed) \(method) round \(round) payload \(payload)"
            switch (Self.decodes(method, payload), plan) {
            case (nil, .fail(let status)):
                #expect(status.code == .unimplemented, "\(context): \(status)")
            case (nil, _):
                Issue.record("\(context): an unimplemented method planned \(plan)")
            case (false?, .fail(let status)):
                #expect(status.code == .invalidArgument, "\(context): \(status)")
                #expect(status.message.hasPrefix("grpc: error unmarshalling request"), "\(context): \(status)")
            case (false?, _):
                Issue.record("\(context): undecodable bytes planned \(plan)")
            case (true?, .fail(let status)):
                #expect(![.internal, .unknown, .ok].contains(status.code), "\(context): \(status)")
            case (true?, .submit(let request, let reply)):
                // The node's answer, whatever it is, encodes without an INTERNAL error.
                if case .admin = request { continue }
                let response = node.serve(request)
                if case .failure(let status) = reply.encode(response, context: testContext, currentRevision: node.registry.revision) {
                    #expect(![.internal, .unknown, .ok].contains(status.code), "\(context): \(status)")
                }
            case (true?, .local):
                break
            }
        }
    }

    @Test("random Watch requests never crash a session with live watches", arguments: [1, 2, 3] as [UInt64])
    func watchRequests(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var bench = WatchBench()
        for round in 0..<2_000 {
            if round % 7 == 0 { _ = bench.put(["a", "b", "ab"].randomElement(using: &random)!) }
            var message = WatchRequest.create("a", end: "b", start: 2, id: 3, prevKV: true, filters: [.noDelete]).encoded()
            if Bool.random(using: &random) {
                message = (0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            } else {
                for _ in 0..<Int.random(in: 1...3, using: &random) {
                    message[Int.random(in: 0..<message.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
            }
            let request: WatchRequest
            do {
                request = try WatchRequest(decoding: message)
            } catch {
                continue  // Undecodable bytes never reach the session; the shell answers INVALID_ARGUMENT.
            }
            let responses = bench.send(request)
            for response in responses where response.created {
                #expect(response.watchID >= -1, "seed \(seed) round \(round): \(response)")
            }
        }
        _ = bench.session.catchUp(registry: bench.node.registry)
    }
}
