// Goal: no byte sequence crashes an etcd message decoder; failures are ProtoErrors; whatever decodes is
// a fixed point (encode then decode gives the same value).
// Method: for every message type, seeded SplitMix64 input of two shapes: pure random bytes and valid
// full encodings with random bit flips or truncation. Types and seeds are test arguments for replay.
import EtcdAPI
import Protobuf
import Testing

@Suite("EtcdAPI fuzz")
struct EtcdAPIFuzzTests {
    /// True when `input` fails with a ProtoError or decodes to a value that re-encodes to itself.
    static func holds<Message: ProtoMessageSample>(_ type: Message.Type, _ input: [UInt8]) -> Bool {
        switch decode(Message.self, input) {
        case .failure:
            return true
        case .success(let message):
            return decode(Message.self, message.encoded()) == .success(message)
        }
    }

    static func fuzz<Message: ProtoMessageSample>(_ sample: Message, seed: UInt64) -> [String] {
        var random = SplitMix64(seed: seed)
        var failures: [String] = []
        for _ in 0..<150 {
            let noise = random.bytes(Int(random.next() % 40))
            if !holds(Message.self, noise) { failures.append(hex(noise)) }
            var valid = Message.random(&random, depth: 0).encoded()
            guard !valid.isEmpty else { continue }
            if random.next() % 2 == 0 {
                valid.removeLast(1 + Int(random.next() % UInt64(valid.count)))
            } else {
                for _ in 0...(random.next() % 3) {
                    valid[Int(random.next() % UInt64(valid.count))] ^= UInt8(1) << (random.next() % 8)
                }
            }
            if !holds(Message.self, valid) { failures.append(hex(valid)) }
        }
        return failures
    }

    @Test("random and corrupted bytes yield a typed error or a fixed point", arguments: allMessageTypes.map(\.name))
    func fuzz(name: String) throws {
        let entry = try #require(allMessageTypes.first { $0.name == name })
        var random = SplitMix64(seed: 1)
        let sample = entry.random(&random)
        let failures = Self.fuzz(sample, seed: UInt64(name.hashValueStable))
        #expect(failures.isEmpty, "\(name): inputs \(failures.prefix(3))")
    }
}

extension String {
    /// FNV-1a of the UTF-8 bytes: a per-type seed that, unlike `hashValue`, is the same in every process.
    var hashValueStable: UInt64 {
        utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}
