// Goal: etcd 3.4's nested transactions (`request_txn`) and range compares (`range_end`) in the registry:
// every compare, nested ones included, sees the state before the transaction; the chosen path runs in order
// at one revision; a key written twice anywhere on the path is refused; the shape limits bound nesting, and
// every transaction that passes them survives the log codec. Method: small hand-built scenarios, one claim
// per test, plus a codec round trip of the deepest nesting the limits allow.
import Codec
import Registry
import Testing

@Suite("Nested transactions and range compares")
struct NestedTransactionTests {
    private func put(_ key: String, _ value: String) -> TransactionOperation {
        .put(PutRequest(key: bytes(key), value: bytes(value)))
    }

    @Test("a nested transaction's compares see the state before the outer branch ran")
    func nestedComparesSeeTheOldState() throws {
        var harness = Harness()
        harness.put("a", "1")
        let inner = TransactionRequest(
            compares: [Compare(key: bytes("a"), .value(bytes("1")), .equal)],
            success: [put("inner", "then")], failure: [put("inner", "else")])
        let outer = TransactionRequest(compares: [], success: [put("a", "2"), .transaction(inner)])
        let applied = try #require(harness.apply(.transaction(outer)).applied)
        #expect(harness.get("inner")?.value == bytes("then"))
        #expect(applied.events.map(\.revision) == [2, 2])
        #expect(
            applied.response
                == .transaction(
                    succeeded: true, responses: [.put(previous: nil), .transaction(succeeded: true, responses: [.put(previous: nil)])]))
    }

    @Test("reads inside a nested transaction see earlier writes and answer at the transaction's revision")
    func nestedReads() throws {
        var harness = Harness()
        let inner = TransactionRequest(compares: [], success: [.range(RangeRequest(.key(bytes("k"))))])
        let outer = TransactionRequest(compares: [], success: [put("k", "v"), .transaction(inner)])
        let applied = try #require(harness.apply(.transaction(outer)).applied)
        guard case .transaction(_, let responses) = applied.response, case .transaction(_, let innerResponses) = responses[1],
            case .range(let read) = innerResponses[0]
        else {
            Issue.record("unexpected response \(applied.response)")
            return
        }
        #expect(read.keyValues.map(\.value) == [bytes("v")])
        #expect(read.revision == applied.revision)
    }

    @Test("a put in a nested transaction and a put of the same key outside it are refused")
    func duplicateAcrossLevels() {
        var harness = Harness()
        let inner = TransactionRequest(compares: [], success: [put("k", "inner")])
        let outer = TransactionRequest(compares: [], success: [put("k", "outer"), .transaction(inner)])
        #expect(harness.apply(.transaction(outer)) == .rejected(.duplicateKeyInTransaction(key: bytes("k"))))
        #expect(harness.state.revision == 0)
    }

    @Test("a nested put inside a range the outer branch deletes is refused")
    func putInsideDeletedRange() {
        var harness = Harness()
        let inner = TransactionRequest(compares: [], success: [put("p/x", "1")])
        let outer = TransactionRequest(
            compares: [], success: [.deleteRange(DeleteRangeRequest(.prefix(bytes("p/")))), .transaction(inner)])
        #expect(harness.apply(.transaction(outer)) == .rejected(.duplicateKeyInTransaction(key: bytes("p/x"))))
    }

    @Test("the same key in a nested then and else branch is fine: only one of them runs")
    func thenAndElseMayShareKeys() throws {
        var harness = Harness()
        let inner = TransactionRequest(
            compares: [Compare(key: bytes("missing"), .version(0), .equal)], success: [put("k", "then")],
            failure: [put("k", "else")])
        _ = try #require(harness.apply(.transaction(TransactionRequest(compares: [], success: [.transaction(inner)]))).applied)
        #expect(harness.get("k")?.value == bytes("then"))
    }

    @Test("a range compare holds only if it holds for every key in the range")
    func rangeCompareCoversEveryKey() throws {
        var harness = Harness()
        harness.put("r/a", "1")
        harness.put("r/b", "1")
        let allOne = Compare(range: .prefix(bytes("r/")), .value(bytes("1")), .equal)
        let check = TransactionRequest(compares: [allOne], success: [])
        #expect(harness.apply(.transaction(check)).applied?.response == .transaction(succeeded: true, responses: []))
        harness.put("r/c", "2")
        #expect(harness.apply(.transaction(check)).applied?.response == .transaction(succeeded: false, responses: []))
    }

    @Test("a range compare over no keys: a value compare fails, version = 0 holds (etcd's applyCompare)")
    func rangeCompareOverNothing() {
        var harness = Harness()
        let onValue = Compare(range: .interval(start: bytes("x"), end: bytes("y")), .value([]), .equal)
        let onVersion = Compare(range: .interval(start: bytes("x"), end: bytes("y")), .version(0), .equal)
        #expect(
            harness.apply(.transaction(TransactionRequest(compares: [onValue], success: []))).applied?.response
                == .transaction(succeeded: false, responses: []))
        #expect(
            harness.apply(.transaction(TransactionRequest(compares: [onVersion], success: []))).applied?.response
                == .transaction(succeeded: true, responses: []))
    }

    @Test("a nested transaction gets only the operations its parent leaves, as etcd counts them")
    func nestedBudget() {
        var limits = RegistryLimits.standard
        limits.transactionOperations = 4
        let inner = TransactionRequest(compares: [], success: [put("a", "1"), put("b", "1")])
        let fits = TransactionRequest(compares: [], success: [.transaction(inner), put("c", "1")])
        let tooWide = TransactionRequest(compares: [], success: [.transaction(inner), put("c", "1"), put("d", "1")])
        #expect(fits.shapeRejection(limits: limits) == nil)
        #expect(tooWide.shapeRejection(limits: limits) == .tooManyOperations(count: 2, limit: 4))
    }

    @Test("the deepest nesting the limits allow round-trips through the log codec; one level more is refused")
    func deepNestingRoundTrips() throws {
        let limits = RegistryLimits.standard
        var deepest = TransactionRequest(compares: [], success: [])
        for _ in 0..<limits.transactionOperations { deepest = TransactionRequest(compares: [], success: [.transaction(deepest)]) }
        #expect(deepest.shapeRejection(limits: limits) == nil)
        let command = RegistryCommand.transaction(deepest)
        #expect(try RegistryCommand.decode(command.encoded(), limits: limits) == command)
        let tooDeep = TransactionRequest(compares: [], success: [.transaction(TransactionRequest(compares: [], success: [.transaction(deepest)]))])
        #expect(tooDeep.shapeRejection(limits: limits) != nil)
        #expect(throws: CodecError.self) { try RegistryCommand.decode(RegistryCommand.transaction(tooDeep).encoded(), limits: limits) }
    }

    @Test("range and single-key compares round-trip through the log codec")
    func rangeCompareCodec() throws {
        let range = RegistryCommand.transaction(
            TransactionRequest(compares: [Compare(range: .fromKey(bytes("k")), .modRevision(Revision(3)), .less)], success: []))
        #expect(try RegistryCommand.decode(range.encoded(), limits: .standard) == range)
        let single = RegistryCommand.transaction(
            TransactionRequest(compares: [Compare(key: bytes("k"), .version(1), .equal)], success: []))
        #expect(try RegistryCommand.decode(single.encoded(), limits: .standard) == single)
    }
}
