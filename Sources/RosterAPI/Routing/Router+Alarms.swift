import RosterNode

/// `/v1/alarms`: list (GET, from the node's applied state) and disarm (DELETE, a replicated write).
extension Router {
    func routeAlarms() throws(APIError) -> RoutedRequest {
        try allow(["GET", "DELETE"])
        let query = try QueryReader(request.query)
        try query.finish()
        try expectNoBody()
        return method == "GET" ? .alarms : .node(.write(AlarmDirectory.disarmAll))
    }
}
