// Goal: the I/O loop's cheap first look at a request (before any parsing) lets through every GET, the only method it
// may answer (serializable reads at once, linearizable ones after a read barrier), and nothing else: a request it
// turns away goes to the Raft loop, which answers it anyway, so a false "no" only costs speed, but a false "yes"
// must never skip the parser's checks either (the parser still sees every request it lets through).
// Method: request lines built by hand, whole and cut short.
@testable import RosterServer
import Testing

@Suite("Local read server: request line check")
struct LocalReadServerTests {
    static func isGet(_ text: String) -> Bool {
        Array(text.utf8).withUnsafeBytes { LocalReadServer.isGet($0) }
    }

    @Test("GETs are recognised, whatever their target asks")
    func recognised() {
        #expect(Self.isGet("GET /v1/services/web?consistency=serializable HTTP/1.1\r\nHost: x\r\n\r\n"))
        #expect(Self.isGet("GET /v1/services/web HTTP/1.1\r\n\r\n"))
        #expect(Self.isGet("GET /v1/kv/k"))  // The rest of the request not read yet.
    }

    @Test("anything else is turned away before parsing", arguments: [
        "PUT /v1/services/web/instances/a?consistency=serializable HTTP/1.1\r\n\r\n",
        "POST /v1/watch HTTP/1.1\r\n\r\n",
        "GETX /v1/services/web HTTP/1.1\r\n\r\n",
        "get /v1/services/web HTTP/1.1\r\n\r\n",
        "GET ",
        "GET",
        "",
    ])
    func turnedAway(request: String) {
        #expect(!Self.isGet(request))
    }
}
