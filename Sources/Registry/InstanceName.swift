/// The three names that locate an instance, and its key `<namespace>/<service>/<id>`.
public struct InstanceName: Hashable, Sendable {
    public var namespace: String
    public var service: String
    public var id: String

    public init(namespace: String, service: String, id: String) {
        self.namespace = namespace
        self.service = service
        self.id = id
    }

    /// The key of the instance record.
    public var key: [UInt8] { Array("\(namespace)/\(service)/\(id)".utf8) }

    /// The prefix of every instance key of a service, `<namespace>/<service>/`.
    public static func servicePrefix(namespace: String, service: String) -> [UInt8] {
        Array("\(namespace)/\(service)/".utf8)
    }

    /// The rejection for an invalid name, if any.
    public func validate(limits: RegistryLimits) -> RegistryRejection? {
        RegistryValidation.name(namespace, field: "namespace", limits: limits)
            ?? RegistryValidation.name(service, field: "service", limits: limits)
            ?? RegistryValidation.instanceID(id, limits: limits)
    }
}
