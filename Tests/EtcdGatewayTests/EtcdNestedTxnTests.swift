// Goal: nested transactions (`request_txn`) and range compares (`range_end`) answer as etcd 3.4 answers them:
// nested responses in place with an empty header, compares decided before anything runs, etcd's static
// checks (checkTxnRequest, checkIntervals) refusing what etcd refuses with its exact errors whichever branch
// would run. Method: the end-to-end `Node.call` of the other gateway tests (plan → registry → reply encoding),
// one claim per test; expected answers worked out from etcd's apply.go and v3rpc/key.go.
import EtcdAPI
@testable import EtcdGateway
import GRPC
import Registry
import Testing

@Suite("etcd nested txn and range compares")
struct EtcdNestedTxnTests {
    private func put(_ key: String, _ value: String = "v") -> RequestOp {
        RequestOp(request: .requestPut(EtcdAPI.PutRequest(key: bytes(key), value: bytes(value))))
    }

    private func get(_ key: String, end: String = "") -> RequestOp {
        RequestOp(request: .requestRange(.key(key, end: end)))
    }

    private func txn(_ compare: [EtcdAPI.Compare] = [], then: [RequestOp] = [], otherwise: [RequestOp] = []) -> RequestOp {
        RequestOp(request: .requestTxn(TxnRequest(compare: compare, success: then, failure: otherwise)))
    }

    private func valueIs(_ key: String, _ value: String, end: String = "") -> EtcdAPI.Compare {
        EtcdAPI.Compare(result: .equal, target: .value, key: bytes(key), targetUnion: .value(bytes(value)), rangeEnd: bytes(end))
    }

    private let duplicate = GRPCStatus(code: .invalidArgument, message: "etcdserver: duplicate key given in txn request")

    @Test("a nested txn answers in place: its branch, its responses, an empty header")
    func nestedAnswer() throws {
        var node = Node()
        node.put("a", "1")
        let request = TxnRequest(success: [put("b"), txn([valueIs("a", "1")], then: [get("b")], otherwise: [put("c")])])
        let answer = try node.expect(.txn, request, as: TxnResponse.self)
        #expect(answer.succeeded)
        #expect(answer.header?.revision == node.registry.revision.rawValue)
        guard case .responseTxn(let nested) = answer.responses.last?.response,
            case .responseRange(let read) = nested.responses.first?.response
        else {
            Issue.record("unexpected responses \(answer.responses)")
            return
        }
        #expect(nested.succeeded)
        #expect(nested.header == ResponseHeader())
        #expect(read.kvs.map(\.key) == [bytes("b")])
        #expect(read.header?.revision == node.registry.revision.rawValue)
    }

    @Test("a nested compare sees the state before the outer put of the same transaction")
    func nestedCompareSeesOldState() throws {
        var node = Node()
        node.put("a", "1")
        let request = TxnRequest(success: [put("a", "2"), txn([valueIs("a", "2")], then: [put("then")], otherwise: [put("else")])])
        let answer = try node.expect(.txn, request, as: TxnResponse.self)
        guard case .responseTxn(let nested) = answer.responses.last?.response else {
            Issue.record("unexpected responses \(answer.responses)")
            return
        }
        #expect(!nested.succeeded)
        #expect(try node.range(.key("else")).count == 1)
        #expect(try node.range(.key("then")).count == 0)
    }

    @Test("a key put outside and inside a nested txn is a duplicate, even in the branch that does not run")
    func duplicateAcrossLevels() {
        var node = Node()
        let nested = TxnRequest(compare: [valueIs("missing", "x")], success: [put("k"), txn(then: [put("k")])])
        #expect(node.status(.txn, nested) == duplicate)
        let inFailureBranch = TxnRequest(failure: [put("k"), txn(otherwise: [put("k")])])
        #expect(node.status(.txn, inFailureBranch) == duplicate)
    }

    @Test("a nested put inside a range deleted one level up is a duplicate")
    func putInDeletedRange() {
        var node = Node()
        let delete = RequestOp(request: .requestDeleteRange(EtcdAPI.DeleteRangeRequest(key: bytes("p/"), rangeEnd: bytes("p0"))))
        #expect(node.status(.txn, TxnRequest(success: [delete, txn(then: [put("p/x")])])) == duplicate)
    }

    @Test("the then and else branches of a nested txn may put the same key; two nested txns may not")
    func thenElseShareKeys() throws {
        var node = Node()
        _ = try node.expect(.txn, TxnRequest(success: [txn(then: [put("k", "1")], otherwise: [put("k", "2")])]), as: TxnResponse.self)
        #expect(node.status(.txn, TxnRequest(success: [txn(then: [put("k")]), txn(then: [put("k")])])) == duplicate)
    }

    @Test("an operation with no request is 'etcdserver: key not found', nested or not")
    func emptyOperation() {
        var node = Node()
        let expected = GRPCStatus(code: .invalidArgument, message: "etcdserver: key not found")
        #expect(node.status(.txn, TxnRequest(success: [RequestOp()])) == expected)
        #expect(node.status(.txn, TxnRequest(success: [txn(otherwise: [RequestOp()])])) == expected)
    }

    @Test("ignore_value with a value is refused in a branch that would not run, as etcd checks before applying")
    func staticPutChecks() {
        var node = Node()
        let bad = RequestOp(request: .requestPut(EtcdAPI.PutRequest(key: bytes("k"), value: bytes("v"), ignoreValue: true)))
        #expect(
            node.status(.txn, TxnRequest(failure: [txn(then: [bad])]))
                == GRPCStatus(code: .invalidArgument, message: "etcdserver: value is provided"))
    }

    @Test("a nested txn gets the operations its parent leaves: 128 less the widest of the parent")
    func nestedOperationBudget() {
        var node = Node()
        let wide = (0..<100).map { put("w\($0)") }
        let inner = (0..<29).map { put("i\($0)") }
        #expect(
            node.status(.txn, TxnRequest(success: wide + [txn(then: inner)]))
                == GRPCStatus(code: .invalidArgument, message: "etcdserver: too many operations in txn request"))
        #expect(node.status(.txn, TxnRequest(success: wide + [txn(then: Array(inner.dropLast(2)))])) == nil)
    }

    @Test("a range compare holds only when it holds for every key of the range; \\0 means every key from the key on")
    func rangeCompare() throws {
        var node = Node()
        node.put("r/a", "1")
        node.put("r/b", "1")
        let all = try node.expect(.txn, TxnRequest(compare: [valueIs("r/", "1", end: "r0")]), as: TxnResponse.self)
        #expect(all.succeeded)
        node.put("s", "2")
        let fromKey = try node.expect(.txn, TxnRequest(compare: [valueIs("r/", "1", end: "\u{0}")]), as: TxnResponse.self)
        #expect(!fromKey.succeeded)
    }

    @Test("a range compare over no keys: value fails, create = 0 holds")
    func rangeCompareOverNothing() throws {
        var node = Node()
        let value = try node.expect(.txn, TxnRequest(compare: [valueIs("x", "", end: "y")]), as: TxnResponse.self)
        #expect(!value.succeeded)
        let create = EtcdAPI.Compare(result: .equal, target: .create, key: bytes("x"), targetUnion: .createRevision(0), rangeEnd: bytes("y"))
        #expect(try node.expect(.txn, TxnRequest(compare: [create]), as: TxnResponse.self).succeeded)
    }
}
