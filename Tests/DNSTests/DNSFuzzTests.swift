// Goal: no packet crashes the decoder or the answerer or makes them allocate without bound: random bytes
// and mutations of valid queries and responses either decode to a message (which encodes back to bytes
// that decode to the same message) or fail with a DNSWireError, and the answerer answers or drops every one.
// Method: seeded SplitMix64; valid messages from the answerer's own answers; byte flips, truncations,
// insertions and pointer splices.
import Testing
@testable import DNS
import Raft

let dnsFuzzSeeds: [UInt64] = [1, 2, 3, 42, 1035, 0xDEAD_BEEF]

@Suite("DNS fuzz")
struct DNSFuzzTests {
    static let answerer = DNSAnswerer()

    static func seedsOfValidMessages() -> [[UInt8]] {
        var packets = [DNSCodecTests.digPlainQuery, DNSCodecTests.digEDNSQuery]
        for type in [DNSRecordType.a, .aaaa, .srv, .txt, .any, .soa] {
            let ask = query("web.default.roster.", type, bufferSize: 1232).encoded()
            packets.append(ask)
            if let answer = answerer.respond(to: ask, over: .tcp, catalog: DNSAnswererTests.catalog, freshness: .current) {
                packets.append(answer)
            }
        }
        return packets
    }

    static func mutate(_ packet: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var bytes = packet
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            switch Int.random(in: 0..<5, using: &random) {
            case 0 where !bytes.isEmpty:
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            case 1 where !bytes.isEmpty:
                bytes.removeSubrange(Int.random(in: 0..<bytes.count, using: &random)...)
            case 2:
                bytes.insert(UInt8.random(in: 0...255, using: &random), at: Int.random(in: 0...bytes.count, using: &random))
            case 3 where bytes.count > 2:
                // A compression pointer anywhere, to anywhere: loops, forward and self pointers.
                let at = Int.random(in: 0..<(bytes.count - 1), using: &random)
                bytes[at] = 0xC0 | UInt8.random(in: 0...0x3F, using: &random) & 0x01
                bytes[at + 1] = UInt8.random(in: 0...255, using: &random)
            default:
                if bytes.count > 12 { bytes[Int.random(in: 4..<12, using: &random)] = UInt8.random(in: 0...255, using: &random) }
            }
        }
        return bytes
    }

    static func check(_ packet: [UInt8], cache: DNSAnswerCache? = nil) throws {
        do {
            let message = try DNSMessage(decoding: packet)
            // What decodes must encode to something that decodes to the same message.
            #expect(try DNSMessage(decoding: message.encoded()) == message)
        } catch {
            // Typed throws: the only error the decoder can give is a DNSWireError.
            _ = error.description
        }
        for transport in [DNSTransport.udp, .tcp] {
            guard let answer = answerer.respond(to: packet, over: transport, catalog: DNSAnswererTests.catalog,
                                                freshness: .current, cache: cache) else { continue }
            let response = try DNSMessage(decoding: answer)
            #expect(response.header.isResponse)
            if transport == .udp { #expect(answer.count <= 1232) }
        }
    }

    @Test("random bytes: a message or a typed error, never a crash", arguments: dnsFuzzSeeds)
    func randomBytes(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        for _ in 0..<2000 {
            let count = Int.random(in: 0...600, using: &random)
            var packet = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            // Small counts, so that some random packets get past the header into names and records.
            if packet.count >= 12 {
                for index in [4, 6, 8, 10] { packet[index] = 0 }
                packet[5] = UInt8.random(in: 0...2, using: &random)
                packet[11] = UInt8.random(in: 0...2, using: &random)
            }
            try Self.check(packet)
        }
    }

    @Test("mutated valid queries and answers: a message or a typed error, never a crash", arguments: dnsFuzzSeeds)
    func mutatedMessages(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let valid = Self.seedsOfValidMessages()
        // One small cache across the run, so answers to mangled names are cached, evicted and reused too.
        let cache = DNSAnswerCache(entriesLimit: 8)
        for _ in 0..<3000 {
            try Self.check(Self.mutate(valid.randomElement(using: &random)!, &random), cache: cache)
        }
    }
}
