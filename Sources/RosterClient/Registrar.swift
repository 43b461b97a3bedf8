/// go-kratos' `Registrar`: register and deregister an instance of this process.
///
/// `RegistrationSession` implements it with a lease it keeps alive and renews after loss.
public protocol Registrar: Sendable {
    /// Registers (or updates) `instance` and keeps it registered.
    @discardableResult
    func register(_ instance: ServiceInstance) async throws -> ServiceInstance
    /// Removes `instance`.
    func deregister(_ instance: ServiceInstance) async throws
}

/// go-kratos' `Discovery`: fetch a service's instances, or watch them.
public protocol Discovery: Sendable {
    /// The service's live instances now.
    func fetch(service: String) async throws -> [ServiceInstance]
    /// A live cache of the service, yielding full lists (`lists()`) and changes (`changes()`).
    func watchInstances(service: String) -> InstanceCache
}

extension RegistrationSession: Registrar {}

extension RosterClient: Discovery {
    public func fetch(service: String) async throws -> [ServiceInstance] {
        try await instances(of: service).instances
    }

    public nonisolated func watchInstances(service: String) -> InstanceCache {
        InstanceCache(client: self, service: service)
    }
}
