// Goal: show that no input can trap the frame decoder or the connection, that accepted input round-trips, and
// that a valid but random client conversation never makes the server break flow control or frame-size rules.
// Method: a seeded SplitMix64 builds random frames (round-tripped through random chunkings), mutated and
// garbage byte streams (decoded and fed to a connection after a valid preface), and random valid conversations
// in which the test tracks the client's view of every window and checks each DATA frame the server writes.
import HPACK
import Testing
@testable import HTTP2
import Raft

let http2FuzzSeeds: [UInt64] = [1, 2, 3, 42, 9113, 0xDEAD_BEEF]

/// Random frames of every type with valid fields.
func randomFrame(_ random: inout SplitMix64) -> Frame {
    func bytes(_ max: Int) -> [UInt8] {
        (0..<Int.random(in: 0...max, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
    }
    let stream = StreamID(rawValue: UInt32.random(in: 1...99, using: &random))
    let padding: Int? = Bool.random(using: &random) ? Int.random(in: 0...20, using: &random) : nil
    switch Int.random(in: 0..<11, using: &random) {
    case 0: return .data(stream: stream, payload: bytes(300), endStream: Bool.random(using: &random), padding: padding)
    case 1:
        let priority = Bool.random(using: &random) ? PriorityInfo(exclusive: true, dependency: 0, weight: 3) : nil
        return .headers(stream: stream, fragment: bytes(50), endStream: Bool.random(using: &random),
                        endHeaders: Bool.random(using: &random), priority: priority, padding: padding)
    case 2: return .priority(stream: stream, PriorityInfo(exclusive: false, dependency: 0, weight: 9))
    case 3: return .rstStream(stream: stream, code: HTTP2ErrorCode(rawValue: UInt32.random(in: 0...20, using: &random)))
    case 4: return .settings(ack: false, parameters: [SettingsParameter(.maxConcurrentStreams,
                                                                         UInt32.random(in: 0...1000, using: &random))])
    case 5: return .pushPromise(stream: stream, promised: 2, fragment: bytes(20), endHeaders: true, padding: padding)
    case 6: return .ping(ack: Bool.random(using: &random), opaque: random.next())
    case 7: return .goAway(lastStream: stream, code: .noError, debugData: bytes(10))
    case 8: return .windowUpdate(stream: Bool.random(using: &random) ? .connection : stream,
                                 increment: UInt32.random(in: 1...0x7FFF_FFFF, using: &random))
    case 9: return .continuation(stream: stream, fragment: bytes(40), endHeaders: Bool.random(using: &random))
    default:
        return .unknown(type: UInt8.random(in: 10...255, using: &random), flags: 0, stream: stream, payload: bytes(8))
    }
}

/// Splits `bytes` into random chunks of 1 to 64 octets.
func randomChunks(_ bytes: [UInt8], _ random: inout SplitMix64) -> [ArraySlice<UInt8>] {
    var chunks: [ArraySlice<UInt8>] = []
    var start = 0
    while start < bytes.count {
        let end = min(bytes.count, start + Int.random(in: 1...64, using: &random))
        chunks.append(bytes[start..<end])
        start = end
    }
    return chunks
}

/// Flips, inserts, deletes and truncates a few octets.
func mutate(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
    for _ in 0..<Int.random(in: 1...4, using: &random) where !bytes.isEmpty {
        let position = Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<4, using: &random) {
        case 0: bytes[position] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
        case 1: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
        case 2: bytes.remove(at: position)
        default: bytes[position] = UInt8.random(in: 0...255, using: &random)
        }
    }
}

@Suite("HTTP/2 fuzz")
struct HTTP2FuzzTests {
    @Test("random frames survive encoding and any chunking unchanged", arguments: http2FuzzSeeds)
    func frameRoundTrip(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let frames = (0..<400).map { _ in randomFrame(&random) }
        var decoder = FrameDecoder()
        var decoded: [Frame] = []
        for chunk in randomChunks(frames.flatMap(\.encoded), &random) {
            decoder.append(chunk)
            while let frame = try decoder.nextFrame() { decoded.append(frame) }
        }
        #expect(decoded == frames)
    }

    @Test("mutated frame streams decode, reject with a typed error, or wait; buffering stays bounded",
          arguments: http2FuzzSeeds)
    func frameDecoderMutations(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var (accepted, rejected) = (0, 0)
        for _ in 0..<300 {
            var bytes = (0..<Int.random(in: 1...6, using: &random)).flatMap { _ in randomFrame(&random).encoded }
            mutate(&bytes, &random)
            var decoder = FrameDecoder()
            feeding: for chunk in randomChunks(bytes, &random) {
                decoder.append(chunk)
                while true {
                    do {
                        guard let frame = try decoder.nextFrame() else { break }
                        accepted += 1
                        // Accepted input round-trips: re-encoding and decoding yields the same frame.
                        var again = FrameDecoder()
                        again.append(frame.encoded)
                        #expect(try again.nextFrame() == frame)
                    } catch {
                        rejected += 1
                        if error.isConnectionError { break feeding }
                    }
                }
                #expect(decoder.bufferedByteCount < FrameHeader.size + decoder.maxFrameSize)
            }
        }
        #expect(accepted > 0 && rejected > 0)
    }

    @Test("hostile byte streams after a valid preface end in events or in GOAWAY with the failure's code",
          arguments: http2FuzzSeeds)
    func connectionHostileInput(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var failures = 0
        for _ in 0..<60 {
            var limits = HTTP2Limits()
            limits.maxConcurrentStreams = 4
            var client = TestClient(limits: limits)
            var script: [UInt8] = []
            for _ in 0..<Int.random(in: 1...30, using: &random) {
                switch Int.random(in: 0..<3, using: &random) {
                case 0: script += client.headers(StreamID(rawValue: UInt32.random(in: 0...20, using: &random) * 2 + 1),
                                                 requestFields(), endStream: Bool.random(using: &random)).encoded
                case 1: script += randomFrame(&random).encoded
                default:
                    script += (0..<Int.random(in: 1...30, using: &random)).map { _ in
                        UInt8.random(in: 0...255, using: &random)
                    }
                }
            }
            if Bool.random(using: &random) { mutate(&script, &random) }
            var failed: HTTP2Error?
            for chunk in randomChunks(script, &random) {
                let events = client.server.receive(chunk)
                if failed != nil { #expect(events.isEmpty) }
                var failedNow: HTTP2Error?
                for case .connectionFailed(let error) in events { failedNow = error }
                for case .requestHeaders(let stream, _, _) in events where Bool.random(using: &random) {
                    try? client.server.sendHeaders(responseFields, on: stream)
                    try? client.server.sendData([1, 2, 3], on: stream, endStream: Bool.random(using: &random))
                }
                #expect(client.server.activeStreamCount <= limits.maxConcurrentStreams)
                #expect(client.server.queuedBytes == client.server.streams.values.reduce(0) { $0 + $1.queuedBytes })
                // The failure's GOAWAY, with its code, is in the very next write.
                if let failedNow {
                    #expect(goAwayCode(client.readFrames()) == failedNow.code)
                    failed = failedNow
                }
                _ = client.readFrames()
            }
            if let failed {
                failures += 1
                #expect(client.server.isFinished, "\(failed)")
            }
        }
        #expect(failures > 0)
    }

    @Test("random valid conversations never fail and never exceed the client's windows or frame size",
          arguments: http2FuzzSeeds)
    func connectionValidConversation(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var client = TestClient()
        var conversation = ValidConversation()
        for _ in 0..<600 {
            let events = conversation.step(&client, &random)
            #expect(!events.contains { if case .connectionFailed = $0 { true } else { false } })
            try conversation.respond(to: events, &client, &random)
            conversation.check(client.readFrames(maxBytes: Int.random(in: 1...40_000, using: &random)), client.server)
        }
        #expect(conversation.dataWritten > 0)
    }
}

/// The client's bookkeeping in a valid random conversation: its view of the server's send windows.
struct ValidConversation {
    var nextStream: UInt32 = 1
    var openStreams: [StreamID] = []
    /// Streams the client ended; it sends no more DATA on them.
    var clientEnded: Set<StreamID> = []
    var initialWindow = HTTP2Constants.defaultWindowSize
    var maxFrameSize = HTTP2Constants.defaultMaxFrameSize
    var connectionGranted = HTTP2Constants.defaultWindowSize
    var streamGranted: [StreamID: Int] = [:]
    var connectionSent = 0
    var streamSent: [StreamID: Int] = [:]
    var dataWritten = 0
    var pendingPings: [UInt64] = []

    /// One random valid client action.
    mutating func step(_ client: inout TestClient, _ random: inout SplitMix64) -> [HTTP2Event] {
        let stream = openStreams.randomElement(using: &random)
        switch Int.random(in: 0..<8, using: &random) {
        case 0 where openStreams.count < 50:
            let id = StreamID(rawValue: nextStream)
            nextStream += 2
            openStreams.append(id)
            let endStream = Bool.random(using: &random)
            if endStream { clientEnded.insert(id) }
            return client.openRequest(id, endStream: endStream)
        case 1 where stream != nil && !clientEnded.contains(stream!):
            let size = Int.random(in: 0...2000, using: &random)
            return client.send(.data(stream: stream!, payload: [UInt8](repeating: 0, count: size), endStream: false,
                                     padding: nil))
        case 2 where stream != nil:
            let increment = Int.random(in: 1...50_000, using: &random)
            streamGranted[stream!, default: 0] += increment
            return client.send(.windowUpdate(stream: stream!, increment: UInt32(increment)))
        case 3:
            let increment = Int.random(in: 1...100_000, using: &random)
            connectionGranted += increment
            return client.send(.windowUpdate(stream: .connection, increment: UInt32(increment)))
        case 4:
            let opaque = random.next()
            pendingPings.append(opaque)
            return client.send(.ping(ack: false, opaque: opaque))
        case 5:
            initialWindow = Int.random(in: 0...70_000, using: &random)
            maxFrameSize = Int.random(in: 16_384...40_000, using: &random)
            return client.send(.settings(ack: false, parameters: [
                SettingsParameter(.initialWindowSize, UInt32(initialWindow)),
                SettingsParameter(.maxFrameSize, UInt32(maxFrameSize)),
            ]))
        case 6 where stream != nil:
            openStreams.removeAll { $0 == stream! }
            return client.send(.rstStream(stream: stream!, code: .cancel))
        default:
            return []
        }
    }

    /// The application's random answers to new requests.
    mutating func respond(to events: [HTTP2Event], _ client: inout TestClient, _ random: inout SplitMix64) throws {
        for case .requestHeaders(let stream, _, _) in events {
            try client.server.sendHeaders(responseFields, on: stream)
        }
        guard let stream = openStreams.randomElement(using: &random), client.server.streams[stream] != nil else {
            return
        }
        // A full queue is a legitimate refusal here; the check is on what the server writes, not on this call.
        try? client.server.sendData([UInt8](repeating: 1, count: Int.random(in: 0...30_000, using: &random)),
                                    on: stream)
    }

    /// Checks each DATA frame against the windows the client granted and its frame size.
    mutating func check(_ frames: [Frame], _ server: HTTP2Connection) {
        for frame in frames {
            switch frame {
            case .data(let stream, let payload, _, _):
                #expect(payload.count <= maxFrameSize)
                connectionSent += payload.count
                streamSent[stream, default: 0] += payload.count
                dataWritten += payload.count
                #expect(connectionSent <= connectionGranted)
                #expect(streamSent[stream, default: 0] <= initialWindow + streamGranted[stream, default: 0])
            case .ping(true, let opaque):
                #expect(pendingPings.first == opaque)
                pendingPings.removeFirst()
            case .goAway:
                Issue.record("valid conversation got \(frame)")
            default:
                continue
            }
        }
        #expect(pendingPings.isEmpty)
    }
}
