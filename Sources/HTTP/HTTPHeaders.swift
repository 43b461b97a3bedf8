/// Header fields in arrival order with case-insensitive lookup.
///
/// Order is kept because some fields (e.g. repeated `Set-Cookie`) are order-sensitive and because echoing
/// the original order makes debugging easier. Lookup is a linear scan: requests carry a few dozen headers at
/// most (the parser caps the count), so a dictionary would cost more than it saves.
public struct HTTPHeaders: Sendable, Equatable, Sequence {
    /// The fields as received: name spelled as sent, value with surrounding whitespace removed.
    public private(set) var fields: [(name: String, value: String)]

    /// Creates a header list from name/value pairs, keeping their order.
    public init(_ fields: [(name: String, value: String)] = []) {
        self.fields = fields
    }

    /// Appends a field; repeated names are kept as separate entries.
    public mutating func add(name: String, value: String) {
        fields.append((name, value))
    }

    /// The number of fields.
    public var count: Int { fields.count }

    /// The first value whose name matches case-insensitively, or nil.
    /// - Complexity: O(n) in the number of fields.
    public subscript(name: String) -> String? {
        fields.first { Self.namesEqual($0.name, name) }?.value
    }

    /// Every value whose name matches case-insensitively, in arrival order.
    /// - Complexity: O(n) in the number of fields.
    public func values(for name: String) -> [String] {
        fields.filter { Self.namesEqual($0.name, name) }.map(\.value)
    }

    /// True when a comma-separated field (such as `Connection`) lists `token`, compared case-insensitively.
    public func containsToken(_ token: String, in name: String) -> Bool {
        values(for: name).contains { value in
            value.split(separator: ",").contains { Self.namesEqual($0.trimmingOWS(), token) }
        }
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        fields.makeIterator()
    }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }

    /// ASCII case-insensitive comparison; header names are tokens, so ASCII folding is exact.
    static func namesEqual<A: StringProtocol, B: StringProtocol>(_ lhs: A, _ rhs: B) -> Bool {
        let left = lhs.utf8
        let right = rhs.utf8
        guard left.count == right.count else { return false }
        var leftBytes = left.makeIterator()
        var rightBytes = right.makeIterator()
        while let a = leftBytes.next(), let b = rightBytes.next() {
            if a != b && asciiLower(a) != asciiLower(b) { return false }
        }
        return true
    }
}

@inline(__always)
func asciiLower(_ byte: UInt8) -> UInt8 {
    (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
}

extension StringProtocol {
    /// The text without leading or trailing spaces and tabs (HTTP's optional whitespace).
    func trimmingOWS() -> Substring {
        let text = Substring(self)
        let start = text.firstIndex { $0 != " " && $0 != "\t" } ?? text.endIndex
        let end = text.lastIndex { $0 != " " && $0 != "\t" }.map { text.index(after: $0) } ?? start
        return text[start..<end]
    }
}
