// Goal: `UTF8Text.string` accepts exactly what the standard library's strict validator accepts, and gives the
// same string. Method: the boundary cases of RFC 3629 (overlong forms, surrogates, past U+10FFFF, truncated
// sequences, including the ones whose U+FFFD repair keeps the byte count) as a table, then seeded random byte
// strings biased towards multi-byte lead and continuation bytes, each compared with `String(validating:as:)`.
import Codec
import Testing

@Suite("UTF-8 validation")
struct UTF8TextTests {
    @Test("agrees with String(validating:) on the boundary cases", arguments: [
        [], Array("plain ascii, longer than eight bytes".utf8), Array("héllo wörld ✓ 𝄞".utf8),
        [0x00], [0x7F], [0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF], [0xC2, 0x80], [0xDF, 0xBF],
        [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xED, 0xA0, 0x80],
        [0xED, 0xBF, 0xBF], [0xEF, 0xBF, 0xBF], [0xF0, 0x8F, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80],
        [0xF4, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFE], [0xFF],
        [0xE1, 0x80], [0xF1, 0x80, 0x80], [0xF1, 0x80, 0x80, 0x41], [0xE1, 0x80, 0x41, 0x42],
        Array("abcdefgh".utf8) + [0xF1, 0x80, 0x80] + Array("ijklmnop".utf8),
        [0xEF, 0xBF, 0xBD], [0x41, 0xEF, 0xBF, 0xBD, 0xF1, 0x80, 0x80],
    ] as [[UInt8]])
    func boundaries(bytes: [UInt8]) {
        #expect(UTF8Text.string(bytes) == String(validating: bytes, as: UTF8.self))
        #expect(UTF8Text.string(bytes[...]) == String(validating: bytes, as: UTF8.self))
    }

    @Test("agrees with String(validating:) on seeded random bytes", arguments: [UInt64(1), 2, 3, 4])
    func random(seed: UInt64) {
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var mixed = state
            mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
            return mixed ^ (mixed >> 31)
        }
        let interesting: [UInt8] = [0x41, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF]
        for _ in 0..<3_000 {
            let count = Int(next() % 24)
            var bytes: [UInt8] = []
            for _ in 0..<count {
                let roll = next()
                bytes.append(roll % 3 == 0 ? UInt8(truncatingIfNeeded: roll >> 8) : interesting[Int((roll >> 8) % UInt64(interesting.count))])
            }
            let slice = bytes.dropFirst(bytes.isEmpty ? 0 : 1)
            #expect(UTF8Text.string(bytes) == String(validating: bytes, as: UTF8.self), "\(bytes)")
            #expect(UTF8Text.string(slice) == String(validating: Array(slice), as: UTF8.self), "\(Array(slice))")
        }
    }
}
