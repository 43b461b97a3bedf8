// Goal: show no byte sequence can trap the parser or make it buffer past its limits; it either parses or
// throws a typed `HTTPParseError`. Method: a seeded SplitMix64 mutates valid requests (flip, insert, delete,
// duplicate, truncate) and generates pure garbage, feeding each in random splits; seeds are fixed so any
// failure replays exactly.
import struct Raft.SplitMix64  // the project's one seeded generator
import Testing
@testable import HTTP

let fuzzSeeds: [UInt64] = [1, 2, 3, 42, 2379, 0xDEAD_BEEF]

@Suite("HTTP request parser: fuzz")
struct HTTPFuzzTests {
    static let corpus: [[UInt8]] = validCases.map { Array($0.raw.utf8) } + [
        Array(("POST /v1/k?x=%41 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
               + "GET / HTTP/1.1\r\nHost: h\r\n\r\n").utf8),
    ]
    static let interesting: [UInt8] = Array("\r\n :;%0aF\t\u{0}chunked-Length,".utf8) + [0x7F, 0x80, 0xFF]

    @Test("mutated valid requests parse or throw a typed error, never trap", arguments: fuzzSeeds)
    func mutations(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let limits = HTTPParserLimits(requestLineBytes: 256, headerBytes: 512, headerCount: 8, bodyBytes: 64)
        for _ in 0..<3000 {
            var bytes = Self.corpus.randomElement(using: &random)!
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                mutate(&bytes, using: &random)
            }
            check(bytes, limits: limits, using: &random)
        }
    }

    @Test("random garbage parses or throws a typed error, never traps", arguments: fuzzSeeds)
    func garbage(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let limits = HTTPParserLimits(requestLineBytes: 128, headerBytes: 256, headerCount: 8, bodyBytes: 64)
        for _ in 0..<2000 {
            let count = Int.random(in: 0...600, using: &random)
            let bytes = (0..<count).map { _ in
                Bool.random(using: &random) ? UInt8.random(in: 0...255, using: &random)
                    : Self.interesting.randomElement(using: &random)!
            }
            check(bytes, limits: limits, using: &random)
        }
    }

    private func mutate(_ bytes: inout [UInt8], using random: inout SplitMix64) {
        guard !bytes.isEmpty else { bytes = [Self.interesting.randomElement(using: &random)!]; return }
        let at = Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<5, using: &random) {
        case 0: bytes[at] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
        case 1: bytes.insert(Self.interesting.randomElement(using: &random)!, at: at)
        case 2: bytes.remove(at: at)
        case 3: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + 16)], at: at)
        default: bytes.removeLast(Int.random(in: 0...(bytes.count - at), using: &random))
        }
    }

    /// Feeds `bytes` in random pieces; the parser must stay within its buffering bound and only throw typed
    /// errors (the typed `throws` makes any other error impossible, so reaching the end means no trap).
    private func check(_ bytes: [UInt8], limits: HTTPParserLimits, using random: inout SplitMix64) {
        var parser = HTTPRequestParser(limits: limits)
        var offset = 0
        let bound = limits.requestLineBytes + limits.headerBytes + limits.bodyBytes + 64
        do {
            while offset < bytes.count {
                let end = min(bytes.count, offset + Int.random(in: 1...40, using: &random))
                parser.append(bytes[offset..<end])
                offset = end
                while let request = try parser.nextRequest() {
                    #expect(request.body.count <= limits.bodyBytes)
                }
                #expect(parser.bufferedByteCount <= bound)
            }
        } catch {
            #expect(error.status.code >= 400)
        }
    }
}
