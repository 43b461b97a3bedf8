/// kitex `registry-etcd`'s `instanceInfo` as it stores it: `json.Marshal` of
/// `{Network "network", Address "address", Weight "weight", Tags "tags"}` under `<prefix>/<service>/<address>`.
///
/// Mapping: the address is the instance ID (kitex keys by it); one endpoint `<network>://<address>`
/// (`tcp://10.0.0.5:8888`); `weight` as is; `tags` as metadata. kitex has no version, status or incarnation.
/// Rendering a native instance uses its first endpoint with a `host:port`: the network is its scheme when that is
/// one kitex dials (`tcp`, `tcp4`, `tcp6`, `udp`), `tcp` otherwise.
enum KitexInstance {
    /// The instance described by a kitex document at `<prefix>/<service>/<address>`; nil when a field has the
    /// wrong type, the weight is not an integer in 0...2^32-1, or `address` disagrees with the key.
    static func instance(_ object: LayoutJSONObject, namespace: String, service: String, address: String) -> ServiceInstance? {
        guard let documentAddress = object.string("address"), documentAddress == address,
            let network = object.string("network"),
            let tags = object.stringMap("tags"),
            let weight = weight(object.field("weight"))
        else { return nil }
        return ServiceInstance(
            namespace: namespace, service: service, id: address,
            endpoints: ["\(network.isEmpty ? "tcp" : network)://\(address)"], metadata: tags, weight: weight)
    }

    /// A Go `int` weight that fits `ServiceInstance.weight`; absent or `null` is 0, as Go leaves it.
    private static func weight(_ value: LayoutJSON?) -> UInt32? {
        guard let value else { return 0 }
        guard case .number(let text) = value, let number = UInt32(text) else { return nil }
        return number
    }

    /// The document kitex would write for `instance` at `address`.
    static func json(of instance: ServiceInstance, network: String, address: String) -> [UInt8] {
        var writer = LayoutJSONWriter()
        writer.raw("{")
        writer.member("network", first: true) { $0.string(network) }
        writer.member("address") { $0.string(address) }
        writer.member("weight") { $0.raw(String(instance.weight)) }
        writer.member("tags") { $0.stringMap(instance.metadata) }
        writer.raw("}")
        return writer.bytes
    }

    /// Schemes kitex dials as the network of the same name.
    private static let networks: Set<String> = ["tcp", "tcp4", "tcp6", "udp"]

    /// The network and `host:port` kitex would dial for `instance`: from its first endpoint with an authority.
    static func networkAddress(of instance: ServiceInstance) -> (network: String, address: String)? {
        for endpoint in instance.endpoints {
            let bytes = Array(endpoint.utf8)
            guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), bytes[(colon + 1)...].starts(with: [0x2F, 0x2F])
            else { continue }
            let scheme = String(decoding: bytes[..<colon], as: UTF8.self).lowercased()
            let rest = bytes[(colon + 3)...]
            var authority = rest.prefix { $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") }
            if let at = authority.lastIndex(of: UInt8(ascii: "@")) { authority = authority[(at + 1)...] }
            guard !authority.isEmpty, authority.contains(UInt8(ascii: ":")) else { continue }
            return (networks.contains(scheme) ? scheme : "tcp", String(decoding: authority, as: UTF8.self))
        }
        return nil
    }
}
