// Goal: the key space behaves like etcd's MVCC store: one revision per write, per-key create/mod
// revision and version, range reads with prefix, interval, limit, count-only and keys-only, range
// deletes, and transactions with every compare target. Method: small hand-built scenarios, one claim per
// test, checked against the values etcd's documentation prescribes.
import Registry
import Testing

@Suite("Key space")
struct KeyValueTests {
    @Test("each put bumps the revision once and tracks create revision, mod revision and version")
    func putBookkeeping() throws {
        var harness = Harness()
        harness.put("a", "1")
        harness.put("b", "1")
        harness.put("a", "2")
        let record = try #require(harness.get("a"))
        #expect(harness.state.revision == 3)
        #expect(record.createRevision == 1)
        #expect(record.modRevision == 3)
        #expect(record.version == 2)
        #expect(record.value == bytes("2"))
    }

    @Test("a put can return the previous value")
    func putReturnsPrevious() throws {
        var harness = Harness()
        harness.put("a", "1")
        let result = harness.apply(.put(PutRequest(key: bytes("a"), value: bytes("2"), returnPrevious: true)))
        let applied = try #require(result.applied)
        guard case .put(let previous) = applied.response else { Issue.record("wrong response"); return }
        #expect(previous?.value == bytes("1"))
        #expect(applied.events.first?.previous?.value == bytes("1"))
    }

    @Test("system keys (first byte 0x01) show only in ranges that start among them; whole-space deletes keep them")
    func systemKeysStayOutOfUserRanges() throws {
        var harness = Harness()
        let member = [KeyRange.systemKeyByte] + bytes("roster/members/n4")
        harness.apply(.put(PutRequest(key: member, value: bytes("n4"))))
        harness.put("a", "1")
        let everything: [KeyRange] = [.prefix([]), .fromKey([]), .interval(start: [], end: [0xFF])]
        for range in everything {
            #expect(try harness.state.range(RangeRequest(range)).keyValues.map(\.key) == [bytes("a")], "\(range)")
        }
        #expect(try harness.state.range(RangeRequest(.prefix([KeyRange.systemKeyByte]))).keyValues.map(\.key) == [member])
        #expect(try harness.state.range(RangeRequest(.key(member))).keyValues.count == 1)
        let batch = try harness.state.events(after: 0, matching: .prefix([]))
        guard case .events(let events, _) = batch else { Issue.record("\(batch)"); return }
        #expect(events.map(\.key) == [bytes("a")], "a watch of everything does not see the member directory")
        harness.apply(.deleteRange(DeleteRangeRequest(.prefix([]))))
        #expect(try harness.state.range(RangeRequest(.prefix([]))).keyValues.isEmpty)
        #expect(try harness.state.range(RangeRequest(.key(member))).keyValues.count == 1, "deleting everything kept it")
    }

    @Test("delete then re-create resets version and create revision")
    func recreate() throws {
        var harness = Harness()
        harness.put("a", "1")
        harness.apply(.deleteRange(DeleteRangeRequest(.key(bytes("a")))))
        harness.put("a", "2")
        let record = try #require(harness.get("a"))
        #expect(record.version == 1)
        #expect(record.createRevision == 3)
    }

    @Test("range reads by prefix, interval and from-key in byte order")
    func rangeKinds() throws {
        var harness = Harness()
        for key in ["b", "a/2", "a/1", "ab", "c"] { harness.put(key, key) }
        let prefix = try harness.state.range(RangeRequest(.prefix(bytes("a/"))))
        #expect(prefix.keyValues.map(\.key) == [bytes("a/1"), bytes("a/2")])
        let interval = try harness.state.range(RangeRequest(.interval(start: bytes("a/2"), end: bytes("b"))))
        #expect(interval.keyValues.map(\.key) == [bytes("a/2"), bytes("ab")])
        let from = try harness.state.range(RangeRequest(.fromKey(bytes("b"))))
        #expect(from.keyValues.map(\.key) == [bytes("b"), bytes("c")])
        let all = try harness.state.range(RangeRequest(.prefix([])))
        #expect(all.count == 5 && all.revision == 5)
    }

    @Test("limit truncates but count counts every match; count-only and keys-only omit data")
    func rangeOptions() throws {
        var harness = Harness()
        for key in ["k1", "k2", "k3"] { harness.put(key, "value") }
        let limited = try harness.state.range(RangeRequest(.prefix(bytes("k")), limit: 2))
        #expect(limited.keyValues.count == 2 && limited.count == 3 && limited.more)
        let counted = try harness.state.range(RangeRequest(.prefix(bytes("k")), countOnly: true))
        #expect(counted.keyValues.isEmpty && counted.count == 3)
        let keysOnly = try harness.state.range(RangeRequest(.prefix(bytes("k")), keysOnly: true))
        #expect(keysOnly.keyValues.allSatisfy { $0.value.isEmpty })
    }

    @Test("a range whose end precedes its start is rejected")
    func invertedRange() {
        let state = RegistryState()
        #expect(throws: RegistryRejection.invalidRange(start: bytes("b"), end: bytes("a"))) {
            try state.range(RangeRequest(.interval(start: bytes("b"), end: bytes("a"))))
        }
    }

    @Test("a range delete removes every match at one revision, in key order")
    func deleteRange() throws {
        var harness = Harness()
        for key in ["p/b", "p/a", "q"] { harness.put(key, "v") }
        let applied = try #require(harness.apply(.deleteRange(DeleteRangeRequest(.prefix(bytes("p/")), returnPrevious: true))).applied)
        #expect(applied.revision == 4)
        #expect(applied.events.map(\.key) == [bytes("p/a"), bytes("p/b")])
        #expect(applied.events.allSatisfy { $0.kind == .delete && $0.revision == 4 && $0.cause == .delete })
        #expect(applied.response == .deleteRange(deleted: 2, previous: applied.events.compactMap(\.previous)))
    }

    @Test("a delete that matches nothing does not bump the revision")
    func emptyDelete() {
        var harness = Harness()
        harness.put("a", "1")
        harness.apply(.deleteRange(DeleteRangeRequest(.prefix(bytes("zzz")))))
        #expect(harness.state.revision == 1)
    }

    @Test("transaction compares each target", arguments: [
        (Compare.Target.value(Array("1".utf8)), Compare.Relation.equal, true),
        (.value(Array("0".utf8)), .greater, true),
        (.version(1), .equal, true),
        (.version(2), .less, true),
        (.createRevision(1), .equal, true),
        (.modRevision(1), .notEqual, false),
        (.lease(nil), .equal, true),
        (.lease(LeaseID(7)), .equal, false),
    ])
    func compareTargets(target: Compare.Target, relation: Compare.Relation, holds: Bool) throws {
        var harness = Harness()
        harness.put("k", "1")
        let request = TransactionRequest(
            compares: [Compare(key: bytes("k"), target, relation)], success: [], failure: [])
        let applied = try #require(harness.apply(.transaction(request)).applied)
        #expect(applied.response == .transaction(succeeded: holds, responses: []))
    }

    @Test("a value compare on a missing key is false; version compares treat it as zero")
    func missingKeyCompare() throws {
        var harness = Harness()
        let onValue = TransactionRequest(compares: [Compare(key: bytes("x"), .value([]), .equal)], success: [])
        #expect(harness.apply(.transaction(onValue)).applied?.response == .transaction(succeeded: false, responses: []))
        let onVersion = TransactionRequest(compares: [Compare(key: bytes("x"), .version(0), .equal)], success: [])
        #expect(harness.apply(.transaction(onVersion)).applied?.response == .transaction(succeeded: true, responses: []))
    }

    @Test("a transaction runs its branch at one revision and its reads see earlier writes")
    func transactionBranch() throws {
        var harness = Harness()
        harness.put("a", "old")
        let request = TransactionRequest(
            compares: [Compare(key: bytes("a"), .value(bytes("old")), .equal)],
            success: [
                .put(PutRequest(key: bytes("a"), value: bytes("new"))),
                .put(PutRequest(key: bytes("b"), value: bytes("x"))),
                .range(RangeRequest(.prefix([]))),
            ],
            failure: [.put(PutRequest(key: bytes("c"), value: bytes("never")))])
        let applied = try #require(harness.apply(.transaction(request)).applied)
        #expect(applied.revision == 2)
        #expect(applied.events.map(\.revision) == [2, 2])
        guard case .transaction(true, let responses) = applied.response, case .range(let read) = responses.last else {
            Issue.record("unexpected response \(applied.response)")
            return
        }
        #expect(read.keyValues.map(\.value) == [bytes("new"), bytes("x")])
        #expect(read.revision == 2)
        #expect(harness.get("c") == nil)
    }

    @Test("a transaction with one invalid operation applies none of them")
    func transactionAllOrNothing() {
        var harness = Harness()
        let request = TransactionRequest(
            compares: [],
            success: [
                .put(PutRequest(key: bytes("a"), value: bytes("1"))),
                .put(PutRequest(key: bytes("b"), value: bytes("2"), lease: LeaseID(99))),
            ])
        #expect(harness.apply(.transaction(request)) == .rejected(.leaseNotFound(LeaseID(99))))
        #expect(harness.get("a") == nil)
        #expect(harness.state.revision == 0)
    }

    @Test("two writes to one key in a branch are refused, as in etcd")
    func duplicateKeys() {
        var harness = Harness()
        let request = TransactionRequest(
            compares: [],
            success: [
                .deleteRange(DeleteRangeRequest(.prefix(bytes("a")))),
                .put(PutRequest(key: bytes("ab"), value: bytes("2"))),
            ])
        #expect(harness.apply(.transaction(request)) == .rejected(.duplicateKeyInTransaction(key: bytes("ab"))))
    }

    @Test("applying at an index that does not advance is a precondition failure")
    func indexMustAdvance() async {
        await #expect(processExitsWith: .failure) {
            var state = RegistryState()
            _ = state.apply(.compact(0), at: 5)
            _ = state.apply(.compact(0), at: 5)
        }
    }

    @Test("a put attached to an unknown lease is rejected and changes nothing")
    func putUnknownLease() {
        var harness = Harness()
        #expect(harness.put("a", "1", lease: LeaseID(5)) == .rejected(.leaseNotFound(LeaseID(5))))
        #expect(harness.state.revision == 0)
        #expect(harness.state.lastAppliedIndex == 1)
    }
}

@Suite("Key order")
struct KeyOrderTests {
    @Test("range scans return keys in the same order as a byte-by-byte sort", arguments: [UInt64(4), 5, 6])
    func orderMatchesReference(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var harness = Harness()
        var keys: Set<[UInt8]> = []
        for _ in 0..<2_000 {
            // Long shared prefixes and bytes above 0x7F exercise the word-wise comparison.
            let prefix = bytes(["prod/service-1/", "prod/service-10/", "p", ""][Int.random(in: 0..<4, using: &random)])
            let tail = (0..<Int.random(in: 0...12, using: &random)).map { _ in [0x00, 0x2F, 0x61, 0x7F, 0x80, 0xFF][Int.random(in: 0..<6, using: &random)] as UInt8 }
            let key = prefix + tail
            guard !key.isEmpty else { continue }
            keys.insert(key)
            harness.apply(.put(PutRequest(key: key, value: [])))
        }
        let scanned = try harness.state.range(RangeRequest(.prefix([]), keysOnly: true)).keyValues.map(\.key)
        #expect(scanned == keys.sorted { $0.lexicographicallyPrecedes($1) })
    }
}
