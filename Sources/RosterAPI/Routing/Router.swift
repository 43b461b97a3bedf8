import Codec
import HTTP
import Registry
import RosterNode

/// Translates one parsed HTTP request into what the node should do, validating everything on the way.
///
/// Pure: the answer depends only on the request and the limits, so it is tested exhaustively without a
/// server. Nothing invalid gets through: names, keys, numbers, TTLs and ranges are checked here against
/// the same `RegistryLimits` the registry applies, and unknown fields or query parameters are refused
/// rather than ignored, because an ignored typo (`?prefx=true`) silently changes what a request means.
/// - Parameters:
///   - request: A request as `HTTPRequestParser` produced it (its path segments already percent-decoded to
///     valid UTF-8 without NUL).
///   - limits: The registry's limits, which every node runs with.
/// - Returns: The routed request, or `.error` with the status and message to answer with.
public func route(_ request: HTTPRequest, limits: RegistryLimits) -> RoutedRequest {
    do {
        return try Router(request: request, limits: limits).route()
    } catch {
        return .error(error)
    }
}

/// The state of routing one request: the request, its path split into raw segments, and the limits.
struct Router {
    let request: HTTPRequest
    let limits: RegistryLimits
    /// The path split on `/` after the leading one, still percent-encoded, empty segments kept: a trailing
    /// slash means an empty name, which is refused as such instead of routing somewhere else.
    let rawSegments: [Substring]

    init(request: HTTPRequest, limits: RegistryLimits) {
        self.request = request
        self.limits = limits
        let path = request.path.dropFirst(request.path.hasPrefix("/") ? 1 : 0)
        // Split on the byte, not the Character: the same pieces without grapheme breaking.
        var segments: [Substring] = []
        var start = path.startIndex
        var index = path.utf8.startIndex
        while index < path.utf8.endIndex {
            if path.utf8[index] == UInt8(ascii: "/") {
                segments.append(path[start..<index])
                start = path.utf8.index(after: index)
            }
            index = path.utf8.index(after: index)
        }
        segments.append(path[start...])
        self.rawSegments = segments
    }

    var method: String { request.method }

    /// Dispatches on the first segments; each family checks its own methods.
    func route() throws(APIError) -> RoutedRequest {
        let segments = rawSegments
        switch segments.first {
        case "healthz" where segments.count == 1: return try simple(.health)
        case "readyz" where segments.count == 1: return try simple(.ready)
        case "metrics" where segments.count == 1: return try simple(.metrics)
        case "ui": return try routeConsole()
        case "v1" where segments.count >= 2:
            switch segments[1] {
            case "services": return try routeServices()
            case "leases": return try routeLeases()
            case "watch" where segments.count == 2: return try routeWatch()
            case "kv": return try routeKeyValue()
            case "txn" where segments.count == 2: return try routeTransaction()
            case "compact" where segments.count == 2: return try routeCompact()
            case "cluster": return try routeCluster()
            case "auth" where segments.count >= 3: return try routeAuth()
            case "snapshot" where segments.count == 2: return try simple(.snapshot)
            case "alarms" where segments.count == 2: return try routeAlarms()
            case "sd" where segments.count == 3 && segments[2] == "prometheus": return try routePrometheusTargets()
            default: break
            }
        default: break
        }
        throw .noRoute(method, request.path)
    }

    private func simple(_ routed: RoutedRequest) throws(APIError) -> RoutedRequest {
        try allow(["GET"])
        let query = try QueryReader(request.query)
        try query.finish()
        try expectNoBody()
        return routed
    }

    // MARK: - Shared checks

    /// Refuses a method not in `allowed` with 405 and an `Allow` list.
    func allow(_ allowed: [String]) throws(APIError) {
        guard allowed.contains(method) else { throw .methodNotAllowed(method, request.path, allowed: allowed) }
    }

    /// The percent-decoded path segment at `position`, which must be valid UTF-8 without NUL.
    func segment(_ position: Int, parameter: String) throws(APIError) -> String {
        let raw = rawSegments[position]
        // Visible ASCII without escapes is its own decoding.
        if raw.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "%") }) { return String(raw) }
        guard let bytes = PathDecoding.decode(rawSegments[position]) else {
            throw .invalidParameter(parameter, "has a malformed percent escape in the path")
        }
        guard !bytes.contains(0), let text = UTF8Text.string(bytes) else {
            throw .invalidParameter(parameter, "must be UTF-8 without NUL bytes")
        }
        return text
    }

    /// The body as a JSON value; an empty body reads as `{}` when `emptyIsObject`, for endpoints whose
    /// fields are all optional.
    ///
    /// A body that parses as JSON is accepted whatever `Content-Type` it declares, as Consul and etcd's
    /// JSON gateway do: `curl -d '{…}'` sends `application/x-www-form-urlencoded`. A body that does not
    /// parse is refused with 415 when it was declared as something other than JSON (it was never meant
    /// to be JSON), else with 400 `malformed_json`.
    func jsonBody(emptyIsObject: Bool = false) throws(APIError) -> JSONValue {
        if request.body.count > limits.requestBytes {
            throw .bodyTooLarge(bytes: request.body.count, limit: limits.requestBytes)
        }
        if request.body.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            if emptyIsObject { return .object([]) }
            throw APIError(
                status: .badRequest, code: "malformed_json", message: "request body is empty; send a JSON object")
        }
        do {
            return try JSONParser.parse(request.body)
        } catch {
            if let contentType = request.headers["Content-Type"], !Self.declaresJSON(contentType) {
                throw .unsupportedMediaType(contentType)
            }
            throw .malformedJSON(error)
        }
    }

    /// Refuses a body on endpoints that take none, so a misdirected request fails instead of being ignored.
    func expectNoBody() throws(APIError) {
        if !request.body.isEmpty {
            throw APIError(
                status: .badRequest, code: "unexpected_body",
                message: "\(method) \(request.path) takes no request body; move the values into the query")
        }
    }

    /// Whether `contentType` is `application/json` (any parameters, any case).
    private static func declaresJSON(_ contentType: String) -> Bool {
        if contentType.utf8.elementsEqual("application/json".utf8) { return true }
        let mediaType = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return mediaType.trimmingCharacters(in: " \t").lowercased() == "application/json"
    }
}

extension Substring {
    /// The text without leading and trailing characters from `set`.
    func trimmingCharacters(in set: String) -> Substring {
        let start = firstIndex { !set.contains($0) } ?? endIndex
        let end = lastIndex { !set.contains($0) }.map { index(after: $0) } ?? start
        return self[start..<end]
    }
}

/// Percent-decoding of raw path text into bytes (RFC 3986 §2.1); nil for a malformed escape.
enum PathDecoding {
    static func decode(_ text: Substring) -> [UInt8]? {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var position = 0
        while position < bytes.count {
            if bytes[position] == UInt8(ascii: "%") {
                guard position + 2 < bytes.count, let high = hex(bytes[position + 1]),
                    let low = hex(bytes[position + 2])
                else { return nil }
                output.append(high << 4 | low)
                position += 3
            } else {
                output.append(bytes[position])
                position += 1
            }
        }
        return output
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
