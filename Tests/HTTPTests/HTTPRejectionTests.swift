// Goal: show every malformed, oversized or smuggling-prone request becomes the right typed error and status,
// and that limits fire before the offending bytes are buffered. Method: tables of raw requests with the
// expected error, each fed whole and byte by byte (the error must not depend on the split).
import Testing
@testable import HTTP

struct RejectionCase: Sendable, CustomTestStringConvertible {
    let name: String
    let raw: String
    let error: HTTPParseError
    let status: Int
    var testDescription: String { name }
}

let rejectionCases: [RejectionCase] = [
    .init(name: "garbage request line", raw: "HELLO\r\n\r\n", error: .malformedRequestLine, status: 400),
    .init(name: "double space", raw: "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", error: .malformedRequestLine, status: 400),
    .init(name: "absolute-form target", raw: "GET http://x/ HTTP/1.1\r\nHost: h\r\n\r\n",
          error: .malformedRequestLine, status: 400),
    .init(name: "HTTP/2.0 version", raw: "GET / HTTP/2.0\r\nHost: h\r\n\r\n", error: .unsupportedVersion, status: 505),
    .init(name: "lowercase version",
          raw: "GET / http/1.1\r\nHost: h\r\n\r\n", error: .malformedRequestLine, status: 400),
    .init(name: "bare LF", raw: "GET / HTTP/1.1\nHost: h\r\n\r\n", error: .bareLineFeed, status: 400),
    .init(name: "bare LF in headers", raw: "GET / HTTP/1.1\r\nHost: h\n\r\n", error: .bareLineFeed, status: 400),
    .init(name: "NUL in target",
          raw: "GET /a\u{0}b HTTP/1.1\r\nHost: h\r\n\r\n", error: .invalidCharacter, status: 400),
    .init(name: "NUL in header value",
          raw: "GET / HTTP/1.1\r\nHost: h\u{0}\r\n\r\n", error: .invalidCharacter, status: 400),
    .init(name: "obs-fold",
          raw: "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", error: .obsoleteLineFolding, status: 400),
    .init(name: "space before colon", raw: "GET / HTTP/1.1\r\nHost : h\r\n\r\n", error: .malformedHeader, status: 400),
    .init(name: "missing colon", raw: "GET / HTTP/1.1\r\nHost h\r\n\r\n", error: .malformedHeader, status: 400),
    .init(name: "missing Host on 1.1", raw: "GET / HTTP/1.1\r\n\r\n", error: .invalidHost, status: 400),
    .init(name: "two Host headers",
          raw: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", error: .invalidHost, status: 400),
    .init(name: "conflicting Content-Length",
          raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
          error: .conflictingContentLength, status: 400),
    .init(name: "Content-Length list conflict", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 2\r\n\r\nab",
          error: .conflictingContentLength, status: 400),
    .init(name: "negative Content-Length", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
          error: .invalidContentLength, status: 400),
    .init(name: "plus-signed Content-Length", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\nx",
          error: .invalidContentLength, status: 400),
    .init(name: "huge Content-Length",
          raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n",
          error: .invalidContentLength, status: 400),
    .init(name: "CL and TE together",
          raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
          error: .contentLengthWithTransferEncoding, status: 400),
    .init(name: "TE and CL together",
          raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
          error: .contentLengthWithTransferEncoding, status: 400),
    .init(name: "gzip transfer coding", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
          error: .unsupportedTransferEncoding, status: 501),
    .init(name: "obfuscated chunked", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n",
          error: .unsupportedTransferEncoding, status: 501),
    .init(name: "TE on HTTP/1.0", raw: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
          error: .transferEncodingOnHTTP10, status: 400),
    .init(name: "bad chunk size", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
          error: .malformedChunk, status: 400),
    .init(name: "chunk without CRLF after data",
          raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
          error: .malformedChunk, status: 400),
    .init(name: "overlong chunk size",
          raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
          error: .malformedChunk, status: 400),
    .init(name: "bad percent escape",
          raw: "GET /a%2 HTTP/1.1\r\nHost: h\r\n\r\n", error: .invalidPercentEncoding, status: 400),
    .init(name: "non-hex percent escape",
          raw: "GET /?a=%zz HTTP/1.1\r\nHost: h\r\n\r\n", error: .invalidPercentEncoding, status: 400),
    .init(name: "invalid UTF-8 after decoding",
          raw: "GET /%FF HTTP/1.1\r\nHost: h\r\n\r\n", error: .invalidUTF8, status: 400),
    .init(name: "overlong UTF-8 encoding",
          raw: "GET /%C0%AF HTTP/1.1\r\nHost: h\r\n\r\n", error: .invalidUTF8, status: 400),
    .init(name: "encoded NUL", raw: "GET /a%00 HTTP/1.1\r\nHost: h\r\n\r\n", error: .invalidUTF8, status: 400),
]

@Suite("HTTP request parser: rejections")
struct HTTPRejectionTests {
    @Test("malformed requests give the expected typed error and status", arguments: rejectionCases)
    func rejects(_ testCase: RejectionCase) {
        #expect(parseAll(testCase.raw).failure == testCase.error)
        #expect(parseAll(testCase.raw, split: 1).failure == testCase.error)
        #expect(testCase.error.status.code == testCase.status)
    }

    @Test("a failed parser keeps failing and ignores further bytes")
    func staysFailed() {
        var parser = HTTPRequestParser()
        parser.append("BAD\r\n".utf8)
        #expect(throws: HTTPParseError.malformedRequestLine) { try parser.nextRequest() }
        parser.append("GET / HTTP/1.1\r\nHost: h\r\n\r\n".utf8)
        #expect(throws: HTTPParseError.malformedRequestLine) { try parser.nextRequest() }
        #expect(parser.bufferedByteCount == 0)
    }
}

@Suite("HTTP request parser: limits")
struct HTTPLimitTests {
    let small = HTTPParserLimits(requestLineBytes: 64, headerBytes: 128, headerCount: 4, bodyBytes: 16)

    @Test("a request line over the limit gives 414 before its end arrives")
    func requestLineLimit() {
        var parser = HTTPRequestParser(limits: small)
        parser.append(("GET /" + String(repeating: "a", count: 80)).utf8)
        #expect(throws: HTTPParseError.requestLineTooLong) { try parser.nextRequest() }
        #expect(HTTPParseError.requestLineTooLong.status.code == 414)
    }

    @Test("a request line exactly at the limit is accepted")
    func requestLineAtLimit() {
        let line = "GET /" + String(repeating: "a", count: 64 - 14) + " HTTP/1.1"
        #expect(line.utf8.count == 64)
        #expect(parseAll(line + "\r\nHost: h\r\n\r\n", limits: small).success?.count == 1)
    }

    @Test("a header section over the byte limit gives 431 without a terminating line")
    func headerBytesLimit() {
        var parser = HTTPRequestParser(limits: small)
        parser.append("GET / HTTP/1.1\r\nHost: h\r\nX: \(String(repeating: "v", count: 200))".utf8)
        #expect(throws: HTTPParseError.headersTooLarge) { try parser.nextRequest() }
        #expect(HTTPParseError.headersTooLarge.status.code == 431)
    }

    @Test("more header lines than the count limit gives 431")
    func headerCountLimit() {
        let raw = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"
        #expect(parseAll(raw, limits: small).failure == .tooManyHeaders)
    }

    @Test("Content-Length over the limit gives 413 before any body byte is sent")
    func contentLengthLimit() {
        var parser = HTTPRequestParser(limits: small)
        parser.append("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 17\r\n\r\n".utf8)
        #expect(throws: HTTPParseError.bodyTooLarge) { try parser.nextRequest() }
    }

    @Test("the default body limit rejects a 2 MiB Content-Length at once")
    func defaultBodyLimit() {
        #expect(HTTPParserLimits().bodyBytes == 1_572_864)
        let raw = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2097152\r\n\r\n"
        #expect(parseAll(raw).failure == .bodyTooLarge)
    }

    @Test("a body exactly at the limit is accepted")
    func bodyAtLimit() {
        let raw = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 16\r\n\r\n" + String(repeating: "b", count: 16)
        #expect(parseAll(raw, limits: small).success?.first?.body.count == 16)
    }

    @Test("chunked bodies are held to the same limit on their decoded size")
    func chunkedBodyLimit() {
        let raw = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n9\r\n"
        #expect(parseAll(raw, limits: small).failure == .bodyTooLarge)
    }

    @Test("trailers count against the header byte budget")
    func trailerLimit() {
        let raw = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: "
            + String(repeating: "t", count: 200) + "\r\n\r\n"
        #expect(parseAll(raw, limits: small).failure == .headersTooLarge)
    }

    @Test("endless empty lines before a request are bounded")
    func emptyLineFlood() {
        let raw = String(repeating: "\r\n", count: 100)
        #expect(parseAll(raw, limits: small).failure == .requestLineTooLong)
    }
}
