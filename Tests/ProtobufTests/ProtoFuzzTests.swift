// Goal: no byte sequence can crash the reader, every failure is a ProtoError, and whatever decodes is a
// fixed point of encode-then-decode.
// Method: seeded SplitMix64 input of three shapes (pure random bytes, valid encodings with random byte
// flips, valid encodings truncated at random points) decoded into the recursive Sample message; for
// accepted input, decode(encode(decoded)) must equal decoded. Seeds are in the arguments for replay.
import Protobuf
import Testing
import Raft

@Suite("Protobuf fuzz")
struct ProtoFuzzTests {
    static func check(_ input: [UInt8]) -> Bool {
        switch decode(Sample.self, input) {
        case .failure:
            return true
        case .success(let sample):
            return decode(Sample.self, sample.encoded()) == .success(sample)
        }
    }

    @Test("random bytes decode to a fixed point or a typed error", arguments: [1, 2, 3, 4] as [UInt64])
    func randomBytes(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var accepted = 0
        for _ in 0..<2_000 {
            let input = random.bytes(Int(random.next() % 64))
            #expect(Self.check(input), "seed \(seed) input \(hex(input))")
            if case .success = decode(Sample.self, input) { accepted += 1 }
        }
        #expect(accepted > 0, "the fuzzer should reach the success path too")
    }

    @Test("mutated valid encodings decode to a fixed point or a typed error", arguments: [10, 11, 12] as [UInt64])
    func mutations(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for _ in 0..<1_000 {
            var input = Sample.random(&random).encoded()
            guard !input.isEmpty else { continue }
            for _ in 0...(random.next() % 3) {
                input[Int(random.next() % UInt64(input.count))] ^= UInt8(truncatingIfNeeded: 1 << (random.next() % 8))
            }
            #expect(Self.check(input), "seed \(seed) input \(hex(input))")
        }
    }

    @Test("every strict prefix of a valid encoding decodes or fails typed", arguments: [20, 21] as [UInt64])
    func truncations(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for _ in 0..<200 {
            let input = Sample.random(&random).encoded()
            for length in 0..<input.count {
                #expect(Self.check(Array(input[0..<length])), "seed \(seed) prefix \(length)")
            }
        }
    }
}
