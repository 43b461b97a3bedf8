/// The input rules of the registry, public so that the HTTP layer fails fast with exactly the same
/// verdicts and codes; `apply` checks them again when a command commits, so no path skips them.
public enum RegistryValidation {
    /// A name segment: non-empty, within `nameBytes`, letters, digits, `.`, `_`, `-` and `extra`, and not
    /// made only of dots.
    /// Slashes are forbidden since they separate key segments.
    public static func name(_ name: String, field: String, limits: RegistryLimits, extra: [UInt8] = []) -> RegistryRejection? {
        let bytes = name.utf8
        if bytes.isEmpty { return .invalidName(field: field, name: name, reason: "empty") }
        if bytes.count > limits.nameBytes {
            return .invalidName(field: field, name: name, reason: "\(bytes.count) bytes, limit \(limits.nameBytes)")
        }
        for byte in bytes
        where !(isAlphanumeric(byte) || byte == 0x2E || byte == 0x5F || byte == 0x2D || extra.contains(byte)) {
            return .invalidName(field: field, name: name, reason: "byte 0x\(String(byte, radix: 16)) not allowed")
        }
        // `.`, `..` and longer runs of dots are path dot-segments: clients and proxies normalise them away
        // (RFC 3986 §5.2.4), so a record under such a name could never be reached again through them.
        if bytes.allSatisfy({ $0 == 0x2E }) {
            return .invalidName(field: field, name: name, reason: "a name made only of dots")
        }
        return nil
    }

    /// An instance ID: as a segment, plus `:` and `@` (so `host:port` and `name@host` IDs work).
    public static func instanceID(_ id: String, limits: RegistryLimits) -> RegistryRejection? {
        name(id, field: "id", limits: limits, extra: idExtraBytes)
    }

    private static let idExtraBytes: [UInt8] = [UInt8(ascii: ":"), UInt8(ascii: "@")]

    /// A version string: up to `versionBytes`, no control characters.
    public static func version(_ version: String, limits: RegistryLimits) -> RegistryRejection? {
        if version.utf8.count > limits.versionBytes {
            return .invalidName(
                field: "version", name: version, reason: "\(version.utf8.count) bytes, limit \(limits.versionBytes)")
        }
        if version.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            return .invalidName(field: "version", name: version, reason: "control character")
        }
        return nil
    }

    /// Metadata: at most `metadataEntries`, no empty key, each entry within `metadataEntryBytes`.
    public static func metadata(_ metadata: [String: String], limits: RegistryLimits) -> RegistryRejection? {
        if metadata.count > limits.metadataEntries {
            return .tooManyMetadataEntries(count: metadata.count, limit: limits.metadataEntries)
        }
        // Checked in any order first (cheap); only a failure pays for sorting, so that the entry
        // reported is the same on every node.
        let isValid = { (key: String, value: String) in
            !key.isEmpty && key.utf8.count + value.utf8.count <= limits.metadataEntryBytes
        }
        if metadata.allSatisfy(isValid) { return nil }
        for key in metadata.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let size = key.utf8.count + (metadata[key]?.utf8.count ?? 0)
            if key.isEmpty { return .invalidMetadataEntry(key: key, reason: "empty key") }
            if size > limits.metadataEntryBytes {
                return .invalidMetadataEntry(key: key, reason: "\(size) bytes, limit \(limits.metadataEntryBytes)")
            }
        }
        return nil
    }

    /// An endpoint URL `scheme://[userinfo@]host[:port][/path…]`.
    public static func endpoint(_ endpoint: String, limits: RegistryLimits) -> RegistryRejection? {
        let bytes = Array(endpoint.utf8)
        if bytes.count > limits.endpointBytes {
            return .invalidEndpoint(endpoint, reason: "\(bytes.count) bytes, limit \(limits.endpointBytes)")
        }
        if bytes.contains(where: { $0 <= 0x20 || $0 == 0x7F }) {
            return .invalidEndpoint(endpoint, reason: "space or control character")
        }
        guard let separator = findSchemeSeparator(in: bytes), separator > 0 else {
            return .invalidEndpoint(endpoint, reason: "expected scheme://host:port")
        }
        guard isLetter(bytes[0]) else { return .invalidEndpoint(endpoint, reason: "scheme must start with a letter") }
        for byte in bytes[1..<separator] where !(isAlphanumeric(byte) || byte == 0x2B || byte == 0x2D || byte == 0x2E) {
            return .invalidEndpoint(endpoint, reason: "invalid scheme character")
        }
        let rest = bytes[(separator + 3)...]
        let authorityEnd = rest.firstIndex { $0 == 0x2F || $0 == 0x3F || $0 == 0x23 } ?? rest.endIndex
        var authority = rest[rest.startIndex..<authorityEnd]
        if let at = authority.lastIndex(of: UInt8(ascii: "@")) { authority = authority[(at + 1)...] }
        if authority.isEmpty {
            // `unix:///run/app.sock` and the like name a path, not a host.
            return authorityEnd == rest.endIndex
                ? .invalidEndpoint(endpoint, reason: "expected scheme://host:port") : nil
        }
        return checkAuthority(authority).map { .invalidEndpoint(endpoint, reason: $0) }
    }

    /// A problem with `host[:port]`, or nil.
    static func checkAuthority(_ authority: ArraySlice<UInt8>) -> String? {
        var host = authority
        var port: ArraySlice<UInt8>? = nil
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else { return "unterminated IPv6 literal" }
            host = authority[(authority.startIndex + 1)..<close]
            let after = authority[(close + 1)...]
            if !after.isEmpty {
                guard after.first == UInt8(ascii: ":") else { return "unexpected text after IPv6 literal" }
                port = after.dropFirst()
            }
            if host.isEmpty || host.contains(where: { !(isHexDigit($0) || $0 == 0x3A || $0 == 0x2E) }) {
                return "invalid IPv6 literal"
            }
        } else {
            if let colon = authority.lastIndex(of: UInt8(ascii: ":")) {
                host = authority[authority.startIndex..<colon]
                port = authority[(colon + 1)...]
            }
            if host.isEmpty { return "empty host" }
            for byte in host
            where
                !(isAlphanumeric(byte) || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E || byte == 0x25)
            {
                return "host has invalid character 0x\(String(byte, radix: 16))"
            }
        }
        if let port { return checkPort(port) }
        return nil
    }

    /// A problem with a decimal port, or nil: 1...5 digits, 1...65535.
    static func checkPort(_ port: ArraySlice<UInt8>) -> String? {
        guard !port.isEmpty, port.count <= 5, port.allSatisfy(isDigit),
            case let value = port.reduce(0, { $0 * 10 + Int($1 - 0x30) }), (1...65535).contains(value)
        else { return "port must be a number in 1...65535, got \"\(String(decoding: port, as: UTF8.self))\"" }
        return nil
    }

    /// A problem with a peer address `host:port`, or nil.
    public static func hostPort(_ address: String) -> String? {
        let bytes = Array(address.utf8)
        guard bytes.contains(UInt8(ascii: ":")) else { return "expected host:port" }
        return checkAuthority(bytes[...])
    }

    // MARK: - Bytes

    /// The first index of `://`, or nil.
    private static func findSchemeSeparator(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 3 else { return nil }
        for start in 0...(bytes.count - 3)
        where bytes[start] == UInt8(ascii: ":") && bytes[start + 1] == UInt8(ascii: "/") && bytes[start + 2] == UInt8(ascii: "/") {
            return start
        }
        return nil
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
    static func isAlphanumeric(_ byte: UInt8) -> Bool { isDigit(byte) || isLetter(byte) }
    static func isHexDigit(_ byte: UInt8) -> Bool { isDigit(byte) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x66) }
}
