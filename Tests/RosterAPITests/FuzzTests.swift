// Goal: no request, however malformed, can trap the router or the encoders; every refusal is a 4xx with a JSON
// error body, and whatever is accepted satisfies the registry's rules. Method: a seeded SplitMix64 builds
// requests from a vocabulary of methods, path segments (including empty, percent-escaped and over-long ones)
// and query parameters, with bodies that are either valid bodies mutated byte by byte or random JSON trees with
// random field names and extreme values. A second property checks the parser against Foundation: anything our
// strict parser accepts, JSONSerialization accepts too. Seeds are fixed so a failure replays exactly.
import Foundation
import HTTP
import Raft
import Registry
import RosterNode
import Testing

@testable import RosterAPI

private let methods = ["GET", "PUT", "POST", "PATCH", "DELETE", "HEAD"]
private let segments = [
    "v1", "services", "instances", "leases", "keepalive", "watch", "kv", "txn", "compact", "cluster", "members",
    "promote", "status", "hash", "transfer-leadership", "healthz", "readyz", "metrics", "web", "w-1", "0", "7",
    "18446744073709551616", "-1", "", "%2F", "%41", "a%20b", "caf%C3%A9", String(repeating: "x", count: 200), "a:b",
]
private let parameters = [
    "namespace", "consistency", "min_revision", "prefix", "range_end", "from_key", "limit", "keys_only", "count_only",
    "incarnation", "keys", "stream", "service", "key", "from_revision", "index", "wait", "progress_interval",
    "prev_value", "prev", "revision", "bogus",
]
private let values = [
    "", "true", "false", "1", "0", "-1", "9223372036854775808", "30s", "1.5s", "linearizable", "web", "a", "%41", "z",
]
private let fieldNames = [
    "namespace", "version", "endpoints", "metadata", "weight", "status", "incarnation", "ttl", "lease", "id", "value",
    "value_base64", "prev", "compare", "success", "failure", "key", "result", "range", "put", "delete", "range_end",
    "revision", "name", "peer_address", "to", "limit", "mod_revision", "x",
]
private let validBodies = [
    #"{"endpoints":["grpc://10.0.0.5:9000"],"ttl":"15s","metadata":{"a":"b"},"weight":3}"#,
    #"{"compare":[{"key":"k","result":"equal","version":1}],"success":[{"put":{"key":"k","value":"v"}}]}"#,
    #"{"ttl":"10s","id":5}"#, #"{"value":"x","lease":3,"prev":true}"#, #"{"revision":4}"#,
    #"{"name":"n4","peer_address":"h:1"}"#, #"{"incarnation":2,"status":"draining"}"#,
]

private struct Generator {
    var random: SplitMix64

    mutating func pick<T>(_ options: [T]) -> T { options[Int(random.next() % UInt64(options.count))] }
    mutating func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }

    mutating func target() -> String {
        let count = 1 + Int(random.next() % 6)
        var path = (0..<count).map { _ in pick(segments) }.joined(separator: "/")
        if chance(70) { path = "v1/" + path }
        var query: [String] = []
        for _ in 0..<Int(random.next() % 4) { query.append("\(pick(parameters))=\(pick(values))") }
        return "/" + path + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }

    mutating func body() -> [UInt8] {
        switch random.next() % 4 {
        case 0: return []
        case 1:
            var bytes = Array(pick(validBodies).utf8)
            for _ in 0..<(1 + Int(random.next() % 4)) where !bytes.isEmpty {
                let position = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 3 {
                case 0: bytes[position] = UInt8(truncatingIfNeeded: random.next())
                case 1: bytes.remove(at: position)
                default: bytes.insert(pick(Array("{}[]\",:0-.e\\u".utf8)), at: position)
                }
            }
            return bytes
        default:
            var writer = JSONWriter()
            json(depth: 0, into: &writer)
            return writer.bytes
        }
    }

    private mutating func json(depth: Int, into writer: inout JSONWriter) {
        switch random.next() % (depth > 4 ? 6 : 8) {
        case 0: writer.null()
        case 1: writer.bool(chance(50))
        case 2: writer.integer(Int64(bitPattern: random.next()) >> Int64(random.next() % 64))
        case 3: writer.string(pick(values + ["grpc://a:70000", "up", "equal", "10s", "AA=="]))
        case 4: writer.integer(random.next())
        case 5: writer.string(String(repeating: "y", count: Int(random.next() % 300)))
        case 6:
            writer.beginArray()
            for _ in 0..<Int(random.next() % 4) { json(depth: depth + 1, into: &writer) }
            writer.endArray()
        default:
            writer.beginObject()
            var used: Set<String> = []
            for _ in 0..<Int(random.next() % 5) {
                let name = pick(fieldNames)
                guard used.insert(name).inserted else { continue }
                writer.key(name)
                json(depth: depth + 1, into: &writer)
            }
            writer.endObject()
        }
    }
}

@Suite("Fuzz")
struct FuzzTests {
    @Test(
        "random requests never trap; refusals are 4xx JSON errors; accepted writes obey registry rules",
        arguments: [1, 2, 3, 42, 2379, 0xDEAD_BEEF] as [UInt64])
    func randomRequests(_ seed: UInt64) throws {
        var generator = Generator(random: SplitMix64(seed: seed))
        var routedCount = 0
        for _ in 0..<3_000 {
            var method = generator.pick(methods)
            var target = generator.target()
            var body = generator.body()
            if generator.chance(20) {
                // A known route with its own body, sometimes with a random body instead, to reach deep validation.
                let row = generator.pick(routeTable)
                (method, target) = (row.method, row.target)
                body = generator.chance(50) ? Array(row.body.utf8) : body
            }
            var raw =
                Array("\(method) \(target) HTTP/1.1\r\nHost: h\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
            if generator.chance(5) {
                raw =
                    Array(
                        "\(method) \(target) HTTP/1.1\r\nHost: h\r\nContent-Type: text/xml\r\nContent-Length: \(body.count)\r\n\r\n"
                            .utf8) + body
            }
            var parser = HTTPRequestParser()
            parser.append(raw)
            let request: HTTPRequest
            do {
                guard let parsed = try parser.nextRequest() else { continue }
                request = parsed
            } catch {
                let mapped = APIError(parseError: error)
                #expect((400..<600).contains(mapped.status.code))
                continue
            }
            let result = route(request, limits: .standard)
            switch result {
            case .error(let error):
                #expect([400, 404, 405, 413, 415].contains(error.status.code), "\(method) \(target): \(error)")
                let response = APIResponse.encodeError(error, context: testContext)
                #expect(try errorObject(response).code == error.code)
                _ = response.bytes(keepAlive: true)
            case .node(.write(.registerInstance(let instance))), .node(.registerWithLease(let instance, _, _)):
                routedCount += 1
                #expect(NameRules.check(instance.name, limits: .standard) == nil)
                #expect(instance.endpoints.allSatisfy { NameRules.checkEndpoint($0, limits: .standard) == nil })
            default:
                routedCount += 1
            }
        }
        #expect(routedCount > 0, "the generator reaches valid routes too")
    }

    @Test("whatever the strict parser accepts, JSONSerialization accepts", arguments: [5, 6, 7] as [UInt64])
    func parserIsStricterThanFoundation(_ seed: UInt64) throws {
        var generator = Generator(random: SplitMix64(seed: seed))
        var accepted = 0
        for _ in 0..<3_000 {
            let body = generator.body()
            guard (try? JSONParser.parse(body)) != nil else { continue }
            accepted += 1
            let foundation = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
            #expect(
                foundation != nil, "accepted by us, refused by Foundation: \(String(decoding: body, as: UTF8.self))")
        }
        #expect(accepted > 0)
    }
}
