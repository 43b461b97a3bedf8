// Goal: the fan-out encoder, which encodes each event once for all the watches it reaches, puts exactly the
// bytes `WatchResponse.encoded()` gives on the wire. Method: seeded random responses (puts, deletes, with and
// without previous values, several events each, created/canceled/compacted fields) encoded through one encoder,
// so later responses hit its cache, each compared with the plain encoding.
import EtcdAPI
@testable import EtcdGateway
import Testing

@Suite("Watch response encoder")
struct WatchResponseEncoderTests {
    static func keyValue(_ random: inout SplitMix, key: Int, revision: Int64) -> EtcdAPI.KeyValue {
        var kv = EtcdAPI.KeyValue()
        kv.key = Array("svc/\(key)".utf8)
        kv.value = (0..<Int(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        kv.modRevision = revision
        kv.createRevision = revision - Int64(random.next() % 3)
        kv.version = Int64(random.next() % 4)
        kv.lease = random.next() % 2 == 0 ? 0 : Int64(random.next() % 1_000)
        return kv
    }

    @Test("every response encodes as WatchResponse.encoded() does, cache hits included", arguments: [UInt64(1), 2, 3, 4])
    func sameBytes(seed: UInt64) {
        var random = SplitMix(seed)
        // A pool of events that several responses share, as a fan-out does.
        let pool: [Event] = (0..<12).map { index in
            var event = Event()
            event.type = index % 4 == 3 ? .delete : .put
            event.kv = Self.keyValue(&random, key: index % 5, revision: Int64(10 + index))
            if index % 2 == 0 { event.prevKV = Self.keyValue(&random, key: index % 5, revision: Int64(index + 1)) }
            return event
        }
        var encoder = WatchResponseEncoder()
        for index in 0..<300 {
            var response = WatchResponse()
            var header = ResponseHeader()
            header.clusterID = 7
            header.memberID = 9
            header.revision = Int64(index)
            header.raftTerm = 2
            response.header = header
            response.watchID = Int64(random.next() % 1_000)
            response.created = random.next() % 10 == 0
            response.canceled = random.next() % 20 == 0
            if response.canceled { response.cancelReason = "etcdserver: mvcc: required revision has been compacted" }
            response.compactRevision = random.next() % 15 == 0 ? 5 : 0
            response.events = (0..<Int(random.next() % 4)).map { _ in pool[Int(random.next() % UInt64(pool.count))] }
            #expect(encoder.encode(response) == response.encoded(), "response \(index)")
        }
    }

    struct SplitMix {
        var state: UInt64
        init(_ seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
