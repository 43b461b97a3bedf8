// Goal: the one rule table that both front ends enforce asks, for each node request, for exactly what etcd
// asks: reads read, writes write, a transaction every compare and both branches, a lease revoke its keys,
// administration root. Method: requirements computed against a small registry.
import Registry
import RosterNode
import Testing

@Suite("Auth requirements of node requests")
struct AuthRequirementTests {
    static func key(_ text: String) -> KeyRange { .key(Array(text.utf8)) }

    @Test("a transaction needs read on its compares and the access of both branches, nested ones too")
    func transaction() {
        let nested = TransactionRequest(compares: [], success: [.range(RangeRequest(Self.key("n")))], failure: [])
        let request = TransactionRequest(
            compares: [Compare(key: Array("c".utf8), .version(1), .equal)],
            success: [.put(PutRequest(key: Array("p".utf8), value: []))],
            failure: [.deleteRange(DeleteRangeRequest(Self.key("d"))), .transaction(nested)])
        let requirement = NodeRequest.write(.transaction(request)).authRequirement(in: RegistryState())
        #expect(
            requirement
                == .keys([
                    KeyAccess(.read, Self.key("c")), KeyAccess(.write, Self.key("p")), KeyAccess(.write, Self.key("d")),
                    KeyAccess(.read, Self.key("n")),
                ]))
    }

    @Test("a lease revoke needs write on every attached key")
    func leaseRevoke() {
        var registry = RegistryState()
        _ = registry.apply(.grantLease(id: 5, ttlMilliseconds: 10_000, grantedAtMilliseconds: 0), at: 1)
        _ = registry.apply(.put(PutRequest(key: Array("a".utf8), value: [], lease: 5)), at: 2)
        _ = registry.apply(.put(PutRequest(key: Array("b".utf8), value: [], lease: 5)), at: 3)
        #expect(
            NodeRequest.write(.revokeLease(5)).authRequirement(in: registry)
                == .keys([KeyAccess(.write, Self.key("a")), KeyAccess(.write, Self.key("b"))]))
    }

    @Test("services are their key prefixes; administration, compaction and hashes need root; leases a user")
    func others() {
        let registry = RegistryState()
        #expect(
            NodeRequest.read(.instances(namespace: "prod", service: "pay"), ReadOptions()).authRequirement(in: registry)
                == .keys([KeyAccess(.read, .prefix(Array("prod/pay/".utf8)))]))
        #expect(NodeRequest.admin(.remove(name: "n1")).authRequirement(in: registry) == .root)
        #expect(NodeRequest.write(.compact(3)).authRequirement(in: registry) == .root)
        #expect(NodeRequest.read(.hash(nil), ReadOptions()).authRequirement(in: registry) == .root)
        #expect(NodeRequest.keepAlive(5).authRequirement(in: registry) == .authenticated)
        #expect(
            NodeRequest.write(.grantLease(id: nil, ttlMilliseconds: 5_000, grantedAtMilliseconds: 0)).authRequirement(in: registry)
                == .authenticated)
    }
}
