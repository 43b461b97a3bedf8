// Goal: the KV calls (Range, Put, DeleteRange, Txn, Compact) answer as etcd 3.4 answers: range_end rules,
// sorting and revision filters in etcd's order (filter, sort, limit; count before filtering), limit/more/count,
// keys_only/count_only, historical reads, every compare target and result, and etcd's exact error statuses.
// Method: a real `RegistryState` serves each planned request (`Node.call`); random cases are checked against a
// brute-force model of the key space kept by the test itself (seeded, every failure names its seed).
import EtcdAPI
@testable import EtcdGateway
import GRPC
import Raft
import Registry
import Testing

@Suite("etcd KV calls")
struct EtcdKVTests {
    // MARK: - range_end

    static let rangeTable: [(key: [UInt8], end: [UInt8], expected: KeyRange)] = [
        (bytes("a"), [], .key(bytes("a"))),
        (bytes("a"), [0], .fromKey(bytes("a"))),
        ([0], [0], .prefix([])),
        (bytes("a"), bytes("b"), .prefix(bytes("a"))),
        (bytes("ab"), bytes("ac"), .prefix(bytes("ab"))),
        ([0x61, 0xFF], [0x62], .prefix([0x61, 0xFF])),
        (bytes("a"), bytes("c"), .interval(start: bytes("a"), end: bytes("c"))),
        (bytes("a"), bytes("a"), .interval(start: bytes("a"), end: bytes("a"))),
        // etcd answers a range whose end sorts before its key with nothing (not an error).
        (bytes("b"), bytes("a"), .interval(start: bytes("b"), end: bytes("b"))),
    ]

    @Test("range_end maps as etcd's: empty is one key, \\0 is from-key, the prefix end is a prefix", arguments: rangeTable)
    func rangeMapping(key: [UInt8], end: [UInt8], expected: KeyRange) {
        #expect(EtcdKeys.range(key: key, end: end) == expected)
    }

    @Test("the prefix end is clientv3's GetPrefixRangeEnd")
    func prefixEnd() {
        #expect(EtcdKeys.prefixEnd(of: bytes("a")) == bytes("b"))
        #expect(EtcdKeys.prefixEnd(of: [0x61, 0xFF]) == [0x62])
        #expect(EtcdKeys.prefixEnd(of: [0xFF, 0xFF]) == nil)
    }

    @Test("a range whose end sorts before its key answers nothing, as etcd does")
    func backwardRange() throws {
        var node = Node()
        node.put("a")
        node.put("b")
        let answer = try node.range(.key("b", end: "a"))
        #expect(answer.kvs.isEmpty && answer.count == 0)
        var delete = EtcdAPI.DeleteRangeRequest(key: bytes("b"), rangeEnd: bytes("a"))
        delete.prevKV = true
        #expect(try node.expect(.deleteRange, delete, as: DeleteRangeResponse.self).deleted == 0)
    }

    // MARK: - Sort, filters, limit against a model

    /// The key space as the test itself tracks it, revision by revision.
    struct Model {
        var live: [[UInt8]: Registry.KeyValue] = [:]
        /// `live` after each revision.
        var history: [Int64: [[UInt8]: Registry.KeyValue]] = [0: [:]]
    }

    static let keys = ["a", "ab", "abc", "b", "ba", "bb", "c", "ca", "d", "e"].map(bytes)

    /// Random puts and deletes, tracked in a model.
    static func build(seed: UInt64, writes: Int, limits: RegistryLimits = .standard) -> (Node, Model, SplitMix64) {
        var random = SplitMix64(seed: seed)
        var node = Node(limits: limits)
        var model = Model()
        for _ in 0..<writes {
            let key = keys.randomElement(using: &random)!
            if Int.random(in: 0..<5, using: &random) == 0 && model.live[key] != nil {
                let revision = node.delete(text(key))
                model.live[key] = nil
                model.history[revision.rawValue] = model.live
            } else {
                let value = (0..<Int.random(in: 0...3, using: &random)).map { _ in UInt8.random(in: 97...100, using: &random) }
                let result = node.apply(.put(Registry.PutRequest(key: key, value: value)))
                guard case .applied(let applied) = result else { preconditionFailure("\(result)") }
                let old = model.live[key]
                model.live[key] = Registry.KeyValue(
                    key: key, value: value, createRevision: old?.createRevision ?? applied.revision,
                    modRevision: applied.revision, version: (old?.version ?? 0) + 1, lease: nil)
                model.history[applied.revision.rawValue] = model.live
            }
        }
        return (node, model, random)
    }

    /// etcd's answer computed by brute force: count the range, filter, sort (ties in key order), limit.
    static func oracle(_ request: EtcdAPI.RangeRequest, _ space: [[UInt8]: Registry.KeyValue]) -> (kvs: [Registry.KeyValue], count: Int, more: Bool) {
        let range = EtcdKeys.range(key: request.key, end: request.rangeEnd)
        var records = space.values.filter { range.contains($0.key) }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        let count = records.count
        if request.countOnly { return ([], count, false) }
        records = records.filter { record in
            (request.minModRevision == 0 || record.modRevision.rawValue >= request.minModRevision)
                && (request.maxModRevision == 0 || record.modRevision.rawValue <= request.maxModRevision)
                && (request.minCreateRevision == 0 || record.createRevision.rawValue >= request.minCreateRevision)
                && (request.maxCreateRevision == 0 || record.createRevision.rawValue <= request.maxCreateRevision)
        }
        var order = request.sortOrder
        if order == .none && request.sortTarget != .key { order = .ascend }
        if order != .none {
            func value(_ record: Registry.KeyValue) -> [Int64] {
                switch request.sortTarget {
                case .version: [record.version]
                case .create: [record.createRevision.rawValue]
                case .mod: [record.modRevision.rawValue]
                case .value: record.value.map(Int64.init)
                default: record.key.map(Int64.init)
                }
            }
            records = records.enumerated().sorted { left, right in
                let (a, b) = (value(left.element), value(right.element))
                if a != b { return order == .descend ? b.lexicographicallyPrecedes(a) : a.lexicographicallyPrecedes(b) }
                return left.offset < right.offset
            }.map(\.element)
        }
        var more = false
        if request.limit > 0 && records.count > Int(request.limit) {
            records = Array(records.prefix(Int(request.limit)))
            more = true
        }
        return (records, count, more)
    }

    static func randomRequest(_ random: inout SplitMix64, revision: Int64) -> EtcdAPI.RangeRequest {
        var request = EtcdAPI.RangeRequest()
        switch Int.random(in: 0..<4, using: &random) {
        case 0: request.key = keys.randomElement(using: &random)!
        case 1:
            request.key = keys.randomElement(using: &random)!
            request.rangeEnd = EtcdKeys.prefixEnd(of: request.key)!
        case 2:
            request.key = keys.randomElement(using: &random)!
            request.rangeEnd = [0]
        default:
            request.key = keys.randomElement(using: &random)!
            request.rangeEnd = keys.randomElement(using: &random)!
        }
        func maybe(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }
        if maybe(60) { request.sortOrder = .init(rawValue: Int32.random(in: 0...2, using: &random)) }
        if maybe(60) { request.sortTarget = .init(rawValue: Int32.random(in: 0...4, using: &random)) }
        if maybe(40) { request.limit = Int64.random(in: 0...4, using: &random) }
        if maybe(25) { request.minModRevision = Int64.random(in: 0...revision, using: &random) }
        if maybe(25) { request.maxModRevision = Int64.random(in: 0...revision, using: &random) }
        if maybe(25) { request.minCreateRevision = Int64.random(in: 0...revision, using: &random) }
        if maybe(25) { request.maxCreateRevision = Int64.random(in: 0...revision, using: &random) }
        request.keysOnly = maybe(20)
        request.countOnly = maybe(10)
        return request
    }

    @Test("sort orders and targets, revision filters, limit, keys_only and count_only match a brute-force oracle",
          arguments: [1, 2, 3, 4, 5] as [UInt64])
    func rangeOracle(seed: UInt64) throws {
        var (node, model, random) = Self.build(seed: seed, writes: 60)
        for _ in 0..<300 {
            let request = Self.randomRequest(&random, revision: node.registry.revision.rawValue)
            let answer = try node.range(request)
            let expected = Self.oracle(request, model.live)
            let context = "seed \(seed): \(request)"
            #expect(answer.count == Int64(expected.count), "\(context)")
            #expect(answer.more == expected.more, "\(context)")
            #expect(answer.kvs == expected.kvs.map { EtcdKeys.keyValue($0, keysOnly: request.keysOnly) }, "\(context)")
            #expect(answer.header?.revision == node.registry.revision.rawValue, "\(context)")
        }
    }

    @Test("a read at an older revision answers the key space of that revision, shaped the same way",
          arguments: [11, 12, 13] as [UInt64])
    func historicalReads(seed: UInt64) throws {
        var (node, model, random) = Self.build(seed: seed, writes: 50)
        let current = node.registry.revision.rawValue
        for _ in 0..<200 {
            var request = Self.randomRequest(&random, revision: current)
            request.revision = Int64.random(in: 1...current, using: &random)
            let space = model.history.filter { $0.key <= request.revision }.max { $0.key < $1.key }!.value
            let answer = try node.range(request)
            let expected = Self.oracle(request, space)
            #expect(answer.count == Int64(expected.count), "seed \(seed): \(request)")
            #expect(answer.kvs == expected.kvs.map { EtcdKeys.keyValue($0, keysOnly: request.keysOnly) }, "seed \(seed): \(request)")
            // etcd's header names the store's current revision, even for a read of an older one.
            #expect(answer.header?.revision == current, "seed \(seed): \(request)")
        }
    }

    @Test("limit cuts after sorting, sets more, and count stays the whole range")
    func limitAndCount() throws {
        var node = Node()
        for key in ["a", "b", "c", "d"] { node.put(key) }
        node.put("b", "again")
        var request = EtcdAPI.RangeRequest.key("a", end: "z")
        request.limit = 2
        request.sortOrder = .descend
        request.sortTarget = .mod
        let answer = try node.range(request)
        #expect(answer.kvs.map(\.key) == [bytes("b"), bytes("d")])
        #expect(answer.more && answer.count == 4)
        request.countOnly = true
        let counted = try node.range(request)
        #expect(counted.kvs.isEmpty && counted.count == 4 && !counted.more)
    }

    // MARK: - Errors

    @Test("an empty key is INVALID_ARGUMENT 'etcdserver: key is not provided' on every KV call and in txn")
    func emptyKey() {
        var node = Node()
        let expected = GRPCStatus(code: .invalidArgument, message: "etcdserver: key is not provided")
        #expect(node.status(.range, EtcdAPI.RangeRequest()) == expected)
        #expect(node.status(.put, EtcdAPI.PutRequest(value: bytes("v"))) == expected)
        #expect(node.status(.deleteRange, EtcdAPI.DeleteRangeRequest()) == expected)
        let operations: [RequestOp.Request] = [
            .requestRange(EtcdAPI.RangeRequest()), .requestPut(EtcdAPI.PutRequest()),
            .requestDeleteRange(EtcdAPI.DeleteRangeRequest()),
        ]
        for operation in operations {
            #expect(node.status(.txn, TxnRequest(success: [RequestOp(request: operation)])) == expected, "\(operation)")
            #expect(node.status(.txn, TxnRequest(failure: [RequestOp(request: operation)])) == expected, "\(operation)")
        }
        #expect(node.status(.txn, TxnRequest(compare: [EtcdAPI.Compare(targetUnion: .version(0))])) == expected)
    }

    @Test("a put with an unknown lease is NOT_FOUND 'etcdserver: requested lease not found'")
    func putUnknownLease() {
        var node = Node()
        #expect(node.status(.put, EtcdAPI.PutRequest(key: bytes("k"), lease: 77))
            == GRPCStatus(code: .notFound, message: "etcdserver: requested lease not found"))
    }

    @Test("reads below the compaction are OUT_OF_RANGE 'compacted', reads past the revision 'future revision'")
    func revisionErrors() {
        var node = Node()
        for key in ["a", "b", "c", "d"] { node.put(key) }
        #expect(node.status(.compact, CompactionRequest(revision: 3)) == nil)
        var request = EtcdAPI.RangeRequest.key("a")
        request.revision = 2
        #expect(node.status(.range, request)
            == GRPCStatus(code: .outOfRange, message: "etcdserver: mvcc: required revision has been compacted"))
        request.revision = 3
        #expect(node.status(.range, request) == nil, "the compaction revision itself stays readable, as in etcd")
        request.revision = 5
        #expect(node.status(.range, request)
            == GRPCStatus(code: .outOfRange, message: "etcdserver: mvcc: required revision is a future revision"))
        #expect(node.status(.compact, CompactionRequest(revision: 9))
            == GRPCStatus(code: .outOfRange, message: "etcdserver: mvcc: required revision is a future revision"))
        #expect(node.status(.compact, CompactionRequest(revision: 2))
            == GRPCStatus(code: .outOfRange, message: "etcdserver: mvcc: required revision has been compacted"))
    }

    @Test("a compaction at a negative revision, the lowest int64 too, is OUT_OF_RANGE 'compacted', as in etcd")
    func compactionAtNegativeRevisions() {
        // `etcdctl compact -- -9223372036854775808` killed the member: etcd's R became Roster's R - 1 (`scripts/fuzz`).
        var node = Node()
        node.put("a")
        let compacted = GRPCStatus(code: .outOfRange, message: "etcdserver: mvcc: required revision has been compacted")
        #expect(node.status(.compact, CompactionRequest(revision: -1)) == compacted)
        #expect(node.status(.compact, CompactionRequest(revision: .min)) == compacted)
        #expect(node.status(.put, EtcdAPI.PutRequest(key: bytes("b"), value: bytes("v"))) == nil, "the member goes on")
    }

    @Test("a value over the limit is INVALID_ARGUMENT 'etcdserver: request is too large'")
    func tooLarge() {
        var limits = RegistryLimits()
        limits.valueBytes = 16
        var node = Node(limits: limits)
        #expect(node.status(.put, EtcdAPI.PutRequest(key: bytes("k"), value: Array(repeating: 1, count: 17)))
            == GRPCStatus(code: .invalidArgument, message: "etcdserver: request is too large"))
    }

    @Test("a txn putting one key twice is 'etcdserver: duplicate key given in txn request'")
    func duplicateKey() {
        var node = Node()
        let put = RequestOp(request: .requestPut(EtcdAPI.PutRequest(key: bytes("k"))))
        #expect(node.status(.txn, TxnRequest(success: [put, put]))
            == GRPCStatus(code: .invalidArgument, message: "etcdserver: duplicate key given in txn request"))
    }

    // MARK: - Txn compares

    static let targets: [EtcdAPI.Compare.CompareTarget] = [.version, .create, .mod, .value, .lease]
    static let results: [EtcdAPI.Compare.CompareResult] = [.equal, .notEqual, .greater, .less]

    @Test("every compare target and result, on a present and an absent key, decides as etcd's applyCompare",
          arguments: targets, results)
    func compares(target: EtcdAPI.Compare.CompareTarget, result: EtcdAPI.Compare.CompareResult) throws {
        var node = Node()
        node.grant(5)
        node.put("other")
        node.put("k", "m", lease: LeaseID(5))
        node.put("k", "m")  // version 2, create 3, mod 4, lease none
        node.put("k", "m", lease: LeaseID(5))  // version 3, mod 5, lease 5
        let record = try node.registry.range(Registry.RangeRequest(.key(bytes("k")))).keyValues[0]
        for key in ["k", "absent"] {
            for delta in [-1, 0, 1] as [Int64] {
                let actual: [Int64]
                let union: EtcdAPI.Compare.TargetUnion
                let present = key == "k"
                switch target {
                case .version:
                    actual = [present ? record.version : 0]
                    union = .version(record.version + delta)
                case .create:
                    actual = [present ? record.createRevision.rawValue : 0]
                    union = .createRevision(record.createRevision.rawValue + delta)
                case .mod:
                    actual = [present ? record.modRevision.rawValue : 0]
                    union = .modRevision(record.modRevision.rawValue + delta)
                case .lease:
                    actual = [present ? 5 : 0]
                    union = .lease(5 + delta)
                default:
                    actual = record.value.map(Int64.init)
                    union = .value([UInt8(Int64(record.value[0]) + delta)])
                }
                let operand: [Int64]
                switch union {
                case .version(let value), .createRevision(let value), .modRevision(let value), .lease(let value): operand = [value]
                case .value(let value): operand = value.map(Int64.init)
                }
                let order = actual == operand ? 0 : (actual.lexicographicallyPrecedes(operand) ? -1 : 1)
                var expected: Bool
                switch result {
                case .equal: expected = order == 0
                case .notEqual: expected = order != 0
                case .greater: expected = order > 0
                default: expected = order < 0
                }
                // etcd: a value compare on a missing key always fails.
                if target == .value && !present { expected = false }
                let compare = EtcdAPI.Compare(result: result, target: target, key: bytes(key), targetUnion: union)
                let answer = try node.expect(.txn, TxnRequest(compare: [compare]), as: TxnResponse.self)
                #expect(answer.succeeded == expected, "\(key) \(target) \(result) \(union)")
            }
        }
    }

    @Test("a txn runs the chosen branch and answers each operation; a get sees the txn's earlier put")
    func txnBranches() throws {
        var node = Node()
        node.put("k", "1")
        let compare = EtcdAPI.Compare(result: .equal, target: .value, key: bytes("k"), targetUnion: .value(bytes("1")))
        let success = [
            RequestOp(request: .requestPut(EtcdAPI.PutRequest(key: bytes("k"), value: bytes("2"), prevKV: true))),
            RequestOp(request: .requestRange(.key("k"))),
            RequestOp(request: .requestDeleteRange(EtcdAPI.DeleteRangeRequest(key: bytes("gone")))),
        ]
        let failure = [RequestOp(request: .requestRange(.key("k")))]
        let answer = try node.expect(.txn, TxnRequest(compare: [compare], success: success, failure: failure), as: TxnResponse.self)
        #expect(answer.succeeded)
        #expect(answer.header?.revision == 2)
        guard answer.responses.count == 3,
            case .responsePut(let put) = answer.responses[0].response,
            case .responseRange(let range) = answer.responses[1].response,
            case .responseDeleteRange(let delete) = answer.responses[2].response
        else {
            Issue.record("unexpected responses \(answer.responses)")
            return
        }
        #expect(put.prevKV?.value == bytes("1"))
        #expect(range.kvs.map(\.value) == [bytes("2")])
        #expect(delete.deleted == 0)
        let second = try node.expect(.txn, TxnRequest(compare: [compare], success: success, failure: failure), as: TxnResponse.self)
        #expect(!second.succeeded)
        guard case .responseRange(let failed) = second.responses.first?.response else {
            Issue.record("unexpected responses \(second.responses)")
            return
        }
        #expect(failed.kvs.map(\.value) == [bytes("2")])
    }
}
