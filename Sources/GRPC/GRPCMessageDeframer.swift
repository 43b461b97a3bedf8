/// Cuts the DATA bytes of one gRPC stream into whole messages.
///
/// Each message on the wire is a 1-byte compressed flag, a 4-byte big-endian length and the payload.
/// The HTTP/2 layer may split or join messages across DATA frames arbitrarily, so `append(_:)` accepts any
/// chunk and returns the messages it completed. The declared length is checked against
/// `maxMessageBytes` as soon as the 5-byte prefix is complete, before any payload byte is taken from
/// the chunk, so a prefix declaring 4 GiB costs nothing. After an error the deframer stays failed: the
/// stream is unusable and every later call throws the same error.
public struct GRPCMessageDeframer: Sendable {
    /// Size of the length prefix: compressed flag plus big-endian UInt32 length.
    public static let prefixBytes = 5

    /// The largest payload accepted (grpc-go's server default is 4 MiB; etcd raises it to its request limit).
    public let maxMessageBytes: Int
    /// The prefix bytes received so far of the message being read (fewer than five).
    private var prefix: [UInt8] = []
    /// The validated length of the message being read, once its prefix is complete.
    private var pendingLength: Int?
    /// The payload bytes received so far of the message being read.
    private var payload: [UInt8] = []
    private var failure: GRPCFramingError?

    /// Creates a deframer.
    /// - Parameter maxMessageBytes: the largest payload accepted; larger declared lengths are refused.
    public init(maxMessageBytes: Int) {
        precondition(maxMessageBytes >= 0, "maxMessageBytes must not be negative, got \(maxMessageBytes)")
        self.maxMessageBytes = maxMessageBytes
    }

    /// Bytes received but not yet returned as part of a message, prefix included (at most
    /// `maxMessageBytes + 5`).
    public var bufferedByteCount: Int {
        pendingLength == nil ? prefix.count : Self.prefixBytes + payload.count
    }

    /// Feeds the next chunk of DATA bytes.
    ///
    /// Bytes are taken from the chunk only as far as the current message needs them, so nothing beyond a
    /// validated message is ever buffered.
    /// - Parameter chunk: any number of bytes, including none.
    /// - Returns: the payloads of the messages this chunk completed, in order.
    /// - Throws: `GRPCFramingError` for an oversized length, a compressed or invalid flag; sticky.
    /// - Complexity: O(chunk).
    public mutating func append(_ chunk: some Collection<UInt8>) throws(GRPCFramingError) -> [[UInt8]] {
        try append(Array(chunk))
    }

    /// `append(_:)` on an array, the form the HTTP/2 layer hands over: concrete, so that a caller in another
    /// module runs specialized code rather than a generic body that looks up metadata for every slice.
    public mutating func append(_ chunk: [UInt8]) throws(GRPCFramingError) -> [[UInt8]] {
        if let failure { throw failure }
        var rest = chunk[...]
        var messages: [[UInt8]] = []
        while true {
            if let length = pendingLength {
                let taken = rest.prefix(length - payload.count)
                payload.append(contentsOf: taken)
                rest = rest.dropFirst(taken.count)
                guard payload.count == length else { break }
                messages.append(payload)
                payload = []
                pendingLength = nil
            } else {
                let taken = rest.prefix(Self.prefixBytes - prefix.count)
                prefix.append(contentsOf: taken)
                rest = rest.dropFirst(taken.count)
                guard prefix.count == Self.prefixBytes else { break }
                do throws(GRPCFramingError) {
                    pendingLength = try Self.validatedLength(prefix, limit: maxMessageBytes)
                } catch {
                    failure = error
                    prefix = []
                    throw error
                }
                prefix = []
            }
        }
        return messages
    }

    /// Checks that the stream ended on a message boundary (call at END_STREAM).
    /// - Throws: `.truncatedMessage` when part of a message is buffered, or the earlier sticky error.
    public func finish() throws(GRPCFramingError) {
        if let failure { throw failure }
        if bufferedByteCount > 0 { throw .truncatedMessage(bufferedBytes: bufferedByteCount) }
    }

    /// The payload length a complete prefix declares, once flag and limit are checked.
    private static func validatedLength(_ prefix: [UInt8], limit: Int) throws(GRPCFramingError) -> Int {
        switch prefix[0] {
        case 0: break
        case 1: throw .compressedMessage
        default: throw .invalidCompressedFlag(prefix[0])
        }
        var length: UInt32 = 0
        for index in 1...4 { length = length << 8 | UInt32(prefix[index]) }
        guard UInt64(length) <= UInt64(limit) else { throw .messageTooLarge(declared: length, limit: limit) }
        return Int(length)
    }
}
