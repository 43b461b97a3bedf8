// Goal: the node serves its web console under /ui/ like a static file server should — the right file with its
// content type, an ETag that turns a revalidation into an empty 304, no-cache so upgrades show at once, and /ui
// redirected to /ui/ so relative links resolve — and refuses anything else with a typed error.
// Method: route requests through the real parser and router, encode the answers, compare with the assets.
import Console
import Foundation
import Raft
import Registry
import Testing

@testable import RosterAPI

@Suite("Web console routing")
struct ConsoleRoutingTests {
    @Test("/ui redirects to /ui/, which serves index.html")
    func redirect() throws {
        #expect(try routed("GET", "/ui") == .console(.redirectToDirectory))
        let response = ConsoleResponse.encode(.redirectToDirectory, context: testContext)
        #expect(response.status.code == 301)
        #expect(response.header("Location") == "/ui/")
        #expect(try routed("GET", "/ui/") == .console(.asset(name: "index.html", ifNoneMatch: nil)))
        #expect(try routed("GET", "/ui/index.html") == .console(.asset(name: "index.html", ifNoneMatch: nil)))
    }

    @Test("every asset is served with its bytes, content type, ETag and no-cache", arguments: ConsoleAssets.all.map(\.name))
    func servesAsset(name: String) throws {
        let asset = try #require(ConsoleAssets.asset(named: name))
        let routedRequest = try routed("GET", "/ui/\(name)?from=bookmark")
        #expect(routedRequest == .console(.asset(name: name, ifNoneMatch: nil)), "a query string is ignored")
        guard case .console(let request) = routedRequest else { return }
        let response = ConsoleResponse.encode(request, context: testContext)
        #expect(response.status.code == 200)
        #expect(response.body == asset.bytes)
        #expect(response.header("Content-Type") == asset.contentType)
        #expect(response.header("ETag") == asset.etag)
        #expect(response.header("Cache-Control") == "no-cache")
        #expect(response.header("X-Content-Type-Options") == "nosniff")
        #expect(response.header("Content-Security-Policy")?.contains("script-src 'self'") == true)
    }

    @Test("If-None-Match with the current ETag (strong, weak, in a list, or *) gets an empty 304")
    func notModified() throws {
        let asset = try #require(ConsoleAssets.asset(named: "app.js"))
        for header in [asset.etag, "W/\(asset.etag)", "\"other\", \(asset.etag)", "*"] {
            let routedRequest = try routed("GET", "/ui/app.js", headers: [("If-None-Match", header)])
            guard case .console(let request) = routedRequest else {
                Issue.record("routed to \(routedRequest)")
                continue
            }
            let response = ConsoleResponse.encode(request, context: testContext)
            #expect(response.status.code == 304, "\(header)")
            #expect(response.body.isEmpty)
            #expect(response.header("ETag") == asset.etag)
        }
        let stale = ConsoleResponse.encode(.asset(name: "app.js", ifNoneMatch: "\"0\""), context: testContext)
        #expect(stale.status.code == 200)
        #expect(stale.body == asset.bytes)
    }

    @Test("unknown files, deeper paths, other methods and bodies are refused with typed errors")
    func refusals() throws {
        #expect(try routingError("GET", "/ui/missing.js")?.code == "not_found")
        #expect(try routingError("GET", "/ui/missing.js")?.status.code == 404)
        #expect(try routingError("GET", "/ui/js/app.js")?.code == "not_found")
        #expect(try routingError("GET", "/ui/..%2FPackage.swift")?.code == "not_found")
        #expect(try routingError("POST", "/ui/")?.status.code == 405)
        #expect(try routingError("DELETE", "/ui")?.allowedMethods == ["GET"])
        #expect(try routingError("GET", "/ui/", bytes: Array("x".utf8))?.code == "unexpected_body")
        #expect(try routingError("GET", "/uix")?.code == "not_found")
    }

    @Test("cluster status is readable from another origin, for the member table of a console on another node")
    func statusAllowsCrossOrigin() throws {
        let report = ClusterStatusReport(
            name: "n1", id: NodeID(1), role: "leader", term: Term(7), leader: "n1", commitIndex: LogIndex(5),
            appliedIndex: LogIndex(5), revision: Revision(3), compactedRevision: .zero, leaderContactAgeMilliseconds: 0)
        let response = APIResponse.encodeStatus(report, context: testContext)
        #expect(response.header("Access-Control-Allow-Origin") == "*")
    }
}
