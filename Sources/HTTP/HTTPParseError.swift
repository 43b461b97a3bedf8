/// Why a request could not be parsed, as a closed set so the connection layer can answer with the right status
/// and then close: after any of these the byte stream has no trustworthy request boundary left.
public enum HTTPParseError: Error, Equatable, Sendable {
    /// The request line is not `method SP origin-form-target SP HTTP-version CRLF`.
    case malformedRequestLine
    /// A header line is not `token ":" OWS value OWS CRLF`, or a header name/value holds a forbidden byte.
    case malformedHeader
    /// A header line starts with whitespace (obs-fold, RFC 9112 §5.2); rejected because folding hides headers.
    case obsoleteLineFolding
    /// A NUL byte or other control character appeared where only visible text is allowed.
    case invalidCharacter
    /// A line ended in LF without CR. Policy: CRLF is required everywhere, so two parsers never disagree on lines.
    case bareLineFeed
    /// The HTTP/1.1 request has no `Host` header, or has more than one (RFC 9112 §3.2).
    case invalidHost
    /// The `Content-Length` value is not a plain decimal number.
    case invalidContentLength
    /// Two `Content-Length` values differ, a classic request-smuggling vector.
    case conflictingContentLength
    /// Both `Content-Length` and `Transfer-Encoding` were sent (request smuggling, RFC 9112 §6.1).
    case contentLengthWithTransferEncoding
    /// `Transfer-Encoding` on an HTTP/1.0 request, whose framing cannot carry it.
    case transferEncodingOnHTTP10
    /// A `Transfer-Encoding` other than exactly `chunked`.
    case unsupportedTransferEncoding
    /// A chunk-size line or chunk delimiter is malformed.
    case malformedChunk
    /// A percent escape is not `%` followed by two hex digits.
    case invalidPercentEncoding
    /// Percent-decoded bytes are not valid UTF-8, or decode to NUL.
    case invalidUTF8
    /// The request line is longer than `HTTPParserLimits.requestLineBytes`.
    case requestLineTooLong
    /// The header section is longer than `HTTPParserLimits.headerBytes`.
    case headersTooLarge
    /// More header lines than `HTTPParserLimits.headerCount`.
    case tooManyHeaders
    /// The declared or decoded body is longer than `HTTPParserLimits.bodyBytes`.
    case bodyTooLarge
    /// The version is well formed but is not HTTP/1.0 or HTTP/1.1.
    case unsupportedVersion

    /// The status a server answers with before closing the connection.
    public var status: HTTPStatus {
        switch self {
        case .requestLineTooLong: .uriTooLong
        case .headersTooLarge, .tooManyHeaders: .requestHeaderFieldsTooLarge
        case .bodyTooLarge: .contentTooLarge
        case .unsupportedTransferEncoding: .notImplemented
        case .unsupportedVersion: .httpVersionNotSupported
        case .malformedRequestLine, .malformedHeader, .obsoleteLineFolding, .invalidCharacter, .bareLineFeed,
            .invalidHost, .invalidContentLength, .conflictingContentLength, .contentLengthWithTransferEncoding,
            .transferEncodingOnHTTP10, .malformedChunk, .invalidPercentEncoding, .invalidUTF8:
            .badRequest
        }
    }
}
