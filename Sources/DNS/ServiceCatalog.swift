import Registry

/// The read-only view of a node's registry the answerer needs: one service's instances, whether a
/// namespace exists, and a serial that moves whenever the registry does.
///
/// A protocol rather than `RegistryState` itself so answerer tests can hand in a few instances directly;
/// `RegistryState` conforms below, which is what the server passes.
public protocol ServiceCatalog {
    /// Every live instance of the service whatever its status; empty when the service has none (a service
    /// exists exactly while it has instances). Names are matched as DNS labels came in, see the conformance.
    func dnsInstances(namespace: String, service: String) -> [ServiceInstance]
    /// Whether any service of `namespace` has instances.
    func dnsHasNamespace(_ namespace: String) -> Bool
    /// The SOA serial: the registry revision, truncated to 32 bits (RFC 1982 arithmetic tolerates the wrap).
    var dnsSerial: UInt32 { get }
}

extension RegistryState: ServiceCatalog {
    /// Registry names are case-sensitive and DNS names are not, and resolvers may change the case of a
    /// query: the exact spelling is tried first, then the lower-cased one, then a case-insensitive match
    /// among the namespace's services.
    public func dnsInstances(namespace: String, service: String) -> [ServiceInstance] {
        for candidate in Self.spellings(namespace) {
            if let found = try? instances(namespace: candidate, service: service), !found.records.isEmpty {
                return found.instances
            }
            let lowered = service.lowercased()
            if lowered != service, let found = try? instances(namespace: candidate, service: lowered),
               !found.records.isEmpty {
                return found.instances
            }
            guard let listed = try? services(namespace: candidate) else { continue }
            if let match = listed.services.first(where: { $0.name.lowercased() == lowered }),
               let found = try? instances(namespace: candidate, service: match.name) {
                return found.instances
            }
        }
        return []
    }

    public func dnsHasNamespace(_ namespace: String) -> Bool {
        Self.spellings(namespace).contains { candidate in
            (try? services(namespace: candidate))?.services.isEmpty == false
        }
    }

    public var dnsSerial: UInt32 { UInt32(truncatingIfNeeded: revision.rawValue) }

    private static func spellings(_ name: String) -> [String] {
        let lowered = name.lowercased()
        return lowered == name ? [name] : [name, lowered]
    }
}
