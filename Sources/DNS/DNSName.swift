/// A domain name as its labels (raw bytes, root excluded), compared without regard to ASCII case as
/// RFC 1035 §2.3.3 and RFC 4343 require.
///
/// The labels keep the case the sender used, so a response can echo a question exactly (resolvers that
/// randomise case, "0x20", check the echo), while equality and hashing fold case.
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// The labels, leftmost first; empty for the root.
    public private(set) var labels: [[UInt8]]

    /// Most bytes in one label (RFC 1035 §2.3.4).
    public static let labelBytesLimit = 63
    /// Most bytes of a name on the wire: every label with its length byte, plus the root's zero byte.
    public static let wireBytesLimit = 255

    /// The root name `.`.
    public static let root = DNSName(checkedLabels: [])

    init(checkedLabels: [[UInt8]]) {
        labels = checkedLabels
    }

    /// A name from labels, checking the label and name limits.
    public init(labels: [[UInt8]]) throws(DNSWireError) {
        for label in labels where label.isEmpty || label.count > Self.labelBytesLimit {
            throw .invalidName(String(decoding: label, as: UTF8.self))
        }
        let wire = labels.reduce(1) { $0 + 1 + $1.count }
        guard wire <= Self.wireBytesLimit else { throw .invalidName("\(wire) bytes on the wire") }
        self.labels = labels
    }

    /// Parses dotted text (`web.default.roster.`; the final dot is optional). No escapes: the names this
    /// node builds come from registry names, which hold no dots or spaces.
    public init(_ text: String) throws(DNSWireError) {
        var body = Substring(text)
        if body.hasSuffix(".") { body = body.dropLast() }
        if body.isEmpty {
            self = .root
            return
        }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false).map { Array($0.utf8) }
        do {
            try self.init(labels: parts)
        } catch {
            throw .invalidName(text)
        }
    }

    /// Bytes on the wire without compression.
    public var wireLength: Int { labels.reduce(1) { $0 + 1 + $1.count } }

    /// The name with `label` put in front; nil if that breaks a limit.
    public func prepending(_ label: [UInt8]) -> DNSName? {
        try? DNSName(labels: [label] + labels)
    }

    /// Whether this name is `zone` or below it.
    public func isWithin(_ zone: DNSName) -> Bool {
        guard labels.count >= zone.labels.count else { return false }
        return DNSName(checkedLabels: Array(labels.suffix(zone.labels.count))) == zone
    }

    /// The labels left of `zone` (which this name must be within), leftmost first.
    public func labels(below zone: DNSName) -> [[UInt8]] {
        Array(labels.prefix(labels.count - zone.labels.count))
    }

    static func lower(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte | 0x20 : byte }

    public static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        guard lhs.labels.count == rhs.labels.count else { return false }
        for (left, right) in zip(lhs.labels, rhs.labels) {
            guard left.count == right.count else { return false }
            for (a, b) in zip(left, right) where lower(a) != lower(b) { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        for label in labels {
            hasher.combine(label.count)
            for byte in label { hasher.combine(Self.lower(byte)) }
        }
    }

    /// Dotted text with a final dot; bytes outside printable ASCII, dots and backslashes inside a label are
    /// escaped as `\DDD` (RFC 1035 §5.1), as dig prints them.
    public var description: String {
        if labels.isEmpty { return "." }
        var text = ""
        for label in labels {
            for byte in label {
                if byte == 0x2E || byte == 0x5C || byte <= 0x20 || byte >= 0x7F {
                    let digits = String(byte)
                    text += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
                } else {
                    text.unicodeScalars.append(Unicode.Scalar(byte))
                }
            }
            text += "."
        }
        return text
    }
}
