/// Writes outbound gRPC messages with their 5-byte prefix (flag 0, big-endian length).
///
/// Roster never compresses, so the flag is always 0 and no `grpc-encoding` header is needed. Inlinable so that
/// callers in other modules get a version specialized for their byte collection rather than a generic one.
public enum GRPCMessageFramer {
    /// Appends `payload` framed as one uncompressed gRPC message to `output`.
    /// - Precondition: the payload fits the 32-bit length (callers enforce far smaller limits first).
    /// - Complexity: O(payload).
    @inlinable public static func append(_ payload: some Collection<UInt8>, to output: inout [UInt8]) {
        let length = payload.count
        precondition(UInt64(length) <= UInt64(UInt32.max), "gRPC message of \(length) bytes exceeds the 32-bit length")
        output.reserveCapacity(output.count + GRPCMessageDeframer.prefixBytes + length)
        output.append(0)
        for shift in stride(from: 24, through: 0, by: -8) { output.append(UInt8(truncatingIfNeeded: length >> shift)) }
        output.append(contentsOf: payload)
    }

    /// Returns `payload` framed as one uncompressed gRPC message.
    @inlinable public static func frame(_ payload: some Collection<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        append(payload, to: &output)
        return output
    }
}
