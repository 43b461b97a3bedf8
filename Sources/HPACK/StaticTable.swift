/// The static table of RFC 7541 Appendix A: 61 fields every HPACK endpoint knows, indices 1 through 61.
enum StaticTable {
    /// The entries in index order; index i is `entries[i - 1]`.
    static let entries: [(name: [UInt8], value: [UInt8])] = strings.map { (Array($0.0.utf8), Array($0.1.utf8)) }

    /// The number of static entries; dynamic indices start right after.
    static let count = 61

    /// Exact (name, value) matches to their index, for the encoder.
    static let fieldIndex: [Pair: Int] = {
        var index: [Pair: Int] = [:]
        for (position, entry) in entries.enumerated() where index[Pair(entry.name, entry.value)] == nil {
            index[Pair(entry.name, entry.value)] = position + 1
        }
        return index
    }()

    /// Names to the lowest index carrying them, for the encoder's name-reference literals.
    static let nameIndex: [[UInt8]: Int] = {
        var index: [[UInt8]: Int] = [:]
        for (position, entry) in entries.enumerated() where index[entry.name] == nil {
            index[entry.name] = position + 1
        }
        return index
    }()

    /// A hashable (name, value) key.
    struct Pair: Hashable {
        let name: [UInt8]
        let value: [UInt8]
        init(_ name: [UInt8], _ value: [UInt8]) {
            self.name = name
            self.value = value
        }
    }

    private static let strings: [(String, String)] = [
        (":authority", ""),
        (":method", "GET"),
        (":method", "POST"),
        (":path", "/"),
        (":path", "/index.html"),
        (":scheme", "http"),
        (":scheme", "https"),
        (":status", "200"),
        (":status", "204"),
        (":status", "206"),
        (":status", "304"),
        (":status", "400"),
        (":status", "404"),
        (":status", "500"),
        ("accept-charset", ""),
        ("accept-encoding", "gzip, deflate"),
        ("accept-language", ""),
        ("accept-ranges", ""),
        ("accept", ""),
        ("access-control-allow-origin", ""),
        ("age", ""),
        ("allow", ""),
        ("authorization", ""),
        ("cache-control", ""),
        ("content-disposition", ""),
        ("content-encoding", ""),
        ("content-language", ""),
        ("content-length", ""),
        ("content-location", ""),
        ("content-range", ""),
        ("content-type", ""),
        ("cookie", ""),
        ("date", ""),
        ("etag", ""),
        ("expect", ""),
        ("expires", ""),
        ("from", ""),
        ("host", ""),
        ("if-match", ""),
        ("if-modified-since", ""),
        ("if-none-match", ""),
        ("if-range", ""),
        ("if-unmodified-since", ""),
        ("last-modified", ""),
        ("link", ""),
        ("location", ""),
        ("max-forwards", ""),
        ("proxy-authenticate", ""),
        ("proxy-authorization", ""),
        ("range", ""),
        ("referer", ""),
        ("refresh", ""),
        ("retry-after", ""),
        ("server", ""),
        ("set-cookie", ""),
        ("strict-transport-security", ""),
        ("transfer-encoding", ""),
        ("user-agent", ""),
        ("vary", ""),
        ("via", ""),
        ("www-authenticate", ""),
    ]
}
