// Goal: a large listing, key range or resync line streamed by `ResponseStream` is the very answer the one-shot
// encoder builds (same status, headers and JSON bytes; only the framing is chunked), cut into bounded chunks,
// and small answers keep the one-shot path. Method: a real `RegistryState` with instances and keys large
// enough to pass the streaming threshold; the streamed bytes are de-chunked by an independent parser here and
// compared byte for byte with `APIResponse.encode` / `WatchLines`; piece sizes are checked against the bound.
import Foundation
import HTTP
import Raft
import Registry
import RosterNode
import Testing

@testable import RosterAPI

/// `count` instances of service `big`, each with six 1,000-byte metadata entries (as in issue 13), and
/// `count` keys under `cfg/` with 6,000-byte values.
private func largeRegistry(count: Int) -> RegistryState {
    var registry = RegistryState()
    var index: UInt64 = 0
    let filler = String(repeating: "x", count: 990)
    for number in 0..<count {
        var metadata: [String: String] = [:]
        for entry in 0..<6 { metadata["m\(entry)"] = "\(number)\"\(filler)" }
        let instance = ServiceInstance(
            namespace: "prod", service: "big", id: "i-\(number)", version: "1", endpoints: ["http://10.0.0.1:80"],
            metadata: metadata, weight: 1, status: .up, lease: nil, incarnation: 1)
        index += 1
        _ = registry.apply(.registerInstance(instance), at: index)
        index += 1
        _ = registry.apply(.put(PutRequest(key: Array("cfg/\(number)".utf8), value: Array(repeating: 0x61, count: 6_000))), at: index)
    }
    return registry
}

private let readContext = ReadContext(revision: 42, consistency: .serializable, leaderContactAgeMilliseconds: 12)

/// Everything a stream hands out, each piece kept apart.
private func drain(_ stream: inout ResponseStream, maxBytes: Int, cache: inout InstanceJSONCache) -> [[UInt8]] {
    var pieces: [[UInt8]] = []
    while let piece = stream.next(maxBytes: maxBytes, cache: &cache) { pieces.append(piece) }
    return pieces
}

/// A minimal chunked-body parser: the data of each chunk, and whether the last-chunk was seen.
private func dechunk(_ bytes: ArraySlice<UInt8>) throws -> (chunks: [[UInt8]], ended: Bool) {
    var rest = bytes
    var chunks: [[UInt8]] = []
    while !rest.isEmpty {
        let lineEnd = try #require(rest.indices.first { rest[$0] == 13 && rest.index(after: $0) < rest.endIndex && rest[$0 + 1] == 10 })
        let size = try #require(Int(String(decoding: rest[rest.startIndex..<lineEnd], as: UTF8.self), radix: 16))
        let dataStart = lineEnd + 2
        try #require(rest.endIndex >= dataStart + size + 2)
        if size == 0 { return (chunks, rest.endIndex == dataStart + 2) }
        chunks.append(Array(rest[dataStart..<(dataStart + size)]))
        #expect(Array(rest[(dataStart + size)..<(dataStart + size + 2)]) == [13, 10])
        rest = rest[(dataStart + size + 2)...]
    }
    return (chunks, false)
}

/// Splits a response into head text and body bytes.
private func splitHead(_ bytes: [UInt8]) throws -> (head: String, body: ArraySlice<UInt8>) {
    let end = try #require((0..<(bytes.count - 3)).first { Array(bytes[$0..<($0 + 4)]) == [13, 10, 13, 10] })
    return (String(decoding: bytes[..<end], as: UTF8.self), bytes[(end + 4)...])
}

@Suite("Streamed responses")
struct ResponseStreamTests {
    static let registry = largeRegistry(count: 120)

    @Test("a large listing streams the same head fields and JSON bytes as the whole answer, chunked")
    func listingMatchesWholeAnswer() throws {
        let list = try Self.registry.instances(namespace: "prod", service: "big")
        let response = NodeResponse.read(.instances(list), readContext)
        var stream = try #require(APIResponse.streamed(response, context: testContext))
        var cache = InstanceJSONCache()
        let bytes = drain(&stream, maxBytes: 16 * 1024, cache: &cache).flatMap { $0 }
        let whole = APIResponse.encode(response, context: testContext)
        let (head, body) = try splitHead(bytes)
        let (chunks, ended) = try dechunk(body)
        #expect(ended)
        #expect(chunks.flatMap { $0 } == whole.body)
        #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(head.contains("Transfer-Encoding: chunked"))
        for (name, value) in whole.headers { #expect(head.contains("\(name): \(value)")) }
        #expect(try (jsonObject(whole.body)["instances"] as? [Any])?.count == 120)
    }

    @Test("a large key range streams the same JSON bytes as the whole answer")
    func rangeMatchesWholeAnswer() throws {
        let range = try Self.registry.range(RangeRequest(.prefix(Array("cfg/".utf8))))
        let response = NodeResponse.read(.range(range), readContext)
        var stream = try #require(APIResponse.streamed(response, context: testContext))
        var cache = InstanceJSONCache()
        let (_, body) = try splitHead(drain(&stream, maxBytes: 50_000, cache: &cache).flatMap { $0 })
        let (chunks, ended) = try dechunk(body)
        #expect(ended)
        #expect(chunks.flatMap { $0 } == APIResponse.encode(response, context: testContext).body)
    }

    @Test("a large resync line streams the same line, untagged and tagged, with no head and no end", arguments: [nil, 7] as [UInt64?])
    func resyncMatchesWholeLine(watch: UInt64?) throws {
        let items = try Self.registry.range(RangeRequest(.prefix(Array("cfg/".utf8)))).keyValues
        var stream = try #require(WatchLines.resyncStream(items, revision: 42, watch: watch))
        var cache = InstanceJSONCache()
        let (chunks, ended) = try dechunk(drain(&stream, maxBytes: 30_000, cache: &cache).flatMap { $0 }[...])
        #expect(!ended)
        let whole = watch.map { WatchStreamLines.resync(watch: $0, items: items, revision: 42) }
            ?? WatchLines.resync(items, revision: 42)
        #expect(chunks.flatMap { $0 } == whole)
    }

    @Test("each piece holds about maxBytes of JSON: at most one record past it, never an empty chunk")
    func piecesAreBounded() throws {
        let list = try Self.registry.instances(namespace: "prod", service: "big")
        var stream = try #require(APIResponse.streamed(.read(.instances(list), readContext), context: testContext))
        var cache = InstanceJSONCache()
        let pieces = drain(&stream, maxBytes: 20_000, cache: &cache)
        let largestRecord = list.records.map(\.value.count).max() ?? 0
        #expect(pieces.count > 10)
        for piece in pieces.dropFirst() { #expect(piece.count <= 20_000 + 2 * largestRecord + 64) }
        #expect(stream.isFinished && stream.remainingRecords == 0)
        #expect(stream.next(cache: &cache) == nil)
    }

    @Test("a streamed listing reads the instance cache but does not fill it")
    func streamingLeavesCacheAlone() throws {
        let list = try Self.registry.instances(namespace: "prod", service: "big")
        var stream = try #require(APIResponse.streamed(.read(.instances(list), readContext), context: testContext))
        var cache = InstanceJSONCache()
        _ = drain(&stream, maxBytes: 64 * 1024, cache: &cache)
        #expect(cache.count == 0)
        #expect(cache.misses == 120)
    }

    @Test("small listings, other reads and writes keep the one-shot path")
    func smallAnswersAreNotStreamed() throws {
        let small = largeRegistry(count: 3)
        let list = try small.instances(namespace: "prod", service: "big")
        #expect(APIResponse.streamed(.read(.instances(list), readContext), context: testContext) == nil)
        let range = try small.range(RangeRequest(.prefix(Array("cfg/".utf8))))
        #expect(APIResponse.streamed(.read(.range(range), readContext), context: testContext) == nil)
        #expect(APIResponse.streamed(.keptAlive(LeaseID(1), ttlMilliseconds: 10), context: testContext) == nil)
        #expect(WatchLines.resyncStream(range.keyValues, revision: 1, watch: nil) == nil)
    }
}
