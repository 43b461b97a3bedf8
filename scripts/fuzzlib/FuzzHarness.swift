// libFuzzer's entry point for the decoders of untrusted input, built by `scripts/fuzz` against the package's modules
// (compiled with coverage instrumentation); not part of the package. The first input byte picks the decoder, so one
// corpus and one run cover them all and libFuzzer's coverage feedback steers each.
//
// Every decoder must answer any input with a value or a typed error: a trap (an overflow, an index out of range, a
// failed precondition), a hang or unbounded memory is the bug this finds. The seeded random-input tests under Tests/
// check the same property for fixed seeds; this explores by coverage.
import Codec
import DNS
import EtcdAPI
import EtcdGateway
import HPACK
import HTTP
import HTTP2
import Protobuf
import Registry
import RosterNode
import Storage
import Wire

/// The decoders, in the order of the input's first byte (modulo their count).
enum FuzzedDecoder: UInt8, CaseIterable {
    /// Raft messages as a peer sends them (`ByteReader.readMessage`), one after another.
    case peerMessages
    /// The peer link's framing (`PeerFrameDecoder`), then each frame's message.
    case peerFrames
    /// A registry command, as the WAL holds it and a follower forwards it, applied twice to an empty registry.
    case registryCommand
    /// Node-to-node traffic that is not Raft: forwarded writes, their outcomes, keepalives, admin requests.
    case forwardMessage
    /// An HTTP/2 connection after the client preface, fed in pieces whose sizes the input chooses.
    case http2Connection
    /// HPACK header blocks, one after another on one decoder (its dynamic table carries over).
    case hpackBlocks
    /// A DNS query.
    case dnsMessage
    /// The requests of etcd v3's two streaming calls, Watch and LeaseKeepAlive (`etcdCall` covers the unary ones).
    case etcdStreams
    /// HTTP/1.1 requests, fed in pieces, pipelined.
    case http1Requests
    /// A backup file (`rosterctl snapshot save`), as `roster --restore` reads it.
    case backupFile
    /// An etcd v3 unary call as the gateway plans it (the input's next byte picks the method), its write applied to a
    /// registry holding a few keys and its read answered there: what a client's request does to a node.
    case etcdCall
    /// A registry snapshot's body (a leader sends one to a follower that fell behind; backups hold one) under a header
    /// whose checksum is computed here, so that the fuzzer explores what the checksum would hide; a state that
    /// restores must then take a write.
    case registrySnapshot

    static let clientPreface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// A registry with a few keys, one under a lease, over several revisions (one compacted), for calls to act on.
    static let registryWithKeys: RegistryState = {
        var state = RegistryState(limits: RegistryLimits())
        var index: UInt64 = 0
        func apply(_ command: RegistryCommand) {
            index += 1
            _ = state.apply(command, at: index)
        }
        apply(.grantLease(id: LeaseID(7), ttlMilliseconds: 60_000, grantedAtMilliseconds: 0))
        for (key, value) in [("a", "1"), ("b", "2"), ("a", "3"), ("c/d", "4")] {
            apply(.put(Registry.PutRequest(key: Array(key.utf8), value: Array(value.utf8), lease: key == "b" ? LeaseID(7) : nil)))
        }
        apply(.compact(Revision(2)))
        return state
    }()

    func run(_ bytes: [UInt8]) {
        switch self {
        case .peerMessages:
            var reader = ByteReader(bytes)
            while !reader.isAtEnd, (try? reader.readMessage()) != nil {}
        case .peerFrames:
            var decoder = PeerFrameDecoder(clusterID: 7, maxPayloadBytes: 1 << 16)
            decoder.feed(bytes)
            while let frame = try? decoder.next() {
                var reader = ByteReader(frame.payload)
                _ = try? reader.readMessage()
            }
        case .registryCommand:
            // What decodes must also apply: a leader decodes and applies what a follower forwards.
            guard let command = try? RegistryCommand.decode(bytes, limits: RegistryLimits()) else { return }
            var state = RegistryState(limits: RegistryLimits())
            _ = state.apply(command, at: 1)
            _ = state.apply(command, at: 2)
        case .forwardMessage:
            _ = try? ForwardMessage.decode(bytes, maxCommandBytes: 1 << 16)
        case .http2Connection:
            var connection = HTTP2Connection()
            let input = Self.clientPreface + bytes
            for piece in Self.pieces(of: input, modulo: 97) {
                _ = connection.receive(piece)
                // Take the connection's output after some pieces only, so that queued frames meet later input.
                if piece.first.map({ $0 & 1 == 0 }) ?? true { _ = connection.takeOutbound() }
            }
            _ = connection.takeOutbound()
        case .hpackBlocks:
            var decoder = HPACKDecoder()
            for piece in Self.pieces(of: bytes, modulo: 256) {
                guard (try? decoder.decode(Array(piece))) != nil else { break }
            }
        case .dnsMessage:
            _ = try? DNSMessage(decoding: bytes)
        case .etcdStreams:
            _ = try? EtcdAPI.WatchRequest(decoding: bytes)
            _ = try? EtcdAPI.LeaseKeepAliveRequest(decoding: bytes)
        case .http1Requests:
            var parser = HTTPRequestParser()
            pieces: for piece in Self.pieces(of: bytes, modulo: 61) {
                parser.append(piece)
                do {
                    while try parser.nextRequest() != nil {}
                } catch {
                    break pieces
                }
            }
        case .backupFile:
            _ = try? BackupFile.decode(bytes, path: "fuzz-input")
        case .etcdCall:
            guard let first = bytes.first else { return }
            let method = EtcdMethod.allCases[Int(first) % EtcdMethod.allCases.count]
            let plan = EtcdUnary.plan(method, payload: Array(bytes.dropFirst()), minimumTTLMilliseconds: 5_000, members: [])
            guard case .submit(let request, _) = plan else { return }
            var state = Self.registryWithKeys
            switch request {
            case .write(let command):
                _ = state.apply(command, at: state.lastAppliedIndex + 1)
                _ = state.apply(command, at: state.lastAppliedIndex + 1)
            case .read(let query, let options):
                _ = state.answer(query, options: options, leaderContactAgeMilliseconds: 0)
            default:
                break
            }
        case .registrySnapshot:
            guard let version = bytes.first else { return }
            let body = bytes.dropFirst()
            var writer = ByteWriter()
            writer.writeRaw(Array("RGSN".utf8))
            writer.write(1 + version % 2)
            writer.writeFixed(CRC32C.checksum(body))
            writer.writeRaw(Array(body))
            guard var state = try? RegistryState.restore(from: writer.bytes, limits: RegistryLimits()) else { return }
            _ = state.apply(.grantLease(id: nil, ttlMilliseconds: 10_000, grantedAtMilliseconds: 0), at: state.lastAppliedIndex + 1)
        }
    }

    /// Consecutive pieces of `bytes`, each as long as its own first byte modulo `modulo` (at least 1).
    static func pieces(of bytes: [UInt8], modulo: Int) -> [ArraySlice<UInt8>] {
        var pieces: [ArraySlice<UInt8>] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + max(1, Int(bytes[start]) % modulo))
            pieces.append(bytes[start..<end])
            start = end
        }
        return pieces
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let decoder = FuzzedDecoder.allCases[Int(data[0]) % FuzzedDecoder.allCases.count]
    decoder.run(Array(UnsafeBufferPointer(start: data + 1, count: size - 1)))
    return 0
}
