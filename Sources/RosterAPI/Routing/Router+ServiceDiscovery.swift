import Registry
import RosterNode

/// `/v1/sd/prometheus`: service discovery for Prometheus' `http_sd_configs`.
extension Router {
    /// `GET /v1/sd/prometheus[?service=S][&namespace=N]`: the instances of one service, or of every service of
    /// the namespace, as target groups. Reads are serializable unless `consistency=linearizable` is asked:
    /// Prometheus refreshes often, and a scrape list a moment old is fine.
    func routePrometheusTargets() throws(APIError) -> RoutedRequest {
        try allow(["GET"])
        var query = try QueryReader(request.query)
        let namespace = try namespaceParameter(&query)
        let service = query.string("service")
        if let service { try checked(NameRules.checkSegment(service, field: "service", limits: limits)) }
        let asked = query.string("consistency")
        var options = try query.readOptions()
        if asked == nil { options.consistency = .serializable }
        try query.finish()
        try expectNoBody()
        let registryQuery: RegistryQuery =
            if let service {
                .instances(namespace: namespace, service: service)
            } else {
                .range(RangeRequest(.prefix(Array("\(namespace)/".utf8))))
            }
        return .prometheusTargets(registryQuery, options, ifNoneMatch: request.headers["If-None-Match"])
    }
}
