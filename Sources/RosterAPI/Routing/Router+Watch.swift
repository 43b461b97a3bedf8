import Registry
import RosterNode

/// `GET /v1/watch`: a stream of changes, or one long poll for the next change; `POST /v1/watch`: a watch
/// stream carrying many watches (see `WatchControl`).
extension Router {
    /// The longest long-poll wait, Consul's bound: long enough to be cheap, short enough that proxies with
    /// idle timeouts of several minutes do not cut the request.
    static let maximumWaitMilliseconds: Int64 = 600_000
    static let defaultWaitMilliseconds: Int64 = 30_000

    func routeWatch() throws(APIError) -> RoutedRequest {
        try allow(["GET", "POST"])
        if method == "POST" { return try routeWatchStream() }
        var query = try QueryReader(request.query)
        let filter = try watchFilter(&query)
        var spec = WatchSpec(filter: filter)
        let from = try query.revision("from_revision")
        spec.fromRevision = from == .zero ? nil : from
        spec.includePrevious = try query.bool("prev_value")
        let progress = try query.duration("progress_interval", in: 100...3_600_000)
        let index = try query.revision("index")
        let wait = try query.duration("wait", in: 0...Self.maximumWaitMilliseconds)
        try query.finish()
        try expectNoBody()
        if let index {
            if spec.fromRevision != nil {
                throw .invalidParameter(
                    "from_revision", "cannot be combined with index; a long poll starts after index")
            }
            if progress != nil {
                throw .invalidParameter("progress_interval", "applies to streams only; drop it or drop index")
            }
            spec.mode = .longPoll(index: index, waitMilliseconds: wait ?? Self.defaultWaitMilliseconds)
        } else {
            if wait != nil {
                throw .invalidParameter("wait", "needs index; give index=R to long-poll after revision R")
            }
            spec.progressIntervalMilliseconds = progress ?? spec.progressIntervalMilliseconds
        }
        return .watch(spec)
    }

    /// `POST /v1/watch[?progress_interval=10s]`: opens a watch stream. The request has no body; once the
    /// `200` head is back, the client writes control lines on the same connection, as with the streamed
    /// keepalive.
    private func routeWatchStream() throws(APIError) -> RoutedRequest {
        var query = try QueryReader(request.query)
        let progress = try query.duration("progress_interval", in: 100...3_600_000)
        try query.finish()
        if !request.body.isEmpty {
            throw APIError(
                status: .badRequest, code: "unexpected_body",
                message: "POST /v1/watch takes no request body; write create and cancel lines after the response head")
        }
        return .watchStream(WatchStreamOptions(progressIntervalMilliseconds: progress ?? 10_000))
    }

    /// Exactly one of `service` (with an optional `namespace`), `prefix` or `key`.
    private func watchFilter(_ query: inout QueryReader) throws(APIError) -> WatchFilter {
        let service = query.string("service")
        let namespace = query.string("namespace")
        let prefix = query.string("prefix").map { Array($0.utf8) }
        let key = query.string("key").map { Array($0.utf8) }
        return try WatchFilterRules.filter(
            service: service, namespace: namespace, prefix: prefix, key: key, limits: limits,
            defaultNamespace: defaultNamespace, name: { $0 }, invalid: { .invalidParameter($0, $1) })
    }
}

/// What a watch may select, shared by `GET /v1/watch`'s query and a watch stream's `create` line, so the
/// two forms accept exactly the same watches and refuse the rest with the same codes.
enum WatchFilterRules {
    /// Exactly one of `service` (with an optional `namespace`), `prefix` or `key`.
    /// - Parameters:
    ///   - name: How messages name a field (`create.key` in a control line, `key` in a query).
    ///   - invalid: The error for a misused field: `invalid_parameter` for a query, `invalid_field` for JSON.
    static func filter(
        service: String?, namespace: String?, prefix: [UInt8]?, key: [UInt8]?, limits: RegistryLimits,
        defaultNamespace: String, name: (String) -> String, invalid: (String, String) -> APIError
    ) throws(APIError) -> WatchFilter {
        let given = (service == nil ? 0 : 1) + (prefix == nil ? 0 : 1) + (key == nil ? 0 : 1)
        guard given == 1 else {
            throw invalid(
                name("service"),
                given == 0
                    ? "or prefix or key is required to say what to watch" : "prefix and key are exclusive; give one")
        }
        if let service {
            let namespace = namespace ?? defaultNamespace
            try checked(NameRules.checkSegment(namespace, field: name("namespace"), limits: limits))
            try checked(NameRules.checkSegment(service, field: name("service"), limits: limits))
            return .service(namespace: namespace, service: service)
        }
        if namespace != nil { throw invalid(name("namespace"), "applies only with service") }
        if let prefix {
            if prefix.count > limits.keyBytes {
                try checked(.keyTooLong(bytes: prefix.count, limit: limits.keyBytes), field: name("prefix"))
            }
            return .prefix(prefix)
        }
        let bytes = key ?? []
        if bytes.isEmpty { try checked(.emptyKey, field: name("key")) }
        if bytes.count > limits.keyBytes {
            try checked(.keyTooLong(bytes: bytes.count, limit: limits.keyBytes), field: name("key"))
        }
        return .key(bytes)
    }
}
