// Goal: grpc-message percent-encoding follows PROTOCOL-HTTP2 (printable ASCII except "%" as is, every
// other UTF-8 byte as %XX upper-case) and decoding never fails.
// Method: known vectors each way, every single byte classified, broken escapes kept as is, and a seeded
// fuzz that encode-then-decode is the identity and that encoded output is always printable ASCII.
import GRPC
import Testing
import Raft

@Suite("GRPCMessageEncoding")
struct GRPCMessageEncodingTests {
    @Test(
        "known messages encode as PROTOCOL-HTTP2 specifies",
        arguments: [
            ("", ""), ("etcdserver: no leader", "etcdserver: no leader"), ("50%", "50%25"),
            ("a\nb", "a%0Ab"), ("é", "%C3%A9"), ("~ !$&", "~ !$&"), ("\u{7F}", "%7F"), ("\t", "%09"),
            ("日", "%E6%97%A5"),
        ])
    func encode(message: String, encoded: String) {
        #expect(GRPCMessageEncoding.encode(message) == encoded)
        #expect(GRPCMessageEncoding.decode(encoded) == message)
    }

    @Test("exactly the bytes 0x20-0x24 and 0x26-0x7E go unencoded")
    func unreservedSet() {
        for byte in UInt8.min...UInt8.max {
            let expected = (0x20...0x24).contains(byte) || (0x26...0x7E).contains(byte)
            #expect(GRPCMessageEncoding.isUnreserved(byte) == expected, "byte \(byte)")
        }
    }

    @Test(
        "broken escapes are kept literally and lower-case hex is accepted",
        arguments: [("%", "%"), ("%4", "%4"), ("%zz", "%zz"), ("a%2", "a%2"), ("%c3%a9", "é"), ("%%41", "%A")])
    func lenientDecode(encoded: String, decoded: String) {
        #expect(GRPCMessageEncoding.decode(encoded) == decoded)
    }

    @Test("escapes that do not form UTF-8 decode to the replacement character")
    func invalidUTF8() {
        #expect(GRPCMessageEncoding.decode("x%FFy") == "x\u{FFFD}y")
    }

    @Test("random messages round-trip and encode to printable ASCII only", arguments: [1, 2] as [UInt64])
    func fuzz(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let alphabet: [Character] = ["a", "%", " ", "\n", "é", "日", "😀", "~", "\u{0}", "\u{7F}", "Z"]
        for _ in 0..<500 {
            let message = String((0..<random.next() % 20).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
            let encoded = GRPCMessageEncoding.encode(message)
            #expect(encoded.utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E })
            #expect(GRPCMessageEncoding.decode(encoded) == message)
        }
    }
}
