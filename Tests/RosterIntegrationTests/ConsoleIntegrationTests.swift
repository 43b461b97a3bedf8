// Goal: a real node serves the web console compiled into it: /ui redirects to /ui/, the page and its modules
// come with their content types and ETags, a revalidation gets an empty 304, and a missing file a typed 404.
// Method: one real roster process; raw HTTP/1.1 requests over loopback, headers read as the browser would.
import Foundation
import RosterTestSupport
import Testing

@Suite("Web console served by a real node", .serialized)
struct ConsoleIntegrationTests {
    @Test("/ui/ and its files are served with validators; a matching If-None-Match gets 304")
    func servesConsole() throws {
        let cluster = try ProcessCluster(size: 1)
        try cluster.startAll()
        _ = try cluster.waitForLeader()
        let port = cluster.nodes[0].clientPort

        let redirect = try #require(cluster.request("GET", "/ui", on: 0))
        #expect(redirect.status == 301)
        #expect(redirect.headers["location"] == "/ui/")

        let page = try #require(cluster.request("GET", "/ui/", on: 0))
        #expect(page.status == 200)
        #expect(page.headers["content-type"] == "text/html; charset=utf-8")
        #expect(page.headers["cache-control"] == "no-cache")
        #expect(page.text.contains("<script type=\"module\" src=\"app.js\"></script>"))
        let etag = try #require(page.headers["etag"])

        let head = "GET /ui/ HTTP/1.1\r\nHost: 127.0.0.1\r\nIf-None-Match: \(etag)\r\nConnection: close\r\n\r\n"
        let revalidated = try #require(TestHTTP.request("GET", port: port, path: "/ui/", raw: Array(head.utf8)))
        #expect(revalidated.status == 304)
        #expect(revalidated.body.isEmpty)

        let script = try #require(cluster.request("GET", "/ui/app.js", on: 0))
        #expect(script.status == 200)
        #expect(script.headers["content-type"] == "text/javascript; charset=utf-8")
        #expect(script.headers["etag"] != etag)

        let missing = try #require(cluster.request("GET", "/ui/missing.js", on: 0))
        #expect(missing.status == 404)
        #expect((missing.json?["error"] as? [String: Any])?["code"] as? String == "not_found")

        let status = try #require(cluster.request("GET", "/v1/cluster/status", on: 0))
        #expect(status.headers["access-control-allow-origin"] == "*")
    }
}
