/// Where a Go framework's etcd registry keeps its instances, and which namespace they are in natively.
///
/// A layout makes one key space serve two models at once: a key `<prefix>/<service>/<tail>` written through the
/// etcd API whose value is the framework's JSON is also a typed `ServiceInstance` in `namespace` (visible in
/// `/v1/services`, native watches and rosterctl), and an instance registered natively in `namespace` is also a
/// key at the layout holding the framework's JSON (visible to etcd clients). `RegistryState` keeps the two as one
/// pair of records written and removed at one revision; see `LayoutLink`.
///
/// Every member MUST run with the same layouts, like the same `RegistryLimits`: layouts decide what a command
/// writes.
public struct FrameworkLayout: Hashable, Sendable, CustomStringConvertible {
    /// The registries Roster understands.
    public enum Framework: String, Hashable, Sendable, CaseIterable {
        /// go-kratos `contrib/registry/etcd`: `<prefix>/<name>/<id>` holding `ServiceInstance` JSON
        /// (`id`, `name`, `version`, `metadata`, `endpoints`).
        case kratos
        /// kitex `registry-etcd`: `<prefix>/<service>/<host:port>` holding `{network, address, weight, tags}`.
        case kitex

        /// The JSON fields the framework's registry writes, in lower case.
        var fields: [String] {
            switch self {
            case .kratos: ["id", "name", "version", "metadata", "endpoints"]
            case .kitex: ["network", "address", "weight", "tags"]
            }
        }
    }

    public var framework: Framework
    /// The key prefix without a trailing slash, for example `/microservices`; it contains at least one `/`, so a
    /// layout key (three or more slashes) is never also a native `<namespace>/<service>/<id>` key (two).
    public let prefix: String
    /// The native namespace the layout's instances are in.
    public var namespace: String
    /// The key prefix every key of the layout starts with, `<prefix>/`: kept, since every put asks every layout
    /// whether its key starts with it.
    public let keyPrefix: [UInt8]

    /// A layout; a trailing `/` on `prefix` is dropped.
    public init(framework: Framework, prefix: String, namespace: String = "default") {
        self.framework = framework
        var prefix = prefix
        while prefix.count > 1 && prefix.hasSuffix("/") { prefix.removeLast() }
        self.prefix = prefix
        self.namespace = namespace
        keyPrefix = Array((prefix + "/").utf8)
    }

    /// Both frameworks at their standard prefixes, in namespace `default`: what a server runs with unless told
    /// otherwise.
    public static let standard: [FrameworkLayout] = [
        FrameworkLayout(framework: .kratos, prefix: "/microservices"),
        FrameworkLayout(framework: .kitex, prefix: "kitex/registry-etcd"),
    ]

    /// `kratos=/microservices`, or `kratos@prod=/microservices` outside namespace `default`: the flag syntax.
    public var description: String {
        framework.rawValue + (namespace == "default" ? "" : "@" + namespace) + "=" + prefix
    }

    /// The key `<prefix>/<service>/<tail>`.
    func key(service: String, tail: String) -> [UInt8] { Array("\(prefix)/\(service)/\(tail)".utf8) }

    /// The service and tail of a key `<prefix>/<service>/<tail>` (both non-empty, neither with a `/`), or nil for
    /// any other key.
    func split(_ key: [UInt8]) -> (service: String, tail: String)? {
        let head = keyPrefix
        guard key.count > head.count, hasBytePrefix(key, head) else { return nil }
        let rest = key[head.count...]
        guard let slash = rest.firstIndex(of: UInt8(ascii: "/")), slash > rest.startIndex, slash + 1 < rest.endIndex,
            !rest[(slash + 1)...].contains(UInt8(ascii: "/")),
            let service = String(validating: rest[..<slash], as: UTF8.self),
            let tail = String(validating: rest[(slash + 1)...], as: UTF8.self)
        else { return nil }
        return (service, tail)
    }

    /// The instance a value at `key` describes, or nil when the key is not this layout's or the value is not the
    /// framework's JSON for a valid instance named by the key (then the key is a plain key). Lease and
    /// incarnation are left for the state to fill in.
    public func instance(key: [UInt8], value: [UInt8], limits: RegistryLimits) -> ServiceInstance? {
        guard let (service, tail) = split(key), let json = LayoutJSON.parse(value, keeping: framework.fields),
            let object = LayoutJSONObject(json)
        else { return nil }
        let instance: ServiceInstance?
        switch framework {
        case .kratos: instance = KratosInstance.instance(object, namespace: namespace, service: service, id: tail)
        case .kitex: instance = KitexInstance.instance(object, namespace: namespace, service: service, address: tail)
        }
        guard let instance, instance.validate(limits: limits) == nil else { return nil }
        return instance
    }

    /// The key and value showing `instance` at this layout, or nil when the layout cannot show it (another
    /// namespace; for kitex, no endpoint with a `host:port`).
    public func rendering(of instance: ServiceInstance) -> (key: [UInt8], value: [UInt8])? {
        guard instance.namespace == namespace else { return nil }
        switch framework {
        case .kratos:
            return (key(service: instance.service, tail: instance.id), KratosInstance.json(of: instance))
        case .kitex:
            guard let (network, address) = KitexInstance.networkAddress(of: instance), !address.contains("/") else {
                return nil
            }
            return (key(service: instance.service, tail: address),
                    KitexInstance.json(of: instance, network: network, address: address))
        }
    }
}

// MARK: - Configuration

/// A layout setting that cannot work, with what to change.
public enum LayoutConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not `FRAMEWORK[@NAMESPACE]=PREFIX`, or an unknown framework.
    case malformed(String)
    /// The prefix is empty, too long, has no `/` or has an empty segment.
    case invalidPrefix(String, reason: String)
    /// The namespace is not a valid native namespace.
    case invalidNamespace(String)
    /// One prefix is inside another, so a key would belong to two layouts.
    case overlappingPrefixes(String, String)

    public var description: String {
        switch self {
        case .malformed(let text):
            "'\(text)' is not FRAMEWORK[@NAMESPACE]=PREFIX with FRAMEWORK kratos or kitex (or 'none')"
        case .invalidPrefix(let prefix, let reason): "layout prefix '\(prefix)': \(reason)"
        case .invalidNamespace(let namespace):
            "layout namespace '\(namespace)' is not a valid namespace ([A-Za-z0-9._-], 1-128 bytes)"
        case .overlappingPrefixes(let a, let b): "layout prefixes '\(a)' and '\(b)' overlap; a key would be in both"
        }
    }
}

extension FrameworkLayout {
    /// Longest prefix accepted, so that a layout key of the longest names stays far below `keyBytes`.
    public static let maximumPrefixBytes = 512

    /// Parses `FRAMEWORK[@NAMESPACE]=PREFIX`, for example `kitex=kitex/registry-etcd` or
    /// `kratos@prod=/microservices`.
    public static func parse(_ text: String) throws(LayoutConfigurationError) -> FrameworkLayout {
        guard let equals = text.firstIndex(of: "=") else { throw .malformed(text) }
        let head = text[..<equals]
        let prefix = String(text[text.index(after: equals)...])
        let parts = head.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        guard let framework = Framework(rawValue: String(parts[0])) else { throw .malformed(text) }
        let layout = FrameworkLayout(
            framework: framework, prefix: prefix, namespace: parts.count == 2 ? String(parts[1]) : "default")
        try layout.validate()
        return layout
    }

    /// Checks one layout on its own.
    public func validate() throws(LayoutConfigurationError) {
        if RegistryValidation.name(namespace, field: "namespace", limits: .standard) != nil {
            throw .invalidNamespace(namespace)
        }
        let bytes = Array(prefix.utf8)
        if bytes.isEmpty || prefix == "/" { throw .invalidPrefix(prefix, reason: "empty") }
        if bytes.count > Self.maximumPrefixBytes {
            throw .invalidPrefix(prefix, reason: "\(bytes.count) bytes, limit \(Self.maximumPrefixBytes)")
        }
        if !bytes.contains(UInt8(ascii: "/")) {
            throw .invalidPrefix(prefix, reason: "needs a '/' (write /\(prefix)), or its keys would look like native <namespace>/<service>/<id> keys")
        }
        if bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) { throw .invalidPrefix(prefix, reason: "control character") }
        if prefix.dropFirst().contains("//") { throw .invalidPrefix(prefix, reason: "empty segment") }
    }

    /// Checks a set of layouts: each valid, and no key under two of them.
    public static func validate(_ layouts: [FrameworkLayout]) throws(LayoutConfigurationError) {
        for layout in layouts { try layout.validate() }
        for (position, layout) in layouts.enumerated() {
            for other in layouts[(position + 1)...]
            where layout.keyPrefix.starts(with: other.keyPrefix) || other.keyPrefix.starts(with: layout.keyPrefix) {
                throw .overlappingPrefixes(layout.prefix, other.prefix)
            }
        }
    }
}
