// Goal: responses carry what the node answered, in the documented JSON shape and headers, and parse with an
// independent JSON implementation. Method: drive a real `RegistryState` (grant, register, put, transaction,
// reads), encode each genuine answer with `APIResponse`, parse the body with JSONSerialization, and check the
// fields and headers a client depends on. Encoding twice must give the same bytes (fixed key order).
import Foundation
import HTTP
import Raft
import Registry
import RosterNode
import Testing

@testable import RosterAPI

/// A registry with one lease, one instance on it, one text key and one binary key.
private struct Fixture {
    var state = RegistryState()
    var index: UInt64 = 0
    var results: [CommandResult] = []

    init() {
        apply(.grantLease(id: LeaseID(9), ttlMilliseconds: 10_000, grantedAtMilliseconds: 0))
        apply(.registerInstance(sampleInstance()))
        apply(.put(PutRequest(key: Array("config/app".utf8), value: Array("hello \"world\"".utf8))))
        apply(.put(PutRequest(key: Array("bin".utf8), value: [0x00, 0xFF, 0x10])))
    }

    mutating func apply(_ command: RegistryCommand) {
        index += 1
        results.append(state.apply(command, at: index))
    }

    func applied(_ position: Int) throws -> AppliedCommand {
        guard case .applied(let applied) = results[position] else {
            Issue.record("command \(position) was rejected: \(results[position])")
            throw CancellationError()
        }
        return applied
    }
}

@Suite("Response encoding")
struct ResponseEncodingTests {
    @Test("a registration answer carries the instance as an object, the revision in body and header")
    func registration() throws {
        let fixture = Fixture()
        let applied = try fixture.applied(1)
        let response = APIResponse.encode(.written(applied), context: testContext)
        #expect(response.status.code == 200)
        #expect(response.header("X-Roster-Revision") == String(applied.revision.rawValue))
        #expect(response.header("X-Roster-Leader") == "n1")
        #expect(response.header("X-Roster-Term") == "7")
        let object = try jsonObject(response.body)
        #expect(object["revision"] as? Int == Int(applied.revision.rawValue))
        #expect(object["created"] as? Bool == true)
        let instance = try #require(object["instance"] as? [String: Any])
        #expect(instance["namespace"] as? String == "prod")
        #expect(instance["service"] as? String == "web")
        #expect(instance["id"] as? String == "w-1")
        #expect(instance["version"] as? String == "1.2.3")
        #expect(instance["endpoints"] as? [String] == ["grpc://10.0.0.5:9000", "http://[::1]:8080/health"])
        #expect(instance["metadata"] as? [String: String] == ["az": "a", "zone": "b"])
        #expect(instance["weight"] as? Int == 50)
        #expect(instance["status"] as? String == "draining")
        #expect(instance["lease"] as? Int == 9)
        #expect((instance["incarnation"] as? NSNumber)?.uint64Value == 1_700_000_000_000)
        #expect(
            String(decoding: response.body, as: UTF8.self).contains(#""metadata":{"az":"a","zone":"b"}"#),
            "metadata keys in byte order")
    }

    @Test("encoding the same answer twice gives identical bytes")
    func deterministic() throws {
        let applied = try Fixture().applied(1)
        let first = APIResponse.encode(.written(applied), context: testContext).body
        let second = APIResponse.encode(.written(applied), context: testContext).body
        #expect(first == second)
    }

    @Test("a range read renders UTF-8 values as strings, binary ones as value_base64, instances as objects")
    func rangeRead() throws {
        let fixture = Fixture()
        let result = try fixture.state.range(RangeRequest(.prefix([])))
        let context = ReadContext(
            revision: result.revision, consistency: .linearizable, leaderContactAgeMilliseconds: 0)
        let response = APIResponse.encode(.read(.range(result), context), context: testContext)
        let object = try jsonObject(response.body)
        #expect(object["count"] as? Int == 3)
        #expect(object["more"] as? Bool == false)
        let kvs = try #require(object["kvs"] as? [[String: Any]])
        let byKey = Dictionary(uniqueKeysWithValues: kvs.map { ($0["key"] as? String ?? "?", $0) })
        #expect(byKey["bin"]?["value_base64"] as? String == "AP8Q")
        #expect(byKey["bin"]?["value"] == nil)
        #expect(byKey["config/app"]?["value"] as? String == "hello \"world\"")
        #expect(byKey["config/app"]?["version"] as? Int == 1)
        let instanceRecord = try #require(byKey["prod/web/w-1"])
        #expect((instanceRecord["instance"] as? [String: Any])?["id"] as? String == "w-1")
        #expect(instanceRecord["lease"] as? Int == 9)
        #expect(response.header("X-Roster-Leader-Contact-Ms") == nil, "linearizable reads carry no staleness header")
    }

    @Test("a serializable read carries its revision and leader-contact age")
    func serializableRead() throws {
        let fixture = Fixture()
        let list = try fixture.state.instances(namespace: "prod", service: "web")
        let context = ReadContext(
            revision: list.revision, consistency: .serializable, leaderContactAgeMilliseconds: 250)
        let response = APIResponse.encode(.read(.instances(list), context), context: testContext)
        #expect(response.header("X-Roster-Leader-Contact-Ms") == "250")
        #expect(response.header("X-Roster-Revision") == String(list.revision.rawValue))
        let object = try jsonObject(response.body)
        #expect((object["instances"] as? [[String: Any]])?.count == 1)
        let never = ReadContext(revision: list.revision, consistency: .serializable, leaderContactAgeMilliseconds: nil)
        #expect(
            APIResponse.encode(.read(.instances(list), never), context: testContext).header(
                "X-Roster-Leader-Contact-Ms") == "-1")
    }

    @Test("a missing instance is 404 instance_not_found")
    func missingInstance() throws {
        let context = ReadContext(revision: 4, consistency: .linearizable, leaderContactAgeMilliseconds: 0)
        let response = APIResponse.encode(.read(.instance(nil), context), context: testContext)
        #expect(response.status.code == 404)
        #expect(try errorObject(response).code == "instance_not_found")
    }

    @Test("service lists, leases and hashes have their documented fields")
    func otherReads() throws {
        let fixture = Fixture()
        let context = ReadContext(
            revision: fixture.state.revision, consistency: .linearizable, leaderContactAgeMilliseconds: 0)
        let services = try jsonObject(
            APIResponse.encode(
                .read(.services(try fixture.state.services(namespace: "prod")), context), context: testContext
            ).body)
        let first = try #require((services["services"] as? [[String: Any]])?.first)
        #expect(first["name"] as? String == "web")
        #expect(first["instances"] as? Int == 1)

        let status = try fixture.state.timeToLive(LeaseID(9), includeKeys: true)
        let lease = try jsonObject(APIResponse.encode(.read(.lease(status), context), context: testContext).body)
        let leaseObject = try #require(lease["lease"] as? [String: Any])
        #expect(leaseObject["id"] as? Int == 9)
        #expect(leaseObject["granted_ttl_ms"] as? Int == 10_000)
        #expect(leaseObject["keys"] as? [String] == ["prod/web/w-1"])

        let hash = try fixture.state.stateHash()
        let hashObject = try jsonObject(APIResponse.encode(.read(.hash(hash), context), context: testContext).body)
        let hashText = try #require(hashObject["hash"] as? String)
        #expect(hashText.count == 16)
        #expect(UInt64(hashText, radix: 16) == hash.hash)
    }

    @Test("transaction answers list one response per operation")
    func transaction() throws {
        var fixture = Fixture()
        fixture.apply(
            .transaction(
                TransactionRequest(
                    compares: [Compare(key: Array("config/app".utf8), .version(1), .equal)],
                    success: [
                        .put(PutRequest(key: Array("config/app".utf8), value: Array("v2".utf8), returnPrevious: true)),
                        .range(RangeRequest(.key(Array("bin".utf8)))),
                        .deleteRange(DeleteRangeRequest(.key(Array("bin".utf8)), returnPrevious: true)),
                    ])))
        let applied = try fixture.applied(4)
        let object = try jsonObject(APIResponse.encode(.written(applied), context: testContext).body)
        #expect(object["succeeded"] as? Bool == true)
        let responses = try #require(object["responses"] as? [[String: Any]])
        #expect(responses.count == 3)
        let put = try #require(responses[0]["put"] as? [String: Any])
        #expect((put["previous"] as? [String: Any])?["value"] as? String == "hello \"world\"")
        #expect((responses[1]["range"] as? [String: Any])?["count"] as? Int == 1)
        #expect((responses[2]["delete"] as? [String: Any])?["deleted"] as? Int == 1)
    }

    @Test("lease grants and keepalives report the TTL in milliseconds")
    func leases() throws {
        let granted = try jsonObject(APIResponse.encode(.written(try Fixture().applied(0)), context: testContext).body)
        #expect((granted["lease"] as? [String: Any])?["id"] as? Int == 9)
        #expect((granted["lease"] as? [String: Any])?["ttl_ms"] as? Int == 10_000)
        let kept = try jsonObject(
            APIResponse.encode(.keptAlive(LeaseID(9), ttlMilliseconds: 10_000), context: testContext).body)
        #expect(kept["id"] as? Int == 9)
        #expect(kept["ttl_ms"] as? Int == 10_000)
    }

    @Test("membership, status and member lists encode node IDs as 16 hex digits")
    func cluster() throws {
        let ids = ["n1", "n2", "n3"].map { Member.id(forName: $0) }
        let configuration = Configuration(voters: [ids[0], ids[1]], learners: [ids[2]])
        let changed = try jsonObject(
            APIResponse.encode(.admin(.membershipChanged(configuration)), context: testContext).body)
        #expect((changed["voters"] as? [String])?.count == 2)
        #expect((changed["learners"] as? [String]) == [APIResponse.hex(ids[2].rawValue)])
        let transfer = APIResponse.encode(.admin(.transferStarted(to: ids[1])), context: testContext)
        #expect(transfer.status.code == 202)

        let members = [
            Member(id: ids[2], name: "n3", peerAddress: "h3:7001"),
            Member(id: ids[0], name: "n1", peerAddress: "h1:7001", clientAddress: "h1:8080"),
            Member(id: ids[1], name: "n2", peerAddress: "h2:7001"),
        ]
        let list = try jsonObject(
            APIResponse.encodeMembers(members, configuration: configuration, leader: ids[0], context: testContext).body)
        let rows = try #require(list["members"] as? [[String: Any]])
        #expect(rows.map { $0["name"] as? String } == ["n1", "n2", "n3"])
        #expect(rows.map { $0["role"] as? String } == ["voter", "voter", "learner"])
        #expect(rows.map { $0["is_leader"] as? Bool } == [true, false, false])
        #expect(rows[0]["client_address"] as? String == "h1:8080")
        #expect(rows[1]["client_address"] is NSNull)

        let report = ClusterStatusReport(
            name: "n1", id: ids[0], role: "leader", term: Term(7), leader: "n1", commitIndex: LogIndex(12),
            appliedIndex: LogIndex(11), revision: Revision(40), compactedRevision: .zero,
            leaderContactAgeMilliseconds: 0)
        let status = APIResponse.encodeStatus(report, context: testContext)
        let statusObject = try jsonObject(status.body)
        #expect(statusObject["role"] as? String == "leader")
        #expect(statusObject["commit_index"] as? Int == 12)
        #expect(statusObject["id"] as? String == APIResponse.hex(ids[0].rawValue))
        #expect(status.header("X-Roster-Revision") == "40")
    }

    @Test("an unknown leader is an empty header, and full bytes frame the body")
    func bytesAndLeaderlessContext() throws {
        let context = ResponseContext(revision: 3, leader: nil, term: Term(2))
        let response = APIResponse.encode(.keptAlive(LeaseID(1), ttlMilliseconds: 5_000), context: context)
        #expect(response.header("X-Roster-Leader") == "")
        let text = String(decoding: response.bytes(keepAlive: true), as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(text.contains("\r\nContent-Length: \(response.body.count)\r\n"))
        #expect(!text.contains("Connection: close"))
    }
}
