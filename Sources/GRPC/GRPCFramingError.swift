/// Why a stream of gRPC DATA bytes could not be cut into messages.
///
/// Each case maps to the status the server answers with (`status`), following gRPC's PROTOCOL-HTTP2 and
/// compression documents and what grpc-go does: an oversized message is RESOURCE_EXHAUSTED; a message with
/// the compressed flag set when no `grpc-encoding` was negotiated (Roster never negotiates one) is a
/// protocol violation, INTERNAL. UNIMPLEMENTED is reserved for a request *header* naming an unsupported
/// `grpc-encoding`, which the HTTP/2 layer answers before any message arrives.
public enum GRPCFramingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The prefix declares a message longer than the deframer's limit; nothing of it was buffered.
    case messageTooLarge(declared: UInt32, limit: Int)
    /// The compressed flag is 1 but no message encoding is in effect.
    case compressedMessage
    /// The compressed flag is neither 0 nor 1.
    case invalidCompressedFlag(UInt8)
    /// The stream ended with part of a message (prefix or payload) still buffered.
    case truncatedMessage(bufferedBytes: Int)

    /// The status to end the RPC with.
    public var status: GRPCStatus {
        switch self {
        case .messageTooLarge: GRPCStatus(code: .resourceExhausted, message: description)
        case .compressedMessage, .invalidCompressedFlag, .truncatedMessage: GRPCStatus(code: .internal, message: description)
        }
    }

    /// A sentence saying what the peer sent wrong, sent back as the `grpc-message`.
    public var description: String {
        switch self {
        case .messageTooLarge(let declared, let limit):
            "grpc: received message larger than max (\(declared) vs. \(limit)); send smaller requests"
        case .compressedMessage:
            "grpc: compressed flag set but no grpc-encoding is in effect; this server accepts only identity encoding"
        case .invalidCompressedFlag(let flag):
            "grpc: message prefix has compressed flag \(flag), which must be 0 or 1"
        case .truncatedMessage(let buffered):
            "grpc: stream ended inside a message (\(buffered) bytes of it received)"
        }
    }
}
