import HTTP

/// A refusal to answer with anything but an error: the status, a stable machine-readable code, and a
/// message for a human that names the offending field or parameter and says how to fix it.
///
/// Codes are part of the API (clients branch on them); messages are not. The same code always comes with
/// the same status, so a client may branch on either. The wire form is
/// `{"error": {"code": "...", "message": "..."}}`.
public struct APIError: Error, Equatable, Sendable {
    public var status: HTTPStatus
    public var code: String
    public var message: String
    /// Seconds a client should wait before retrying, sent as `Retry-After`; set only when retrying helps.
    public var retryAfterSeconds: UInt64?
    /// The methods the path accepts, sent as `Allow` with a 405.
    public var allowedMethods: [String]

    public init(
        status: HTTPStatus, code: String, message: String, retryAfterSeconds: UInt64? = nil,
        allowedMethods: [String] = []
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
        self.allowedMethods = allowedMethods
    }
}

extension HTTPStatus {
    /// 415, for a body that is not declared as JSON.
    public static let unsupportedMediaType = HTTPStatus(code: 415, reason: "Unsupported Media Type")
    /// 504, for a request that did not finish within its timeout.
    public static let gatewayTimeout = HTTPStatus(code: 504, reason: "Gateway Timeout")
}

// MARK: - Request errors raised by routing and decoding

extension APIError {
    /// 400 `invalid_field`: a body field has the wrong type or an out-of-range value.
    static func invalidField(_ field: String, _ problem: String) -> APIError {
        APIError(status: .badRequest, code: "invalid_field", message: "field \(field) \(problem)")
    }

    /// 400 `missing_field`: a required body field is absent.
    static func missingField(_ field: String, _ hint: String) -> APIError {
        APIError(status: .badRequest, code: "missing_field", message: "field \(field) is required: \(hint)")
    }

    /// 400 `unknown_field`: the body has a field this endpoint does not define (often a typo).
    static func unknownField(_ field: String, allowed: [String]) -> APIError {
        APIError(
            status: .badRequest, code: "unknown_field",
            message: "unknown field \(field); this endpoint accepts: \(allowed.joined(separator: ", "))")
    }

    /// 400 `invalid_parameter`: a query parameter (or path segment) is malformed or out of range.
    static func invalidParameter(_ name: String, _ problem: String) -> APIError {
        APIError(status: .badRequest, code: "invalid_parameter", message: "parameter \(name) \(problem)")
    }

    /// 400 `unknown_parameter`: the query has a parameter this endpoint does not define.
    static func unknownParameter(_ name: String, allowed: [String]) -> APIError {
        let accepted = allowed.isEmpty ? "none" : allowed.joined(separator: ", ")
        return APIError(
            status: .badRequest, code: "unknown_parameter",
            message: "unknown query parameter \(name); this endpoint accepts: \(accepted)")
    }

    /// 400 `malformed_json`: the body is not JSON.
    static func malformedJSON(_ failure: JSONParser.Failure) -> APIError {
        if failure.isTooDeep {
            return APIError(
                status: .badRequest, code: "nesting_too_deep",
                message: "request body nests arrays and objects more than \(JSONParser.maximumDepth) levels deep")
        }
        return APIError(
            status: .badRequest, code: "malformed_json",
            message: "request body is not valid JSON: \(failure.reason) at byte \(failure.offset)")
    }

    /// 404 `not_found`: no route has this path.
    static func noRoute(_ method: String, _ path: String) -> APIError {
        APIError(
            status: .notFound, code: "not_found",
            message: "no endpoint at \(method) \(path); see the API reference for the /v1 paths")
    }

    /// 405 `method_not_allowed`, with the methods the path does accept.
    static func methodNotAllowed(_ method: String, _ path: String, allowed: [String]) -> APIError {
        APIError(
            status: .methodNotAllowed, code: "method_not_allowed",
            message: "\(method) is not allowed on \(path); use \(allowed.joined(separator: " or "))",
            allowedMethods: allowed)
    }

    /// 415 `unsupported_media_type`: a body declared as something other than JSON.
    static func unsupportedMediaType(_ contentType: String) -> APIError {
        APIError(
            status: .unsupportedMediaType, code: "unsupported_media_type",
            message: "the body is not JSON (declared Content-Type \(contentType)); send a JSON object")
    }

    /// 413 `request_too_large`: a body longer than the registry accepts in one command.
    static func bodyTooLarge(bytes: Int, limit: Int) -> APIError {
        APIError(
            status: .contentTooLarge, code: "request_too_large",
            message: "request body is \(bytes) bytes, limit \(limit); split the request")
    }
}

// MARK: - Framing errors

extension APIError {
    /// The error for a request the HTTP parser refused, so the server answers framing problems in the
    /// same JSON shape before it closes the connection. The status is the parser's own.
    public init(parseError: HTTPParseError) {
        let code: String
        let message: String
        switch parseError {
        case .invalidPercentEncoding:
            (code, message) = (
                "invalid_percent_encoding",
                "the request target has a '%' not followed by two hex digits; escape '%' as %25"
            )
        case .invalidUTF8:
            (code, message) = (
                "invalid_utf8",
                "the request target decodes to invalid UTF-8 or a NUL byte; names and keys must be UTF-8 text"
            )
        case .bodyTooLarge:
            (code, message) = (
                "request_too_large", "the request body is larger than this server accepts; split the request"
            )
        case .requestLineTooLong:
            (code, message) = ("uri_too_long", "the request line is too long; move long values into a JSON body")
        case .headersTooLarge, .tooManyHeaders:
            (code, message) = ("headers_too_large", "the request has too many or too large header fields")
        case .unsupportedTransferEncoding:
            (code, message) = ("unsupported_transfer_encoding", "only Transfer-Encoding: chunked is supported")
        case .unsupportedVersion:
            (code, message) = ("unsupported_http_version", "only HTTP/1.0 and HTTP/1.1 are supported")
        default:
            (code, message) = (
                "malformed_request", "the request is not valid HTTP/1.1 (\(parseError)); the connection will close"
            )
        }
        self.init(status: parseError.status, code: code, message: message)
    }
}
