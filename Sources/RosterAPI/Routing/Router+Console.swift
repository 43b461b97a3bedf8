import Console

/// `/ui`: the web console compiled into the node (module `Console`).
extension Router {
    /// `GET /ui` redirects to `/ui/`; `GET /ui/` and `/ui/{file}` serve the console's files. A query string is
    /// ignored, unlike on the API: it belongs to the page (a browser may carry one), not to the file.
    func routeConsole() throws(APIError) -> RoutedRequest {
        try allow(["GET"])
        try expectNoBody()
        let segments = rawSegments
        if segments.count == 1 { return .console(.redirectToDirectory) }
        let name = segments[1].isEmpty ? "index.html" : String(segments[1])
        guard segments.count == 2, ConsoleAssets.asset(named: name) != nil else {
            throw APIError(
                status: .notFound, code: "not_found",
                message: "the web console has no file at \(request.path); open /ui/")
        }
        return .console(.asset(name: name, ifNoneMatch: request.headers["If-None-Match"]))
    }
}
