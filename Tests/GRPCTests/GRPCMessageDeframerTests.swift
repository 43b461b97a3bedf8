// Goal: the deframer turns arbitrary chunkings of gRPC DATA bytes into exactly the framed messages, and
// refuses oversized, compressed and truncated messages with typed errors mapped to the right status,
// without buffering an oversized message.
// Method: framer/deframer vectors; every split point of a two-message stream; limit boundaries; a
// 4 GiB declared length; a seeded fuzz that (a) random messages split at random points come back equal
// and (b) random bytes yield only typed errors or messages whose re-framing reproduces the input prefix.
import GRPC
import Testing
import Raft

@Suite("GRPCMessageDeframer")
struct GRPCMessageDeframerTests {
    @Test("the framer writes flag 0 and a big-endian length")
    func framer() {
        #expect(GRPCMessageFramer.frame([0xAA, 0xBB]) == [0, 0, 0, 0, 2, 0xAA, 0xBB])
        #expect(GRPCMessageFramer.frame([UInt8]()) == [0, 0, 0, 0, 0])
        #expect(GRPCMessageFramer.frame([UInt8](repeating: 1, count: 0x1_0203)).prefix(5) == [0, 0, 1, 2, 3])
    }

    @Test("a stream split at every possible point yields the same messages")
    func everySplit() throws {
        let stream = GRPCMessageFramer.frame([1, 2, 3]) + GRPCMessageFramer.frame([]) + GRPCMessageFramer.frame([4])
        for split in 0...stream.count {
            var deframer = GRPCMessageDeframer(maxMessageBytes: 16)
            var messages = try deframer.append(stream[0..<split])
            messages += try deframer.append(stream[split...])
            #expect(messages == [[1, 2, 3], [], [4]], "split at \(split)")
            try deframer.finish()
        }
    }

    @Test("byte-by-byte feeding yields each message once it is complete")
    func byteByByte() throws {
        var deframer = GRPCMessageDeframer(maxMessageBytes: 16)
        let stream = GRPCMessageFramer.frame([9, 8])
        for byte in stream.dropLast() { #expect(try deframer.append([byte]).isEmpty) }
        #expect(try deframer.append([stream.last!]) == [[9, 8]])
        #expect(deframer.bufferedByteCount == 0)
    }

    @Test("a message exactly at the limit is accepted; one byte more is refused as RESOURCE_EXHAUSTED")
    func limit() throws {
        var deframer = GRPCMessageDeframer(maxMessageBytes: 4)
        #expect(try deframer.append(GRPCMessageFramer.frame([1, 2, 3, 4])) == [[1, 2, 3, 4]])
        let error = GRPCFramingError.messageTooLarge(declared: 5, limit: 4)
        #expect(throws: error) { try deframer.append([0, 0, 0, 0, 5]) }
        #expect(error.status.code == .resourceExhausted)
    }

    @Test("a declared 4 GiB message is refused from its prefix alone, buffering nothing")
    func hugeDeclaredLength() {
        var deframer = GRPCMessageDeframer(maxMessageBytes: 4 * 1024 * 1024)
        #expect(throws: GRPCFramingError.messageTooLarge(declared: UInt32.max, limit: 4 * 1024 * 1024)) {
            try deframer.append([0, 0xFF, 0xFF, 0xFF, 0xFF])
        }
        #expect(deframer.bufferedByteCount == 0)
    }

    @Test("a chunk holding an oversized prefix and its data is refused without keeping any of it")
    func oversizedInOneChunk() {
        var deframer = GRPCMessageDeframer(maxMessageBytes: 8)
        let chunk = GRPCMessageFramer.frame([1]) + [0, 0, 0, 1, 0] + [UInt8](repeating: 7, count: 256)
        #expect(throws: GRPCFramingError.messageTooLarge(declared: 256, limit: 8)) { try deframer.append(chunk) }
        #expect(deframer.bufferedByteCount == 0)
    }

    @Test("only the bytes the current message needs are buffered")
    func buffersOnlyCurrentMessage() throws {
        var deframer = GRPCMessageDeframer(maxMessageBytes: 8)
        #expect(try deframer.append([0, 0, 0, 0, 3, 1]).isEmpty)
        #expect(deframer.bufferedByteCount == 6)
        #expect(try deframer.append([2, 3, 0, 0]) == [[1, 2, 3]])
        #expect(deframer.bufferedByteCount == 2)
    }

    @Test("compressed flag 1 is refused as INTERNAL, since no grpc-encoding is ever negotiated")
    func compressed() {
        var deframer = GRPCMessageDeframer(maxMessageBytes: 16)
        #expect(throws: GRPCFramingError.compressedMessage) { try deframer.append([1, 0, 0, 0, 0]) }
        #expect(GRPCFramingError.compressedMessage.status.code == .internal)
    }

    @Test("a compressed flag other than 0 or 1 is refused as INTERNAL")
    func invalidFlag() {
        var deframer = GRPCMessageDeframer(maxMessageBytes: 16)
        #expect(throws: GRPCFramingError.invalidCompressedFlag(7)) { try deframer.append([7, 0, 0, 0, 0]) }
        #expect(GRPCFramingError.invalidCompressedFlag(7).status.code == .internal)
    }

    @Test("errors are sticky: later chunks, even valid ones, throw the same error")
    func sticky() {
        var deframer = GRPCMessageDeframer(maxMessageBytes: 16)
        #expect(throws: GRPCFramingError.compressedMessage) { try deframer.append([1, 0, 0, 0, 0]) }
        #expect(throws: GRPCFramingError.compressedMessage) { try deframer.append(GRPCMessageFramer.frame([1])) }
        #expect(throws: GRPCFramingError.compressedMessage) { try deframer.finish() }
    }

    @Test("ending the stream inside a prefix or payload is refused as INTERNAL", arguments: [1, 4, 5, 7])
    func truncated(length: Int) throws {
        var deframer = GRPCMessageDeframer(maxMessageBytes: 16)
        _ = try deframer.append(GRPCMessageFramer.frame([1, 2, 3]).prefix(length))
        #expect(throws: GRPCFramingError.truncatedMessage(bufferedBytes: length)) { try deframer.finish() }
        #expect(GRPCFramingError.truncatedMessage(bufferedBytes: length).status.code == .internal)
    }

    @Test("random messages in random chunks come back unchanged", arguments: [1, 2, 3] as [UInt64])
    func fuzzRoundTrip(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        for _ in 0..<200 {
            let messages = (0..<random.next() % 6).map { _ in random.bytes(Int(random.next() % 40)) }
            let stream = messages.reduce(into: [UInt8]()) { GRPCMessageFramer.append($1, to: &$0) }
            var deframer = GRPCMessageDeframer(maxMessageBytes: 40)
            var received: [[UInt8]] = []
            var position = 0
            while position < stream.count {
                let size = Int(random.next() % 12)
                let end = min(stream.count, position + size)
                received += try deframer.append(stream[position..<end])
                position = end
            }
            #expect(received == messages, "seed \(seed)")
            try deframer.finish()
        }
    }

    @Test("random bytes yield typed errors or messages whose framing reproduces the input", arguments: [4, 5, 6] as [UInt64])
    func fuzzGarbage(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for _ in 0..<2_000 {
            var input = random.bytes(Int(random.next() % 48))
            if random.next() % 2 == 0, !input.isEmpty { input[0] = 0 }
            if input.count > 4, random.next() % 2 == 0 { input[1] = 0; input[2] = 0; input[3] = 0; input[4] %= 32 }
            var deframer = GRPCMessageDeframer(maxMessageBytes: 24)
            do throws(GRPCFramingError) {
                let messages = try deframer.append(input)
                let reframed = messages.reduce(into: [UInt8]()) { GRPCMessageFramer.append($1, to: &$0) }
                #expect(Array(input.prefix(reframed.count)) == reframed)
                #expect(reframed.count + deframer.bufferedByteCount == input.count)
                #expect(messages.allSatisfy { $0.count <= 24 })
            } catch {
                #expect(deframer.bufferedByteCount == 0)
                #expect([.resourceExhausted, .internal].contains(error.status.code))
            }
        }
    }
}
