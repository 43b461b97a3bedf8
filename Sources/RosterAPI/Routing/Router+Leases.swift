import Registry
import RosterNode

/// `/v1/leases…`: grant, list, read, renew and revoke leases.
extension Router {
    func routeLeases() throws(APIError) -> RoutedRequest {
        var query = try QueryReader(request.query)
        switch rawSegments.count {
        case 2:
            try allow(["GET", "POST"])
            if method == "GET" {
                let options = try query.readOptions()
                try query.finish()
                try expectNoBody()
                return .node(.read(.leases, options))
            }
            try query.finish()
            return try grant(try jsonBody())
        case 3:
            try allow(["GET", "DELETE"])
            let id = try leaseSegment()
            if method == "GET" {
                let includeKeys = try query.bool("keys")
                let options = try query.readOptions()
                try query.finish()
                try expectNoBody()
                return .node(.read(.lease(id, includeKeys: includeKeys), options))
            }
            try query.finish()
            try expectNoBody()
            return .node(.write(.revokeLease(id)))
        case 4 where rawSegments[3] == "keepalive":
            try allow(["POST"])
            let id = try leaseSegment()
            let stream = try query.bool("stream")
            try query.finish()
            if stream { return .keepAliveStream(id) }
            try expectNoBody()
            return .node(.keepAlive(id))
        default:
            throw .noRoute(method, request.path)
        }
    }

    /// The lease ID in the path: a positive decimal integer.
    private func leaseSegment() throws(APIError) -> LeaseID {
        let text = try segment(2, parameter: "lease id")
        guard let raw = DecimalText.uint64(text) else {
            throw .invalidParameter("lease id", "must be a positive integer, got \"\(text)\"")
        }
        if raw == 0 { try checked(.invalidLeaseID, field: "lease id") }
        return LeaseID(raw)
    }

    /// `POST /v1/leases` with `{"ttl": "10s", "id"?: n}`. The command's grant time is 0 here: the
    /// node stamps its own clock when it proposes the grant.
    private func grant(_ body: JSONValue) throws(APIError) -> RoutedRequest {
        var fields = try JSONFields(body, path: "", allowed: ["ttl", "id"])
        let ttl = try DurationText.milliseconds(
            try fields.require("ttl", hint: "a duration such as \"10s\""), field: "ttl")
        let id = try fields.take("id").map { (value) throws(APIError) in try leaseID(value, field: "id") }
        try fields.finish()
        try checkTTL(ttl, limits: limits)
        return .node(.write(.grantLease(id: id, ttlMilliseconds: ttl, grantedAtMilliseconds: 0)))
    }
}
