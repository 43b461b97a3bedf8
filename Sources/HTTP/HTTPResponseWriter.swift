/// Encodes responses into bytes: whole responses with `Content-Length`, and chunked streams for watches.
///
/// Why a byte appender rather than a response type: the event loop writes `[UInt8]` to sockets, and hot paths
/// (watch events) should append into one reused buffer without intermediate strings. Header names and values
/// come from our own code; CR, LF or NUL in them is a programmer error (it would let data forge headers), so it
/// traps rather than being escaped.
public enum HTTPResponseWriter {
    /// Appends a complete response: status line, `headers`, `Content-Length`, blank line, body.
    /// - Parameters:
    ///   - status: The status line's code and reason.
    ///   - headers: Extra fields; must not include `Content-Length` or `Transfer-Encoding`.
    ///   - body: The body bytes (may be empty; 1xx/204/304 must have none).
    ///   - keepAlive: When false, `Connection: close` is added so the client knows we will close.
    ///   - output: The buffer to append to.
    public static func writeResponse(status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
                                     keepAlive: Bool = true, into output: inout [UInt8]) {
        writeHead(status: status, headers: headers, keepAlive: keepAlive, into: &output)
        let bodyless = status.code < 200 || status.code == 204 || status.code == 304
        precondition(!bodyless || body.isEmpty, "status \(status.code) must not carry a body")
        if !bodyless {
            appendField(name: "Content-Length", value: String(body.count), into: &output)
        }
        output.append(contentsOf: crlf)
        output.append(contentsOf: body)
    }

    /// Appends the head of a chunked response (`Transfer-Encoding: chunked`); follow with `writeChunk` calls
    /// and one `writeEnd`.
    public static func writeChunkedHead(status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders(),
                                        keepAlive: Bool = true, into output: inout [UInt8]) {
        writeHead(status: status, headers: headers, keepAlive: keepAlive, into: &output)
        appendField(name: "Transfer-Encoding", value: "chunked", into: &output)
        output.append(contentsOf: crlf)
    }

    /// Appends one chunk; an empty `data` appends nothing, because a zero-size chunk would end the stream.
    public static func writeChunk<Bytes: Collection>(_ data: Bytes, into output: inout [UInt8])
    where Bytes.Element == UInt8 {
        guard !data.isEmpty else { return }
        output.append(contentsOf: String(data.count, radix: 16).utf8)
        output.append(contentsOf: crlf)
        output.append(contentsOf: data)
        output.append(contentsOf: crlf)
    }

    /// Appends the last-chunk and empty trailer section that end a chunked response.
    public static func writeEnd(into output: inout [UInt8]) {
        output.append(contentsOf: "0\r\n\r\n".utf8)
    }

    // MARK: - Pieces

    private static let crlf: [UInt8] = [0x0D, 0x0A]

    private static func writeHead(status: HTTPStatus, headers: HTTPHeaders, keepAlive: Bool,
                                  into output: inout [UInt8]) {
        output.append(contentsOf: "HTTP/1.1 ".utf8)
        output.append(contentsOf: String(status.code).utf8)
        output.append(0x20)
        output.append(contentsOf: status.reason.utf8)
        output.append(contentsOf: crlf)
        for field in headers {
            precondition(!HTTPHeaders.namesEqual(field.name, "Content-Length")
                         && !HTTPHeaders.namesEqual(field.name, "Transfer-Encoding"),
                         "framing headers are written by HTTPResponseWriter itself")
            appendField(name: field.name, value: field.value, into: &output)
        }
        if !keepAlive {
            appendField(name: "Connection", value: "close", into: &output)
        }
    }

    /// Checks and appends one field, each part in one pass over its contiguous UTF-8.
    private static func appendField(name: String, value: String, into output: inout [UInt8]) {
        var nameText = name
        nameText.withUTF8 { bytes in
            precondition(!bytes.isEmpty && bytes.allSatisfy(HTTPRequestParser.isTokenByte),
                         "header name is not a token: \(name)")
            output.append(contentsOf: bytes)
        }
        output.append(UInt8(ascii: ":"))
        output.append(UInt8(ascii: " "))
        var valueText = value
        valueText.withUTF8 { bytes in
            precondition(!bytes.contains { HTTPRequestParser.isControlByte($0) && $0 != 0x09 },
                         "header value for \(name) contains a control byte")
            output.append(contentsOf: bytes)
        }
        output.append(0x0D)
        output.append(0x0A)
    }
}
