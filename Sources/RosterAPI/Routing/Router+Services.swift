import Registry
import RosterNode

/// `/v1/services…`: list services, list a service's instances, and register, update, read or remove one.
extension Router {
    func routeServices() throws(APIError) -> RoutedRequest {
        switch rawSegments.count {
        case 2:
            try allow(["GET"])
            var query = try QueryReader(request.query)
            let namespace = try namespaceParameter(&query)
            let options = try query.readOptions()
            try query.finish()
            try expectNoBody()
            return .node(.read(.services(namespace: namespace), options))
        case 3:
            try allow(["GET"])
            var query = try QueryReader(request.query)
            let namespace = try namespaceParameter(&query)
            let service = try segment(2, parameter: "service")
            try checked(NameRules.checkSegment(service, field: "service", limits: limits))
            let options = try query.readOptions()
            let revision = try query.revision("revision")
            try query.finish()
            try expectNoBody()
            if let revision { return .node(.read(.instancesAt(namespace: namespace, service: service, revision), options)) }
            return .node(.read(.instances(namespace: namespace, service: service), options))
        case 5 where rawSegments[3] == "instances":
            return try routeInstance()
        default:
            throw .noRoute(method, request.path)
        }
    }

    private func routeInstance() throws(APIError) -> RoutedRequest {
        try allow(["GET", "PUT", "PATCH", "DELETE"])
        var query = try QueryReader(request.query)
        let queryNamespace = query.string("namespace")
        let service = try segment(2, parameter: "service")
        let id = try segment(4, parameter: "id")
        switch method {
        case "GET":
            let options = try query.readOptions()
            let revision = try query.revision("revision")
            try query.finish()
            try expectNoBody()
            let name = try instanceName(queryNamespace ?? defaultNamespace, service, id)
            if let revision { return .node(.read(.instanceAt(name, revision), options)) }
            return .node(.read(.instance(name), options))
        case "DELETE":
            let incarnation = try query.uint64("incarnation")
            try query.finish()
            try expectNoBody()
            let name = try instanceName(queryNamespace ?? defaultNamespace, service, id)
            return .node(.write(.deregisterInstance(name, incarnation: incarnation)))
        case "PATCH":
            try query.finish()
            return try InstanceBody.update(
                try jsonBody(), service: service, id: id, queryNamespace: queryNamespace, limits: limits)
        default:
            try query.finish()
            return try InstanceBody.register(
                try jsonBody(), service: service, id: id, queryNamespace: queryNamespace, limits: limits)
        }
    }

    /// The namespace when a request gives none.
    var defaultNamespace: String { "default" }

    func namespaceParameter(_ query: inout QueryReader) throws(APIError) -> String {
        let namespace = query.string("namespace") ?? defaultNamespace
        try checked(NameRules.checkSegment(namespace, field: "namespace", limits: limits))
        return namespace
    }

    private func instanceName(_ namespace: String, _ service: String, _ id: String) throws(APIError) -> InstanceName {
        let name = InstanceName(namespace: namespace, service: service, id: id)
        try checked(NameRules.check(name, limits: limits))
        return name
    }
}

/// Throws the error for `rejection`, if any.
func checked(_ rejection: RegistryRejection?, field: String? = nil) throws(APIError) {
    if let rejection { throw APIError(rejection: rejection, field: field) }
}
