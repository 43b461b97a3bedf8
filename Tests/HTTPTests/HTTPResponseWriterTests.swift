// Goal: pin the exact bytes of encoded responses (golden strings) and show chunked responses round-trip
// through our own chunked decoder. Method: encode into `[UInt8]`, compare with literal expected text.
import Testing
@testable import HTTP

@Suite("HTTP response writer")
struct HTTPResponseWriterTests {
    @Test("a full response has status line, headers, Content-Length and body")
    func fullResponse() {
        var out: [UInt8] = []
        HTTPResponseWriter.writeResponse(status: .ok, headers: HTTPHeaders([("Content-Type", "application/json")]),
                                         body: Array("{}".utf8), into: &out)
        #expect(String(decoding: out, as: UTF8.self)
                == "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
    }

    @Test("keepAlive false adds Connection: close")
    func connectionClose() {
        var out: [UInt8] = []
        HTTPResponseWriter.writeResponse(status: .contentTooLarge, keepAlive: false, into: &out)
        #expect(String(decoding: out, as: UTF8.self)
                == "HTTP/1.1 413 Content Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    }

    @Test("204 carries no Content-Length")
    func noContent() {
        var out: [UInt8] = []
        HTTPResponseWriter.writeResponse(status: .noContent, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "HTTP/1.1 204 No Content\r\n\r\n")
    }

    @Test("a chunked stream has hex sizes, skips empty chunks and ends with the last-chunk")
    func chunkedGolden() {
        var out: [UInt8] = []
        HTTPResponseWriter.writeChunkedHead(status: .ok, into: &out)
        HTTPResponseWriter.writeChunk(Array(String(repeating: "x", count: 26).utf8), into: &out)
        HTTPResponseWriter.writeChunk([UInt8](), into: &out)
        HTTPResponseWriter.writeChunk(Array("hi".utf8), into: &out)
        HTTPResponseWriter.writeEnd(into: &out)
        let expected = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1a\r\n"
            + String(repeating: "x", count: 26) + "\r\n2\r\nhi\r\n0\r\n\r\n"
        #expect(String(decoding: out, as: UTF8.self) == expected)
    }

    @Test("chunks we write decode back to the same body with our parser")
    func chunkedRoundTrip() throws {
        var chunks: [UInt8] = []
        let pieces = ["alpha", String(repeating: "b", count: 300), "γ"]
        for piece in pieces { HTTPResponseWriter.writeChunk(Array(piece.utf8), into: &chunks) }
        HTTPResponseWriter.writeEnd(into: &chunks)
        let request = Array("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n".utf8) + chunks
        let parsed = try #require(parseAll(request, split: 5).success?.first)
        #expect(parsed.body == Array(pieces.joined().utf8))
    }
}

@Suite("JSON text")
struct JSONTextTests {
    @Test("quote escapes quotes, backslashes and control characters", arguments: [
        ("plain", "\"plain\""),
        ("a\"b\\c", "\"a\\\"b\\\\c\""),
        ("line\nnext\ttab\r", "\"line\\nnext\\ttab\\r\""),
        ("\u{0}\u{1F}\u{8}\u{C}", "\"\\u0000\\u001f\\b\\f\""),
        ("ünï/✓", "\"ünï/✓\""),
    ])
    func quote(input: String, expected: String) {
        #expect(JSONText.quote(input) == expected)
    }

    @Test("appendQuoted appends to existing bytes")
    func append() {
        var out = Array("{\"k\":".utf8)
        JSONText.appendQuoted("v", to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "{\"k\":\"v\"")
    }
}
