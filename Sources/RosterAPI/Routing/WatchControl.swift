import Registry

/// One control line of a watch stream (`POST /v1/watch`), as the client wrote it.
///
/// A watch stream carries many watches on one connection, etcd's model: a service that follows 30
/// dependencies needs one connection per node, not 30. After the `200` head the client writes NDJSON
/// lines on the same connection, with no request-body framing (as on the streamed keepalive):
/// - `{"create":{"id":7,"service":"payments","namespace":"prod"}}`, or with `prefix`/`prefix_base64`
///   or `key`/`key_base64` instead of `service`; optional `from_revision` and `prev_value`. The same
///   rules as `GET /v1/watch`'s query parameters, with JSON field names.
/// - `{"cancel":{"id":7}}`.
///
/// `id` is chosen by the client: a positive integer unique among the stream's active watches (it may be
/// reused once its watch is cancelled). It tags every line the server writes about that watch.
public enum WatchControl: Equatable, Sendable {
    /// Start watch `id` as `spec` says.
    case create(id: UInt64, spec: WatchSpec)
    /// Stop watch `id`.
    case cancel(id: UInt64)
}

/// A control line that cannot be carried out, and whether the stream survives it.
public struct WatchControlError: Error, Equatable, Sendable {
    /// The watch the line named, when its `id` could be read; the server answers
    /// `{"canceled":{"id":…,"error":…}}` (without `id` when it is nil).
    public var watchID: UInt64?
    public var error: APIError
    /// True when the line is not JSON at all or is too long: the client is not speaking this protocol,
    /// so the stream ends with an error line. Every other bad line only refuses its own watch.
    public var endsStream: Bool

    public init(watchID: UInt64?, error: APIError, endsStream: Bool = false) {
        self.watchID = watchID
        self.error = error
        self.endsStream = endsStream
    }
}

extension WatchControl {
    /// The longest control line: far above any valid create (names and keys are bounded by the registry's
    /// limits), low enough that a client cannot make the server buffer much.
    public static let maximumLineBytes = 64 * 1024
    /// The most watches one stream may hold; a create beyond it is refused with `too_many_watches`.
    public static let maximumWatchesPerStream = 1_000
    /// The fields a `create` accepts.
    static let createFields = [
        "id", "service", "namespace", "prefix", "prefix_base64", "key", "key_base64", "from_revision", "prev_value",
    ]

    /// Parses one control line (without its `\n`; a trailing `\r` is allowed).
    /// - Parameters:
    ///   - line: The bytes of the line.
    ///   - limits: The registry's limits, which names and keys are checked against.
    ///   - progressIntervalMilliseconds: The stream's progress interval, copied into every watch.
    /// - Returns: The control, or nil for a blank line (allowed, so clients may send keep-alive newlines).
    /// - Throws: `WatchControlError` naming the watch when its `id` was readable.
    public static func parse(
        _ line: ArraySlice<UInt8>, limits: RegistryLimits, progressIntervalMilliseconds: Int64 = 10_000
    ) throws(WatchControlError) -> WatchControl? {
        if line.count > maximumLineBytes {
            throw WatchControlError(watchID: nil, error: .controlLineTooLong(line.count), endsStream: true)
        }
        var bytes = Array(line)
        if bytes.last == 0x0D { bytes.removeLast() }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return nil }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            let error = APIError(
                status: .badRequest, code: "malformed_json",
                message: "watch control line is not valid JSON: \(error.reason) at byte \(error.offset); "
                    + #"send {"create":{…}} or {"cancel":{…}}, one per line"#)
            throw WatchControlError(watchID: nil, error: error, endsStream: true)
        }
        return try control(value, limits: limits, progressIntervalMilliseconds: progressIntervalMilliseconds)
    }

    /// The one member `create` or `cancel` of the line's object.
    private static func control(_ value: JSONValue, limits: RegistryLimits, progressIntervalMilliseconds: Int64)
        throws(WatchControlError) -> WatchControl
    {
        guard case .object = value else {
            let error = APIError(
                status: .badRequest, code: "malformed_json",
                message: #"a watch control line must be a JSON object, {"create":{…}} or {"cancel":{…}}, got "#
                    + value.typeDescription)
            throw WatchControlError(watchID: nil, error: error)
        }
        let (create, cancel) = try refusing(nil) { () throws(APIError) in
            var fields = try JSONFields(value, path: "", allowed: ["create", "cancel"])
            let create = fields.take("create")
            let cancel = fields.take("cancel")
            try fields.finish()
            return (create, cancel)
        }
        switch (create, cancel) {
        case (.some(let body), nil):
            return try Self.create(body, limits: limits, progressIntervalMilliseconds: progressIntervalMilliseconds)
        case (nil, .some(let body)):
            var fields = try refusing(nil) { () throws(APIError) in try JSONFields(body, path: "cancel", allowed: ["id"]) }
            let id = try refusing(nil) { () throws(APIError) in try watchID(&fields) }
            try refusing(id) { () throws(APIError) in try fields.finish() }
            return .cancel(id: id)
        case (.some, .some):
            throw WatchControlError(watchID: nil, error: .invalidField("create", "and cancel are exclusive; send one per line"))
        case (nil, nil):
            throw WatchControlError(
                watchID: nil, error: .missingField("create", #"each line is {"create":{"id":…,…}} or {"cancel":{"id":…}}"#))
        }
    }

    /// Runs `body`, tagging its error with the watch it refuses.
    private static func refusing<Result>(_ id: UInt64?, _ body: () throws(APIError) -> Result) throws(WatchControlError) -> Result {
        do {
            return try body()
        } catch {
            throw WatchControlError(watchID: id, error: error)
        }
    }

    /// A `create`: its `id` first, so every later error names the watch it refuses.
    private static func create(_ body: JSONValue, limits: RegistryLimits, progressIntervalMilliseconds: Int64)
        throws(WatchControlError) -> WatchControl
    {
        var fields = try refusing(nil) { () throws(APIError) in try JSONFields(body, path: "create", allowed: createFields) }
        let id = try refusing(nil) { () throws(APIError) in try watchID(&fields) }
        return try refusing(id) { () throws(APIError) in
            let service = try fields.take("service")?.string("create.service")
            let namespace = try fields.take("namespace")?.string("create.namespace")
            let prefix = try KeyValueBody.bytes(&fields, field: "prefix", required: false, limits: limits)
            let key = try KeyValueBody.bytes(&fields, field: "key", required: false, limits: limits)
            let from = try fields.take("from_revision")?.int64("create.from_revision", in: Int64.min...Int64.max)
            let previous = try fields.take("prev_value")?.bool("create.prev_value") ?? false
            try fields.finish()
            if let from, from < 0 { try checked(.negativeRevision(Revision(from)), field: "create.from_revision") }
            let filter = try WatchFilterRules.filter(
                service: service, namespace: namespace, prefix: prefix, key: key, limits: limits,
                defaultNamespace: "default", name: { "create.\($0)" }, invalid: { .invalidField($0, $1) })
            let spec = WatchSpec(
                filter: filter, fromRevision: from.flatMap { $0 == 0 ? nil : Revision($0) },
                progressIntervalMilliseconds: progressIntervalMilliseconds, includePrevious: previous)
            return .create(id: id, spec: spec)
        }
    }

    /// The required `id`: a positive integer (at most 2^63 - 1, etcd's watch ID type).
    private static func watchID(_ fields: inout JSONFields) throws(APIError) -> UInt64 {
        let value = try fields.require("id", hint: "a positive integer chosen by the client, unique on this stream")
        return try value.uint64(fields.name("id"), in: 1...UInt64(Int64.max))
    }
}

// MARK: - Errors a stream answers with

extension APIError {
    /// 400 `duplicate_watch_id`: a create reuses the id of a watch still active on this stream; the
    /// existing watch continues.
    public static func duplicateWatchID(_ id: UInt64) -> APIError {
        APIError(
            status: .badRequest, code: "duplicate_watch_id",
            message: "watch \(id) is already active on this stream (it continues); cancel it first or pick another id")
    }

    /// 400 `too_many_watches`: the stream already holds `limit` watches.
    public static func tooManyWatches(limit: Int) -> APIError {
        APIError(
            status: .badRequest, code: "too_many_watches",
            message: "this stream already holds \(limit) watches, the most one stream may; cancel one or open another stream")
    }

    /// 404 `watch_not_found`: a cancel names no active watch of this stream.
    public static func watchNotFound(_ id: UInt64) -> APIError {
        APIError(status: .notFound, code: "watch_not_found", message: "no active watch \(id) on this stream")
    }

    /// 400 `control_line_too_long`: a control line over `WatchControl.maximumLineBytes`.
    public static func controlLineTooLong(_ bytes: Int) -> APIError {
        APIError(
            status: .badRequest, code: "control_line_too_long",
            message: "a watch control line has \(bytes) bytes without a newline, over the \(WatchControl.maximumLineBytes)-byte limit")
    }
}
