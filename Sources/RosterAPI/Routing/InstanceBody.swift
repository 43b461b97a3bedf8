import HTTP
import Registry
import RosterNode

/// Decodes the bodies of `PUT` (register) and `PATCH` (update) on an instance.
enum InstanceBody {
    static let registerFields = [
        "namespace", "version", "endpoints", "metadata", "weight", "status", "incarnation", "ttl", "lease",
    ]
    static let updateFields = ["namespace", "status", "weight", "metadata", "incarnation"]

    /// Weights stay within `Int32` although the registry stores `UInt32`, so that clients in languages
    /// whose natural integer is a signed 32-bit one never see a value they cannot hold.
    static let weightRange: ClosedRange<UInt64> = 0...UInt64(Int32.max)

    /// `PUT /v1/services/{service}/instances/{id}`.
    static func register(
        _ body: JSONValue, service: String, id: String, queryNamespace: String?, limits: RegistryLimits
    ) throws(APIError) -> RoutedRequest {
        var fields = try JSONFields(body, path: "", allowed: registerFields)
        let namespace = try namespace(&fields, queryNamespace: queryNamespace)
        var instance = ServiceInstance(namespace: namespace, service: service, id: id)
        try checked(NameRules.check(instance.name, limits: limits))
        if let version = fields.take("version") {
            instance.version = try version.string("version")
            try checked(NameRules.checkVersion(instance.version, limits: limits))
        }
        let endpoints = try fields.require("endpoints", hint: "a list of URLs such as [\"grpc://10.0.0.5:9000\"]")
        instance.endpoints = try strings(endpoints, field: "endpoints", limit: limits.endpointsPerInstance) {
            (count: Int) -> RegistryRejection in .tooManyEndpoints(count: count, limit: limits.endpointsPerInstance)
        }
        for endpoint in instance.endpoints { try checked(NameRules.checkEndpoint(endpoint, limits: limits)) }
        if let metadata = fields.take("metadata") { instance.metadata = try self.metadata(metadata, limits: limits) }
        if let weight = fields.take("weight") { instance.weight = UInt32(try weight.uint64("weight", in: weightRange)) }
        if let status = fields.take("status") { instance.status = try self.status(status) }
        if let incarnation = fields.take("incarnation") { instance.incarnation = try incarnation.uint64("incarnation") }
        let ttl = fields.take("ttl")
        let lease = fields.take("lease")
        try fields.finish()
        switch (ttl, lease) {
        case (.some, .some):
            throw .invalidField(
                "ttl", "cannot be combined with lease; give ttl to have a lease granted, or lease to reuse one")
        case (.some(let ttl), nil):
            let milliseconds = try DurationText.milliseconds(ttl, field: "ttl")
            try checkTTL(milliseconds, limits: limits)
            return .node(.registerWithLease(instance, ttlMilliseconds: milliseconds))
        case (nil, .some(let lease)):
            instance.lease = try leaseID(lease, field: "lease")
            return .node(.write(.registerInstance(instance)))
        case (nil, nil):
            return .node(.write(.registerInstance(instance)))
        }
    }

    /// `PATCH /v1/services/{service}/instances/{id}`.
    static func update(
        _ body: JSONValue, service: String, id: String, queryNamespace: String?, limits: RegistryLimits
    ) throws(APIError) -> RoutedRequest {
        var fields = try JSONFields(body, path: "", allowed: updateFields)
        let namespace = try namespace(&fields, queryNamespace: queryNamespace)
        let name = InstanceName(namespace: namespace, service: service, id: id)
        try checked(NameRules.check(name, limits: limits))
        // Absent: the live incarnation (an operator by hand); present: fenced, as a client process sends it.
        let incarnation = try fields.take("incarnation")?.uint64("incarnation")
        var update = InstanceUpdate(name: name, incarnation: incarnation)
        if let status = fields.take("status") { update.status = try self.status(status) }
        if let weight = fields.take("weight") { update.weight = UInt32(try weight.uint64("weight", in: weightRange)) }
        if let metadata = fields.take("metadata") { update.metadata = try self.metadata(metadata, limits: limits) }
        try fields.finish()
        if update.status == nil && update.weight == nil && update.metadata == nil {
            throw APIError(
                status: .badRequest, code: "missing_field",
                message: "nothing to update; give at least one of status, weight, metadata")
        }
        return .node(.write(.updateInstance(update)))
    }

    // MARK: - Fields

    /// The namespace from the body or the query (which must agree when both are given), else the default.
    private static func namespace(_ fields: inout JSONFields, queryNamespace: String?) throws(APIError) -> String {
        let bodyNamespace = try fields.take("namespace")?.string("namespace")
        if let bodyNamespace, let queryNamespace, bodyNamespace != queryNamespace {
            throw .invalidField(
                "namespace", "is \"\(bodyNamespace)\" but the query says \"\(queryNamespace)\"; give it once")
        }
        return bodyNamespace ?? queryNamespace ?? "default"
    }

    private static func status(_ value: JSONValue) throws(APIError) -> InstanceStatus {
        switch try value.string("status") {
        case "up": return .up
        case "draining": return .draining
        case let other: throw .invalidField("status", "must be \"up\" or \"draining\", got \(JSONText.quote(other))")
        }
    }

    private static func metadata(_ value: JSONValue, limits: RegistryLimits) throws(APIError) -> [String: String] {
        guard case .object(let members) = value else {
            throw .invalidField("metadata", "must be an object of string values, got \(value.typeDescription)")
        }
        // Checked before building the dictionary, so an oversized map costs no more than its parse.
        if members.count > limits.metadataEntries {
            try checked(.tooManyMetadataEntries(count: members.count, limit: limits.metadataEntries))
        }
        // The parser refused duplicate names, so every member is one entry.
        var metadata: [String: String] = Dictionary(minimumCapacity: members.count)
        for member in members {
            // The field name is only built for the error message.
            guard case .string(let text) = member.value else {
                _ = try member.value.string("metadata.\(member.name)")
                continue
            }
            if metadata[member.name] == nil { metadata[member.name] = text }
        }
        try checked(NameRules.checkMetadata(metadata, limits: limits))
        return metadata
    }

    /// A list of strings, refusing more than `limit` before reading them.
    private static func strings(
        _ value: JSONValue, field: String, limit: Int, tooMany: (Int) -> RegistryRejection
    ) throws(APIError) -> [String] {
        let elements = try value.array(field)
        if elements.count > limit { try checked(tooMany(elements.count)) }
        var result: [String] = []
        for (position, element) in elements.enumerated() { result.append(try element.string("\(field)[\(position)]")) }
        return result
    }
}

/// A lease ID from a JSON value: a positive integer (0 is reserved for "no lease").
func leaseID(_ value: JSONValue, field: String) throws(APIError) -> LeaseID {
    let raw = try value.uint64(field)
    if raw == 0 { try checked(.invalidLeaseID, field: field) }
    return LeaseID(raw)
}

/// Refuses a TTL outside the registry's bounds, with the registry's code.
func checkTTL(_ milliseconds: Int64, limits: RegistryLimits, field: String = "ttl") throws(APIError) {
    if milliseconds < limits.minimumTTLMilliseconds || milliseconds > limits.maximumTTLMilliseconds {
        try checked(
            .ttlOutOfRange(
                ttlMilliseconds: milliseconds, minimum: limits.minimumTTLMilliseconds,
                maximum: limits.maximumTTLMilliseconds), field: field)
    }
}
