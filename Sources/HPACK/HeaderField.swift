/// How an encoder may represent a field with respect to the dynamic table (RFC 7541 §6.2).
public enum HeaderIndexing: Sendable, Hashable {
    /// The encoder decides: a table match if there is one, else incremental indexing for repeatable fields and
    /// no indexing for volatile ones (see `HPACKEncoder`). Decoded fields that were not never-indexed carry this.
    case automatic
    /// Always a literal with incremental indexing (unless an exact table match exists).
    case incremental
    /// A literal that does not enter the dynamic table, for one-off values that would only evict useful ones.
    case withoutIndexing
    /// A literal that no intermediary may ever index (RFC 7541 §7.1.3), for secrets such as tokens. Decoders
    /// report it so a proxy can keep the protection when forwarding.
    case neverIndexed
}

/// One header field: a name and a value as raw octets.
///
/// Octets, not `String`, because HTTP field values are not guaranteed to be UTF-8 and a lossy conversion would
/// break round trips; the `String` initializer and accessors cover the ASCII pseudo-headers and gRPC fields.
public struct HeaderField: Sendable, Hashable, CustomStringConvertible {
    /// The field name; HTTP/2 requires lowercase, which the HTTP/2 layer checks, not HPACK.
    public var name: [UInt8]
    /// The field value.
    public var value: [UInt8]
    /// The representation the encoder should use, or the one a decoder saw (only never-indexed is reported).
    public var indexing: HeaderIndexing

    /// Creates a field from octets.
    public init(name: [UInt8], value: [UInt8], indexing: HeaderIndexing = .automatic) {
        self.name = name
        self.value = value
        self.indexing = indexing
    }

    /// Creates a field from strings, stored as their UTF-8 octets.
    public init(_ name: String, _ value: String, indexing: HeaderIndexing = .automatic) {
        self.init(name: Array(name.utf8), value: Array(value.utf8), indexing: indexing)
    }

    /// The name decoded as UTF-8 (invalid sequences become U+FFFD).
    public var nameString: String { String(decoding: name, as: UTF8.self) }
    /// The value decoded as UTF-8 (invalid sequences become U+FFFD).
    public var valueString: String { String(decoding: value, as: UTF8.self) }

    /// The size RFC 7541 §4.1 charges for a table entry and RFC 9113 §6.5.2 for a header list: name and value
    /// lengths plus 32 octets of assumed overhead.
    public var size: Int { name.count + value.count + HeaderField.entryOverhead }

    /// The per-entry overhead of RFC 7541 §4.1.
    public static let entryOverhead = 32

    /// `name: value`, for logs and test output.
    public var description: String { "\(nameString): \(valueString)" }
}
