/// What DNS can say about one endpoint URL of an instance: its scheme, its host (an address literal or a
/// name) and its port.
///
/// `grpc://10.0.0.5:9000/x` → scheme `grpc`, IPv4 10.0.0.5, port 9000; `http://[2001:db8::1]:80` → IPv6;
/// `tcp://db.internal:5432` → the name `db.internal`. Endpoints without a `scheme://` or with an empty host
/// (`unix:///run/app.sock`) have nothing to publish and give nil.
public struct EndpointAddress: Hashable, Sendable {
    public enum Host: Hashable, Sendable {
        case ipv4([UInt8])
        case ipv6([UInt8])
        /// A host name; appears in DNS only as an SRV target.
        case name(String)
    }

    /// The URL scheme, lower-cased.
    public var scheme: String
    public var host: Host
    public var port: UInt16?

    public init?(_ endpoint: String) {
        guard let (scheme, after) = IPAddressText.split(Substring(endpoint), at: "://"), !scheme.isEmpty else { return nil }
        var authority = after
        if let end = authority.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { authority = authority[..<end] }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var hostText = authority
        var portText: Substring? = nil
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            hostText = authority[authority.index(after: authority.startIndex)..<close]
            let rest = authority[authority.index(after: close)...]
            if rest.hasPrefix(":") { portText = rest.dropFirst() } else if !rest.isEmpty { return nil }
            guard let bytes = IPAddressText.ipv6(hostText) else { return nil }
            self.host = .ipv6(bytes)
        } else {
            if let colon = authority.lastIndex(of: ":") {
                hostText = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            }
            guard !hostText.isEmpty else { return nil }
            if let bytes = IPAddressText.ipv4(hostText) {
                self.host = .ipv4(bytes)
            } else {
                self.host = .name(String(hostText))
            }
        }
        if let portText {
            guard let port = UInt16(portText), port > 0 else { return nil }
            self.port = port
        } else {
            self.port = nil
        }
        self.scheme = scheme.lowercased()
    }
}

/// Address literals in text, parsed by hand so the DNS module stays free of the C library.
enum IPAddressText {
    /// The text before and after the first occurrence of `separator`, or nil when it does not occur.
    static func split(_ text: Substring, at separator: String) -> (Substring, Substring)? {
        var index = text.startIndex
        while index < text.endIndex {
            if text[index...].hasPrefix(separator) {
                return (text[..<index], text[text.index(index, offsetBy: separator.count)...])
            }
            index = text.index(after: index)
        }
        return nil
    }

    /// Dotted-quad IPv4 (`10.0.0.5`): four decimal octets, no leading zeros beyond a single `0`.
    static func ipv4<Text: StringProtocol>(_ text: Text) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part.count == 1 || !part.hasPrefix("0"), let value = UInt8(part) else { return nil }
            octets.append(value)
        }
        return octets
    }

    /// IPv6 text (RFC 4291 §2.2): eight groups of up to four hex digits, one `::` run of zeros at most, and an
    /// optional dotted IPv4 tail. Zone indexes (`%eth0`) are not addresses DNS can carry: nil.
    static func ipv6<Text: StringProtocol>(_ text: Text) -> [UInt8]? {
        guard !text.isEmpty, text.count <= 45 else { return nil }
        var halves = [String(text)]
        if let (head, tail) = split(Substring(text), at: "::") {
            guard split(tail, at: "::") == nil else { return nil }
            halves = [String(head), String(tail)]
        }
        func groups(_ part: String, allowIPv4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if allowIPv4Tail, index == pieces.count - 1, piece.contains("."), let v4 = ipv4(piece) {
                    result.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                    result.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                    continue
                }
                guard (1...4).contains(piece.count), piece.allSatisfy(\.isHexDigit), let value = UInt16(piece, radix: 16)
                else { return nil }
                result.append(value)
            }
            return result
        }
        let head: [UInt16]
        let tail: [UInt16]
        if halves.count == 2 {
            guard let first = groups(halves[0], allowIPv4Tail: false), let second = groups(halves[1], allowIPv4Tail: true),
                  first.count + second.count <= 7 else { return nil }
            head = first
            tail = second
        } else {
            guard let all = groups(halves[0], allowIPv4Tail: true), all.count == 8 else { return nil }
            head = all
            tail = []
        }
        let words = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        return words.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
}
