import Registry
import RosterNode

/// `GET /v1/watch`: a stream of changes, or one long poll for the next change.
extension Router {
    /// The longest long-poll wait, Consul's bound: long enough to be cheap, short enough that proxies with
    /// idle timeouts of several minutes do not cut the request.
    static let maximumWaitMilliseconds: Int64 = 600_000
    static let defaultWaitMilliseconds: Int64 = 30_000

    func routeWatch() throws(APIError) -> RoutedRequest {
        try allow(["GET"])
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

    /// Exactly one of `service` (with an optional `namespace`), `prefix` or `key`.
    private func watchFilter(_ query: inout QueryReader) throws(APIError) -> WatchFilter {
        let service = query.string("service")
        let namespace = query.string("namespace")
        let prefix = query.string("prefix")
        let key = query.string("key")
        let given = [service, prefix, key].compactMap { $0 }.count
        guard given == 1 else {
            throw .invalidParameter(
                "service",
                given == 0
                    ? "or prefix or key is required to say what to watch" : "prefix and key are exclusive; give one")
        }
        if let service {
            let namespace = namespace ?? defaultNamespace
            try checked(NameRules.checkSegment(namespace, field: "namespace", limits: limits))
            try checked(NameRules.checkSegment(service, field: "service", limits: limits))
            return .service(namespace: namespace, service: service)
        }
        if namespace != nil { throw .invalidParameter("namespace", "applies only with service") }
        if let prefix {
            let bytes = Array(prefix.utf8)
            if bytes.count > limits.keyBytes {
                try checked(.keyTooLong(bytes: bytes.count, limit: limits.keyBytes), field: "prefix")
            }
            return .prefix(bytes)
        }
        let bytes = Array((key ?? "").utf8)
        if bytes.isEmpty { try checked(.emptyKey, field: "key") }
        if bytes.count > limits.keyBytes {
            try checked(.keyTooLong(bytes: bytes.count, limit: limits.keyBytes), field: "key")
        }
        return .key(bytes)
    }
}
