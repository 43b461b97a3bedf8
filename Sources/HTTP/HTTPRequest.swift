/// The protocol version of a request; only 1.0 and 1.1 are ever produced by the parser.
public struct HTTPVersion: Hashable, Sendable, CustomStringConvertible {
    public let major: Int
    public let minor: Int

    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    public var description: String { "HTTP/\(major).\(minor)" }
}

/// One complete, validated request as produced by `HTTPRequestParser`.
public struct HTTPRequest: Sendable, Equatable {
    /// The method token exactly as sent (methods are case-sensitive, RFC 9110 §9.1).
    public var method: String
    /// The request target as sent, still percent-encoded, including any query.
    public var target: String
    /// The path part of `target` (before `?`), still percent-encoded, so `%2F` stays distinguishable from `/`.
    public var path: String
    /// The percent-decoded path segments between `/`; empty segments are dropped, so `/a//b/` gives `["a", "b"]`.
    public var pathSegments: [String]
    /// The decoded query parameters in order.
    public var query: QueryParameters
    /// HTTP/1.0 or HTTP/1.1.
    public var version: HTTPVersion
    /// The header fields in arrival order.
    public var headers: HTTPHeaders
    /// The body after removing any chunked framing.
    public var body: [UInt8]
    /// Whether the connection may carry another request after this one's response (RFC 9112 §9.3).
    public var keepAlive: Bool
}

/// Decoded `name=value` pairs from a query string, in order, with first-match lookup.
public struct QueryParameters: Sendable, Equatable, Sequence {
    /// The pairs; a bare `name` without `=` has an empty value.
    public var pairs: [(name: String, value: String)]

    public init(_ pairs: [(name: String, value: String)] = []) {
        self.pairs = pairs
    }

    /// The first value for `name` (exact, case-sensitive match), or nil.
    /// - Complexity: O(n) in the number of pairs.
    public subscript(name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    /// Every value for `name` in order.
    public func values(for name: String) -> [String] {
        pairs.filter { $0.name == name }.map(\.value)
    }

    public var isEmpty: Bool { pairs.isEmpty }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        pairs.makeIterator()
    }

    public static func == (lhs: QueryParameters, rhs: QueryParameters) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs) { $0.name == $1.name && $0.value == $1.value }
    }
}
