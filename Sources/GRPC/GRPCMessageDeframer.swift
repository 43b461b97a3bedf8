/// Cuts the DATA bytes of one gRPC stream into whole messages.
///
/// Each message on the wire is a 1-byte compressed flag, a 4-byte big-endian length and the payload.
/// The HTTP/2 layer may split or join messages across DATA frames arbitrarily, so `append(_:)` accepts any
/// chunk and returns the messages it completed. The declared length is checked against
/// `maxMessageBytes` as soon as the 5-byte prefix is complete, before any payload is buffered or
/// reserved, so a prefix declaring 4 GiB costs nothing. After an error the deframer stays failed: the
/// stream is unusable and every later call throws the same error.
public struct GRPCMessageDeframer: Sendable {
    /// Size of the length prefix: compressed flag plus big-endian UInt32 length.
    public static let prefixBytes = 5

    /// The largest payload accepted (grpc-go's server default is 4 MiB; etcd raises it to its request limit).
    public let maxMessageBytes: Int
    private var buffer: [UInt8] = []
    private var consumed = 0
    private var failure: GRPCFramingError?

    /// Creates a deframer.
    /// - Parameter maxMessageBytes: the largest payload accepted; larger declared lengths are refused.
    public init(maxMessageBytes: Int) {
        precondition(maxMessageBytes >= 0, "maxMessageBytes must not be negative, got \(maxMessageBytes)")
        self.maxMessageBytes = maxMessageBytes
    }

    /// Bytes received but not yet returned as part of a message.
    public var bufferedByteCount: Int { buffer.count - consumed }

    /// Feeds the next chunk of DATA bytes.
    /// - Parameter chunk: any number of bytes, including none.
    /// - Returns: the payloads of the messages this chunk completed, in order.
    /// - Throws: `GRPCFramingError` for an oversized length, a compressed or invalid flag; sticky.
    /// - Complexity: O(chunk) amortized.
    public mutating func append(_ chunk: some Collection<UInt8>) throws(GRPCFramingError) -> [[UInt8]] {
        if let failure { throw failure }
        buffer.append(contentsOf: chunk)
        var messages: [[UInt8]] = []
        do throws(GRPCFramingError) {
            while let message = try nextMessage() { messages.append(message) }
        } catch {
            failure = error
            buffer = []
            consumed = 0
            throw error
        }
        compact()
        return messages
    }

    /// Checks that the stream ended on a message boundary (call at END_STREAM).
    /// - Throws: `.truncatedMessage` when part of a message is buffered, or the earlier sticky error.
    public func finish() throws(GRPCFramingError) {
        if let failure { throw failure }
        if bufferedByteCount > 0 { throw .truncatedMessage(bufferedBytes: bufferedByteCount) }
    }

    private mutating func nextMessage() throws(GRPCFramingError) -> [UInt8]? {
        guard bufferedByteCount >= Self.prefixBytes else { return nil }
        let flag = buffer[consumed]
        switch flag {
        case 0: break
        case 1: throw .compressedMessage
        default: throw .invalidCompressedFlag(flag)
        }
        var length: UInt32 = 0
        for index in 1...4 { length = length << 8 | UInt32(buffer[consumed + index]) }
        guard UInt64(length) <= UInt64(maxMessageBytes) else {
            throw .messageTooLarge(declared: length, limit: maxMessageBytes)
        }
        let start = consumed + Self.prefixBytes
        guard buffer.count - start >= Int(length) else { return nil }
        consumed = start + Int(length)
        return Array(buffer[start..<consumed])
    }

    /// Drops returned bytes once they are at least half the buffer, so the copy stays amortized O(1).
    private mutating func compact() {
        if consumed == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 64 * 1024)
            consumed = 0
        } else if consumed > 0 && consumed >= buffer.count / 2 {
            buffer.removeFirst(consumed)
            consumed = 0
        }
    }
}
