// Goal: no entry is proposed that a replica would refuse to decode. Every node decodes committed entries against
// `requestBytes` and stops rather than skip one, so a write whose fields fit the limit but whose encoding does not
// must be refused before it is proposed — on the leader and through a follower — and the cluster goes on.
// Method: a deterministic `DriverCluster` with a 64-byte request limit; a put of a 1-byte key and a 61-byte value
// (62 bytes of fields, more once framed).
import Raft
import Registry
import RosterNode
import Testing

@Suite("Request size at proposal")
struct RequestSizeTests {
    static func put(_ key: String, valueBytes: Int) -> NodeRequest {
        .write(.put(PutRequest(key: Array(key.utf8), value: Array(repeating: 0x61, count: valueBytes))))
    }

    @Test("a write whose encoding is over the limit is refused on the leader and through a follower; the cluster goes on")
    func framedOverLimit() {
        var cluster = DriverCluster(3, requestBytes: 64)
        cluster.electLeader()
        let leader = cluster.leaderName!
        let follower = NodeDriverTests.follower(of: cluster)
        #expect(RegistryCommand.put(PutRequest(key: Array("k".utf8), value: Array(repeating: 0x61, count: 61))).encoded().count > 64)
        let viaLeader = cluster.submit(Self.put("k", valueBytes: 61), to: leader)
        let viaFollower = cluster.submit(Self.put("k", valueBytes: 61), to: follower)
        cluster.run(milliseconds: 300)
        for (request, node) in [(viaLeader, leader), (viaFollower, follower)] {
            guard case .rejected(.requestTooLarge(let bytes, 64), _) = cluster.response(request, on: node) else {
                Issue.record("\(node): \(String(describing: cluster.response(request, on: node)))")
                continue
            }
            #expect(bytes > 64)
        }
        let small = cluster.submit(Self.put("k", valueBytes: 8), to: follower)
        cluster.run(milliseconds: 300)
        guard case .written = cluster.response(small, on: follower) else {
            Issue.record("a small write after the refusals: \(String(describing: cluster.response(small, on: follower)))")
            return
        }
        for node in ["n1", "n2", "n3"] { #expect(cluster[node].registry.revision == cluster[leader].registry.revision) }
    }
}
