// Goal: the I/O loop's cheap first look at a request (before any parsing) lets through every request line that
// asks for a serializable read and nothing else: a request it turns away goes to the Raft loop, which answers it
// anyway, so a false "no" only costs speed, but a false "yes" must never skip the parser's checks either.
// Method: request lines built by hand, including the parameter at the line's end, split by CR, and in a header.
@testable import RosterServer
import Testing

@Suite("Local read server: request line check")
struct LocalReadServerTests {
    static func asks(_ text: String) -> Bool {
        Array(text.utf8).withUnsafeBytes { LocalReadServer.requestLineAsksSerializable($0) }
    }

    @Test("serializable GETs are recognised wherever the parameter stands in the target")
    func recognised() {
        #expect(Self.asks("GET /v1/services/web?consistency=serializable HTTP/1.1\r\nHost: x\r\n\r\n"))
        #expect(Self.asks("GET /v1/services?namespace=a&consistency=serializable&min_revision=3 HTTP/1.1\r\n\r\n"))
        #expect(Self.asks("GET /v1/kv/k?consistency=serializable"))  // The rest of the request not read yet.
    }

    @Test("anything else is turned away before parsing", arguments: [
        "GET /v1/services/web HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /v1/services/web?consistency=linearizable HTTP/1.1\r\n\r\n",
        "PUT /v1/services/web/instances/a?consistency=serializable HTTP/1.1\r\n\r\n",
        "GET /v1/services/web HTTP/1.1\r\nX-Note: consistency=serializable\r\n\r\n",
        "GET /v1/services/web?consistency=serializabl",
        "GET",
        "",
    ])
    func turnedAway(request: String) {
        #expect(!Self.asks(request))
    }
}
