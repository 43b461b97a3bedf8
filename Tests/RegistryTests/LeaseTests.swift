// Goal: lease semantics command by command: grant (client-chosen or state-chosen IDs, duplicate and
// out-of-range TTL rejected), revoke deleting every attached key at one revision, checkpoints that only
// record remaining time, and expiry that happens only through the expiry command. Method: a harness that
// applies one command at a time and checks the replicated lease table, the key space and the events
// after each.
import Registry
import Testing

@Suite("Leases")
struct LeaseTests {
    @Test("a client-chosen lease ID is granted; granting it again is a clear error")
    func grantDuplicate() {
        var harness = Harness()
        #expect(harness.grant(7).applied?.response == .leaseGranted(7, ttlMilliseconds: 10_000))
        #expect(harness.grant(7) == .rejected(.leaseAlreadyExists(7)))
        #expect(harness.state.leaseCount == 1)
    }

    @Test("without an ID the state chooses the log index, skipping IDs in use")
    func grantChosenID() {
        var harness = Harness()
        harness.grant(2)
        let result = harness.apply(.grantLease(id: nil, ttlMilliseconds: 5_000, grantedAtMilliseconds: 0))
        #expect(result.applied?.response == .leaseGranted(3, ttlMilliseconds: 5_000))
        harness.grant(4)
        harness.grant(5)
        let skipped = harness.apply(.grantLease(id: nil, ttlMilliseconds: 5_000, grantedAtMilliseconds: 0))
        #expect(skipped.applied?.response == .leaseGranted(6, ttlMilliseconds: 5_000))
    }

    @Test("a TTL outside [minimum, maximum] is rejected", arguments: [Int64(-1), 0, 1_999, 9_000_000_000_001])
    func ttlRange(ttl: Int64) {
        var harness = Harness()
        #expect(
            harness.grant(1, ttl: ttl)
                == .rejected(.ttlOutOfRange(ttlMilliseconds: ttl, minimum: 2_000, maximum: 9_000_000_000_000)))
    }

    @Test("the minimum TTL is ceil(1.5 × election timeout)")
    func minimumFromElection() {
        #expect(RegistryLimits(electionTimeoutMilliseconds: 1_000).minimumTTLMilliseconds == 1_500)
        #expect(RegistryLimits(electionTimeoutMilliseconds: 333).minimumTTLMilliseconds == 500)
    }

    @Test("revoke deletes every attached key at one revision, in key order, with the revoked cause")
    func revoke() throws {
        var harness = Harness()
        harness.grant(1)
        harness.put("k/b", "1", lease: 1)
        harness.put("k/a", "1", lease: 1)
        harness.apply(.registerInstance(makeInstance("i-1", lease: 1)))
        harness.put("other", "1")
        let applied = try #require(harness.apply(.revokeLease(1)).applied)
        #expect(applied.response == .leaseRevoked(1, deletedKeys: 3))
        #expect(applied.events.map(\.key) == [bytes("k/a"), bytes("k/b"), bytes("prod/payments/i-1")])
        #expect(applied.events.allSatisfy { $0.revision == 5 && $0.cause == .leaseRevoked })
        #expect(harness.state.revision == 5)
        #expect(harness.get("other") != nil)
        #expect(harness.state.lease(1) == nil)
        #expect(harness.apply(.revokeLease(1)) == .rejected(.leaseNotFound(1)))
    }

    @Test("time-to-live reports granted and checkpointed remaining TTL and the attached keys")
    func timeToLive() throws {
        var harness = Harness()
        harness.grant(1, ttl: 9_000)
        harness.put("b", "1", lease: 1)
        harness.put("a", "1", lease: 1)
        harness.apply(.checkpointLeases([LeaseCheckpoint(id: 1, remainingMilliseconds: 4_000)]))
        let status = try harness.state.timeToLive(1, includeKeys: true)
        #expect(status.grantedTTLMilliseconds == 9_000)
        #expect(status.remainingTTLMilliseconds == 4_000)
        #expect(status.keys == [bytes("a"), bytes("b")])
        #expect(throws: RegistryRejection.leaseNotFound(2)) { try harness.state.timeToLive(2) }
        #expect(harness.state.leases().map(\.id) == [1])
    }

    @Test("moving a key to another lease or to none detaches it from the first")
    func reattach() throws {
        var harness = Harness()
        harness.grant(1)
        harness.grant(2)
        harness.put("a", "1", lease: 1)
        harness.put("a", "2", lease: 2)
        #expect(try harness.state.timeToLive(1, includeKeys: true).keys.isEmpty)
        harness.put("a", "3")
        #expect(try harness.state.timeToLive(2, includeKeys: true).keys.isEmpty)
        harness.apply(.revokeLease(2))
        #expect(harness.get("a")?.value == bytes("3"))
    }

    @Test("a lease never expires by itself: only the expiry command removes it")
    func expiryOnlyByCommand() throws {
        var harness = Harness()
        harness.grant(1, ttl: 2_000)
        harness.put("a", "1", lease: 1)
        // Checkpoints at zero remaining and any number of other commands leave it alive.
        harness.apply(.checkpointLeases([LeaseCheckpoint(id: 1, remainingMilliseconds: 0)]))
        for round in 0..<5 { harness.put("x", "\(round)") }
        #expect(harness.state.lease(1) != nil)
        let applied = try #require(harness.apply(.expireLeases([1, 1, 99])).applied)
        #expect(applied.response == .leasesExpired([1], deletedKeys: 1))
        #expect(applied.events.map(\.cause) == [.leaseExpired])
        #expect(harness.get("a") == nil)
    }

    @Test("an expiry batch deletes all keys of all its leases at one revision, leases in ID order")
    func expiryBatch() throws {
        var harness = Harness()
        harness.grant(2)
        harness.grant(1)
        harness.put("from-2", "v", lease: 2)
        harness.put("from-1", "v", lease: 1)
        let applied = try #require(harness.apply(.expireLeases([2, 1])).applied)
        #expect(applied.events.map(\.key) == [bytes("from-1"), bytes("from-2")])
        #expect(Set(applied.events.map(\.revision)).count == 1)
    }

    @Test("a checkpoint is clamped to [0, granted TTL] and skips unknown leases")
    func checkpointClamp() throws {
        var harness = Harness()
        harness.grant(1, ttl: 3_000)
        let result = harness.apply(
            .checkpointLeases([
                LeaseCheckpoint(id: 1, remainingMilliseconds: 50_000), LeaseCheckpoint(id: 8, remainingMilliseconds: 5),
            ]))
        #expect(result.applied?.response == .leasesCheckpointed(count: 1))
        #expect(try harness.state.timeToLive(1).remainingTTLMilliseconds == 3_000)
        harness.apply(.checkpointLeases([LeaseCheckpoint(id: 1, remainingMilliseconds: -4)]))
        #expect(try harness.state.timeToLive(1).remainingTTLMilliseconds == 0)
        #expect(harness.state.revision == 0, "checkpoints do not write keys")
    }

    @Test("lease ID zero is reserved")
    func zeroID() {
        var harness = Harness()
        #expect(harness.grant(0) == .rejected(.invalidLeaseID))
        #expect(harness.apply(.revokeLease(0)) == .rejected(.invalidLeaseID))
    }
}
