import Registry
import RosterNode

/// `/v1/cluster/…`: members, status, leadership transfer and state hashes.
extension Router {
    func routeCluster() throws(APIError) -> RoutedRequest {
        let segments = rawSegments
        var query = try QueryReader(request.query)
        switch (segments.count, segments.count > 2 ? segments[2] : "") {
        case (3, "members"):
            try allow(["GET", "POST"])
            try query.finish()
            if method == "GET" {
                try expectNoBody()
                return .members
            }
            var fields = try JSONFields(try jsonBody(), path: "", allowed: ["name", "peer_address"])
            let name = try fields.require("name", hint: "the new member's name").string("name")
            let address = try fields.require("peer_address", hint: "\"host:port\" of its peer listener").string(
                "peer_address")
            try fields.finish()
            try checked(NameRules.checkMemberName(name, field: "name", limits: limits))
            if let problem = NameRules.checkHostPort(address) {
                throw .invalidField("peer_address", "is invalid (\(problem)); use host:port")
            }
            return .node(.admin(.addLearner(name: name, peerAddress: address)))
        case (4, "members"):
            try allow(["PATCH", "DELETE"])
            try query.finish()
            let name = try memberSegment()
            guard method == "PATCH" else {
                try expectNoBody()
                return .node(.admin(.remove(name: name)))
            }
            // etcd's MemberUpdate: a new peer address, replicated through the member directory.
            var fields = try JSONFields(try jsonBody(), path: "", allowed: ["peer_address"])
            let address = try fields.require("peer_address", hint: "\"host:port\" of its peer listener").string(
                "peer_address")
            try fields.finish()
            if let problem = NameRules.checkHostPort(address) {
                throw .invalidField("peer_address", "is invalid (\(problem)); use host:port")
            }
            return .node(.admin(.updatePeerAddress(name: name, peerAddress: address)))
        case (5, "members") where segments[4] == "promote":
            try allow(["POST"])
            try query.finish()
            try expectNoBody()
            return .node(.admin(.promote(name: try memberSegment())))
        case (3, "status"):
            try allow(["GET"])
            try query.finish()
            try expectNoBody()
            return .clusterStatus
        case (3, "transfer-leadership"):
            try allow(["POST"])
            try query.finish()
            var fields = try JSONFields(try jsonBody(emptyIsObject: true), path: "", allowed: ["to"])
            let target = try fields.take("to")?.string("to")
            try fields.finish()
            if let target { try checked(NameRules.checkMemberName(target, field: "to", limits: limits)) }
            return .node(.admin(.transferLeadership(to: target)))
        case (3, "hash"):
            try allow(["GET"])
            let revision = try query.revision("revision")
            let options = try query.readOptions()
            try query.finish()
            try expectNoBody()
            return .node(.read(.hash(revision), options))
        default:
            throw .noRoute(method, request.path)
        }
    }

    private func memberSegment() throws(APIError) -> String {
        let name = try segment(3, parameter: "member name")
        try checked(NameRules.checkMemberName(name, field: "member name", limits: limits))
        return name
    }
}
