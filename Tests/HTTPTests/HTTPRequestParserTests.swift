// Goal: show the parser turns valid HTTP/1.1 byte streams into the right requests regardless of how the bytes
// are split, including pipelining and chunked bodies. Method: table-driven cases fed whole, then the same
// inputs fed at every split point and byte by byte, comparing against the whole-feed result.
import Testing
@testable import HTTP

struct ValidRequestCase: Sendable, CustomTestStringConvertible {
    let name: String
    let raw: String
    let method: String
    let segments: [String]
    let body: String
    let keepAlive: Bool
    var testDescription: String { name }
}

let validCases: [ValidRequestCase] = [
    .init(name: "simple GET", raw: "GET /v1/services HTTP/1.1\r\nHost: a\r\n\r\n",
          method: "GET", segments: ["v1", "services"], body: "", keepAlive: true),
    .init(name: "POST with Content-Length", raw: "POST /v1/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
          method: "POST", segments: ["v1", "x"], body: "hello", keepAlive: true),
    .init(name: "chunked POST", raw: "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5\r\nhello\r\n1;ext=1\r\n!\r\n0\r\nTrailer: x\r\n\r\n",
          method: "POST", segments: ["c"], body: "hello!", keepAlive: true),
    .init(name: "Connection close", raw: "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\n",
          method: "GET", segments: [], body: "", keepAlive: false),
    .init(name: "HTTP/1.0 defaults to close", raw: "GET /a HTTP/1.0\r\n\r\n",
          method: "GET", segments: ["a"], body: "", keepAlive: false),
    .init(name: "HTTP/1.0 keep-alive", raw: "GET /a HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
          method: "GET", segments: ["a"], body: "", keepAlive: true),
    .init(name: "percent-encoded segments", raw: "DELETE /v1/services/my%20svc/%E2%9C%93 HTTP/1.1\r\nHost: a\r\n\r\n",
          method: "DELETE", segments: ["v1", "services", "my svc", "✓"], body: "", keepAlive: true),
    .init(name: "leading empty line skipped", raw: "\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n",
          method: "GET", segments: ["x"], body: "", keepAlive: true),
    .init(name: "identical duplicate Content-Length", raw: "PUT /k HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
            + "Content-Length: 2, 2\r\n\r\nok",
          method: "PUT", segments: ["k"], body: "ok", keepAlive: true),
]

@Suite("HTTP request parser: valid input")
struct HTTPRequestParserTests {
    @Test("valid requests parse to the expected method, path, body and keep-alive", arguments: validCases)
    func parsesValidRequests(_ testCase: ValidRequestCase) throws {
        let requests = try #require(parseAll(testCase.raw).success)
        #expect(requests.count == 1)
        let request = try #require(requests.first)
        #expect(request.method == testCase.method)
        #expect(request.pathSegments == testCase.segments)
        #expect(request.body == Array(testCase.body.utf8))
        #expect(request.keepAlive == testCase.keepAlive)
    }

    @Test("every two-way split and byte-by-byte feeding give the whole-feed result", arguments: validCases)
    func splitsGiveSameResult(_ testCase: ValidRequestCase) throws {
        let bytes = Array(testCase.raw.utf8)
        let whole = try #require(parseAll(bytes).success)
        #expect(parseAll(bytes, split: 1).success == whole)
        for cut in 1..<bytes.count {
            var parser = HTTPRequestParser()
            var requests: [HTTPRequest] = []
            parser.append(bytes[..<cut])
            while let request = try parser.nextRequest() { requests.append(request) }
            parser.append(bytes[cut...])
            while let request = try parser.nextRequest() { requests.append(request) }
            #expect(requests == whole, "cut at \(cut)")
        }
    }

    @Test("headers keep order and are looked up case-insensitively")
    func headerLookup() throws {
        let raw = "GET / HTTP/1.1\r\nHost: h\r\nX-A:  1 \r\nx-a: 2\r\nAccept: */*\r\n\r\n"
        let request = try #require(parseAll(raw).success?.first)
        #expect(request.headers["X-a"] == "1")
        #expect(request.headers.values(for: "X-A") == ["1", "2"])
        #expect(request.headers.fields.map(\.name) == ["Host", "X-A", "x-a", "Accept"])
    }

    @Test("query parameters are split, percent-decoded and plus-decoded in order")
    func queryParameters() throws {
        let raw = "GET /w?prefix=a%2Fb&rev=10&flag&q=x+y&rev=11 HTTP/1.1\r\nHost: h\r\n\r\n"
        let request = try #require(parseAll(raw).success?.first)
        #expect(request.path == "/w")
        #expect(request.query["prefix"] == "a/b")
        #expect(request.query.values(for: "rev") == ["10", "11"])
        #expect(request.query["flag"] == "")
        #expect(request.query["q"] == "x y")
        #expect(request.target == "/w?prefix=a%2Fb&rev=10&flag&q=x+y&rev=11")
    }

    @Test("pipelined requests in one feed come out in order")
    func pipelining() throws {
        let raw = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
            + "POST /3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n"
            + "GET /4 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        for split in [0, 1, 7] {
            let requests = try #require(parseAll(raw, split: split).success)
            #expect(requests.map(\.pathSegments) == [["1"], ["2"], ["3"], ["4"]])
            #expect(requests.map { String(decoding: $0.body, as: UTF8.self) } == ["", "abc", "xy", ""])
            #expect(requests.map(\.keepAlive) == [true, true, true, false])
        }
    }

    @Test("the parser is idle only between requests")
    func idleness() throws {
        var parser = HTTPRequestParser()
        #expect(parser.isIdle)
        parser.append("GET / HTTP/1.1\r\nHo".utf8)
        #expect(try parser.nextRequest() == nil)
        #expect(!parser.isIdle)
        parser.append("st: h\r\n\r\n".utf8)
        #expect(try parser.nextRequest() != nil)
        #expect(parser.isIdle)
    }

    @Test("a chunked body decodes across large hex sizes and uppercase digits")
    func chunkedDecode() throws {
        let payload = String(repeating: "z", count: 0x1AB)
        let raw = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n1AB\r\n\(payload)\r\n0\r\n\r\n"
        let request = try #require(parseAll(raw, split: 13).success?.first)
        #expect(request.body.count == 0x1AB)
    }
}
