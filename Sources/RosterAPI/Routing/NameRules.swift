import Registry

/// The registry's input rules as the router uses them. The rules themselves live in
/// `RegistryValidation`, so the HTTP layer and the state machine can never disagree; this file only
/// adapts them to the router's inputs.
enum NameRules {
    static func checkSegment(_ name: String, field: String, limits: RegistryLimits) -> RegistryRejection? {
        RegistryValidation.name(name, field: field, limits: limits)
    }

    static func check(_ name: InstanceName, limits: RegistryLimits) -> RegistryRejection? {
        name.validate(limits: limits)
    }

    /// A cluster member name, held to the namespace rules so it is safe in paths and headers.
    static func checkMemberName(_ name: String, field: String, limits: RegistryLimits) -> RegistryRejection? {
        RegistryValidation.name(name, field: field, limits: limits)
    }

    static func checkVersion(_ version: String, limits: RegistryLimits) -> RegistryRejection? {
        RegistryValidation.version(version, limits: limits)
    }

    /// Metadata as parsed from JSON (the parser already refused duplicate keys).
    static func checkMetadata(_ metadata: [String: String], limits: RegistryLimits) -> RegistryRejection? {
        RegistryValidation.metadata(metadata, limits: limits)
    }

    static func checkEndpoint(_ endpoint: String, limits: RegistryLimits) -> RegistryRejection? {
        RegistryValidation.endpoint(endpoint, limits: limits)
    }

    static func checkHostPort(_ address: String) -> String? {
        RegistryValidation.hostPort(address)
    }
}
