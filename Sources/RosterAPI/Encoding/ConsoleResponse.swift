import Console
import HTTP

/// Answers for the web console: its files with validators, and the `/ui` → `/ui/` redirect.
public enum ConsoleResponse {
    /// 301, for `/ui` without its slash.
    public static let movedPermanently = HTTPStatus(code: 301, reason: "Moved Permanently")
    /// 304, for a revalidation whose `If-None-Match` names the current file.
    public static let notModified = HTTPStatus(code: 304, reason: "Not Modified")

    /// What the console's policy allows: its own scripts and styles only, and requests to any node (the
    /// member table asks every member for its status). Nothing from the internet can run in the page.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        + "connect-src 'self' http: https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// The response for a routed console request.
    ///
    /// Files carry `Cache-Control: no-cache` with a strong `ETag`: a browser revalidates on every load and gets
    /// an empty 304 while the binary is the same, so a node upgrade never leaves a stale page mixing old and new
    /// scripts.
    public static func encode(_ request: ConsoleRequest, context: ResponseContext) -> EncodedResponse {
        switch request {
        case .redirectToDirectory:
            var headers = context.headers(contentType: "text/plain; charset=utf-8")
            headers.append(("Location", "/ui/"))
            return EncodedResponse(status: movedPermanently, headers: headers, body: Array("see /ui/\n".utf8))
        case .asset(let name, let ifNoneMatch):
            guard let asset = ConsoleAssets.asset(named: name) else {
                preconditionFailure("routing admitted console asset \(name), which does not exist")
            }
            var headers = context.headers(contentType: asset.contentType)
            headers.append(("ETag", asset.etag))
            headers.append(("Cache-Control", "no-cache"))
            headers.append(("X-Content-Type-Options", "nosniff"))
            headers.append(("Content-Security-Policy", contentSecurityPolicy))
            if let ifNoneMatch, matches(ifNoneMatch, etag: asset.etag) {
                return EncodedResponse(status: notModified, headers: headers, body: [])
            }
            return EncodedResponse(status: .ok, headers: headers, body: asset.bytes)
        }
    }

    /// Whether an `If-None-Match` list names `etag` (or is `*`), comparing weakly as RFC 9110 §13.1.2 asks.
    static func matches(_ ifNoneMatch: String, etag: String) -> Bool {
        ifNoneMatch.split(separator: ",").contains { candidate in
            var tag = candidate.trimmingCharacters(in: " \t")
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
            return tag == etag
        }
    }
}
