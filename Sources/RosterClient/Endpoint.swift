/// The client address of one Roster node: `host:port`.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    /// A host name or IP address (IPv6 without brackets).
    public var host: String
    /// The node's client port.
    public var port: UInt16
    /// TLS settings when the node's client port speaks TLS (`https://`); nil for plain HTTP.
    public var tls: ClientTLS?

    /// Creates an endpoint from its parts.
    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, `[v6]:port` or the same behind `http://` or `https://` (which sets `tls`, trusting
    /// the system's CA store until configured otherwise); nil when it is neither.
    ///
    /// A bare host gets port 2379, the port a single `roster` node listens on by default.
    public init?(_ text: String) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        if rest.hasPrefix("http://") { rest = rest.dropFirst(7) }
        if rest.hasPrefix("https://") {
            rest = rest.dropFirst(8)
            tls = ClientTLS()
        }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        if rest.isEmpty { return nil }
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.isEmpty {
                port = 2379
            } else {
                guard after.hasPrefix(":"), let value = UInt16(after.dropFirst()) else { return nil }
                port = value
            }
            return
        }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            host = String(parts[0])
            port = 2379
        case 2:
            guard !parts[0].isEmpty, let value = UInt16(parts[1]), value > 0 else { return nil }
            host = String(parts[0])
            port = value
        default:
            return nil
        }
    }

    /// `host:port`, bracketing IPv6 hosts.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
