/// The outcome of one RPC: a status code and a human-readable message, sent as the `grpc-status` and
/// `grpc-message` trailers.
public struct GRPCStatus: Sendable, Hashable, CustomStringConvertible {
    /// The status code.
    public var code: GRPCStatusCode
    /// The message for the caller; clientv3 matches etcd's errors on this exact text, so keep it verbatim.
    public var message: String

    /// Creates a status.
    public init(code: GRPCStatusCode, message: String = "") {
        self.code = code
        self.message = message
    }

    /// Success with no message.
    public static let ok = GRPCStatus(code: .ok)

    /// The `grpc-message` trailer value: the message percent-encoded (see `GRPCMessageEncoding`).
    public var encodedMessage: String { GRPCMessageEncoding.encode(message) }

    /// `CODE: message`, or just the code name when the message is empty.
    public var description: String { message.isEmpty ? code.description : "\(code): \(message)" }
}

/// A non-OK status is what a failed call ends with, so it can travel as a `Result`'s failure.
extension GRPCStatus: Error {}
