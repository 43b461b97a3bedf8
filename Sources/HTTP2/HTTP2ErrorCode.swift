/// An HTTP/2 error code as carried by RST_STREAM and GOAWAY (RFC 9113 §7).
///
/// A struct rather than an enum because peers may send codes this module does not know, which must be passed on
/// unchanged ("unknown or unsupported error codes MUST NOT trigger any special behavior").
public struct HTTP2ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 32-bit code as sent on the wire.
    public let rawValue: UInt32

    /// Wraps any code, known or not.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Graceful shutdown or normal end.
    public static let noError = HTTP2ErrorCode(rawValue: 0x0)
    /// The peer broke a protocol rule with no more specific code.
    public static let protocolError = HTTP2ErrorCode(rawValue: 0x1)
    /// An unexpected internal error.
    public static let internalError = HTTP2ErrorCode(rawValue: 0x2)
    /// The peer violated flow control.
    public static let flowControlError = HTTP2ErrorCode(rawValue: 0x3)
    /// SETTINGS were not acknowledged in time.
    public static let settingsTimeout = HTTP2ErrorCode(rawValue: 0x4)
    /// A frame arrived on a stream that was already half-closed or closed.
    public static let streamClosed = HTTP2ErrorCode(rawValue: 0x5)
    /// A frame had an invalid size.
    public static let frameSizeError = HTTP2ErrorCode(rawValue: 0x6)
    /// The stream was refused before any processing; the client may safely retry it.
    public static let refusedStream = HTTP2ErrorCode(rawValue: 0x7)
    /// The stream is no longer needed.
    public static let cancel = HTTP2ErrorCode(rawValue: 0x8)
    /// The HPACK decoding context was lost.
    public static let compressionError = HTTP2ErrorCode(rawValue: 0x9)
    /// A CONNECT tunnel failed.
    public static let connectError = HTTP2ErrorCode(rawValue: 0xA)
    /// The peer behaves in a way that looks abusive (floods, excessive load).
    public static let enhanceYourCalm = HTTP2ErrorCode(rawValue: 0xB)
    /// The transport does not meet security requirements.
    public static let inadequateSecurity = HTTP2ErrorCode(rawValue: 0xC)
    /// The request must be retried over HTTP/1.1.
    public static let http11Required = HTTP2ErrorCode(rawValue: 0xD)

    private static let names = [
        "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED",
        "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
        "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
    ]

    /// The RFC's name, such as `PROTOCOL_ERROR`.
    public var description: String {
        rawValue < Self.names.count ? Self.names[Int(rawValue)] : "UNKNOWN_ERROR(0x\(String(rawValue, radix: 16)))"
    }
}

/// Why the connection or one stream must end: the code to send and whether it is a stream or connection error
/// (RFC 9113 §5.4), with a message a person can act on (also sent as GOAWAY debug data).
public struct HTTP2Error: Error, Hashable, Sendable, CustomStringConvertible {
    /// The code sent in RST_STREAM or GOAWAY.
    public var code: HTTP2ErrorCode
    /// The stream to reset for a stream error; nil for a connection error, which ends the connection.
    public var stream: StreamID?
    /// What happened, with the values involved.
    public var message: String

    /// A connection error: GOAWAY with `code`, then close.
    public static func connection(_ code: HTTP2ErrorCode, _ message: String) -> HTTP2Error {
        HTTP2Error(code: code, stream: nil, message: message)
    }

    /// A stream error: RST_STREAM with `code` on `stream`; the connection continues.
    public static func stream(_ stream: StreamID, _ code: HTTP2ErrorCode, _ message: String) -> HTTP2Error {
        HTTP2Error(code: code, stream: stream, message: message)
    }

    /// True when the whole connection must end.
    public var isConnectionError: Bool { stream == nil }

    /// The scope, code and message in one line.
    public var description: String {
        if let stream { return "stream error \(code) on stream \(stream.rawValue): \(message)" }
        return "connection error \(code): \(message)"
    }
}
