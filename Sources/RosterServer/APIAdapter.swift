import HTTP
import Raft
import Registry
import RosterAPI
import RosterNode

/// The server's only door to the HTTP/JSON formats of `RosterAPI`: routes, answers and stream
/// lines as bytes ready to write.
enum APIAdapter {
    static func route(_ request: HTTPRequest, limits: RegistryLimits) -> RoutedRequest {
        RosterAPI.route(request, limits: limits)
    }

    /// A label for the request-count metric.
    static func kind(of routed: RoutedRequest) -> String {
        switch routed {
        case .node(.write), .node(.registerWithLease): "write"
        case .node(.keepAlive): "keepalive"
        case .node(.read), .node(.readBarrier): "read"
        case .node(.admin): "admin"
        case .watch: "watch"
        case .watchStream: "watch_stream"
        case .keepAliveStream: "keepalive_stream"
        case .health, .ready, .metrics, .clusterStatus, .members: "status"
        case .prometheusTargets: "read"
        case .snapshot: "snapshot"
        case .alarms: "status"
        case .auth: "auth"
        case .console: "console"
        case .error: "error"
        }
    }

    static func context(_ status: NodeStatus) -> ResponseContext {
        let leaderName = status.raft.leader.flatMap { leader in status.members.first { $0.id == leader }?.name ?? "\(leader)" }
        return ResponseContext(revision: status.revision, leader: leaderName, term: status.raft.term)
    }

    static func encode(_ response: NodeResponse, context: ResponseContext) -> [UInt8] {
        APIResponse.encode(response, context: context).bytes(keepAlive: true)
    }

    /// An answer as bytes to write at once, or, for a listing or range too large for that, a stream.
    enum Answer {
        case whole([UInt8])
        case streamed(ResponseStream)
    }

    /// The answer to a node response: streamed when it is a large listing or range (never built whole,
    /// so it can neither blow the node's memory nor pass the connection's outbound bound), else whole
    /// with its instance listings from (and filling) `cache`.
    static func answer(_ response: NodeResponse, context: ResponseContext, cache: inout InstanceJSONCache) -> Answer {
        if let stream = APIResponse.streamed(response, context: context) { return .streamed(stream) }
        return .whole(encode(response, context: context, cache: &cache))
    }

    /// A resync line too large to write whole, as a stream of chunks; nil for a small one.
    static func resyncStream(revision: Revision, items: [KeyValue], watch id: UInt64?) -> ResponseStream? {
        WatchLines.resyncStream(items, revision: revision, watch: id)
    }

    /// An answer whose instance listings come from (and fill) `cache`.
    static func encode(_ response: NodeResponse, context: ResponseContext, cache: inout InstanceJSONCache) -> [UInt8] {
        APIResponse.encode(response, context: context, cache: &cache).bytes(keepAlive: true)
    }

    /// Prometheus target groups from a read of instances (or of a namespace's records), or the read's error.
    static func prometheusTargets(_ response: NodeResponse, ifNoneMatch: String?, context: ResponseContext) -> [UInt8] {
        let instances: [ServiceInstance]
        switch response {
        case .read(.instances(let list), _): instances = list.instances
        case .read(.range(let range), _): instances = range.keyValues.compactMap(\.instance)
        default: return encode(response, context: context)
        }
        return PrometheusTargets.encode(instances, ifNoneMatch: ifNoneMatch, context: context).bytes(keepAlive: true)
    }

    static func error(_ error: APIError, context: ResponseContext) -> [UInt8] {
        APIResponse.encodeError(error, context: context).bytes(keepAlive: error.status.code < 500 && error.status.code != 400)
    }

    static func parseError(_ error: HTTPParseError) -> [UInt8] {
        APIResponse.encodeError(APIError(parseError: error), context: ResponseContext(revision: .zero, leader: nil, term: .zero))
            .bytes(keepAlive: false)
    }

    /// The whole answer to a connection over `--max-connections`, written before it is closed: a client
    /// sees why (and when to come back) instead of a connection reset.
    static func tooManyConnections(limit: Int) -> [UInt8] {
        let error = APIError(
            status: .serviceUnavailable, code: "too_many_connections",
            message: "this node already holds its limit of \(limit) client connections (--max-connections); "
                + "retry later or use another node", retryAfterSeconds: 1)
        return APIResponse.encodeError(error, context: ResponseContext(revision: .zero, leader: nil, term: .zero))
            .bytes(keepAlive: false)
    }

    static func requestTimeout() -> [UInt8] {
        let error = APIError(status: .requestTimeout, code: "request_timeout", message: "the request did not arrive completely in time")
        return APIResponse.encodeError(error, context: ResponseContext(revision: .zero, leader: nil, term: .zero)).bytes(keepAlive: false)
    }

    static func health(context: ResponseContext) -> [UInt8] {
        APIResponse.encodeText("{\"status\":\"ok\"}\n", contentType: "application/json", context: context).bytes(keepAlive: true)
    }

    static func readiness(isReady: Bool, status: NodeStatus, context: ResponseContext) -> [UInt8] {
        let reason: String
        if status.raft.leader == nil {
            reason = "no leader"
        } else if isReady {
            reason = "ready"
        } else if status.raft.appliedIndex < status.raft.commitIndex {
            reason = "applying \(status.raft.appliedIndex) of \(status.raft.commitIndex)"
        } else {
            reason = "confirming its state before restart with the leader"
        }
        let body = "{\"ready\":\(isReady),\"reason\":\"\(reason)\"}\n"
        return APIResponse.encodeText(body, status: isReady ? .ok : .serviceUnavailable, contentType: "application/json", context: context)
            .bytes(keepAlive: true)
    }

    static func metrics(_ text: String, context: ResponseContext) -> [UInt8] {
        APIResponse.encodeText(text, contentType: "text/plain; version=0.0.4", context: context).bytes(keepAlive: true)
    }

    static func status(_ status: NodeStatus, name: String, context: ResponseContext) -> [UInt8] {
        let raft = status.raft
        let report = ClusterStatusReport(
            name: name, id: raft.id, role: raft.role.rawValue, term: raft.term, leader: context.leader,
            commitIndex: raft.commitIndex, appliedIndex: raft.appliedIndex, revision: status.revision,
            compactedRevision: status.compactedRevision, leaderContactAgeMilliseconds: status.leaderContactAgeMilliseconds)
        return APIResponse.encodeStatus(report, context: context).bytes(keepAlive: true)
    }

    static func alarms(_ alarms: [AlarmDirectory.Alarm], context: ResponseContext) -> [UInt8] {
        APIResponse.encodeAlarms(alarms, context: context).bytes(keepAlive: true)
    }

    static func members(
        _ members: [Member], configuration: Configuration, leader: NodeID?, clusterID: UInt64? = nil, context: ResponseContext
    ) -> [UInt8] {
        APIResponse.encodeMembers(members, configuration: configuration, leader: leader, clusterID: clusterID, context: context)
            .bytes(keepAlive: true)
    }

    // MARK: - Streams

    static func streamHead(context: ResponseContext) -> [UInt8] {
        WatchLines.streamHead(context: context, keepAlive: true)
    }

    static func eventLine(_ event: RegistryEvent, includePrevious: Bool) -> [UInt8] {
        WatchLines.event(event, includePrevious: includePrevious)
    }

    static func progressLine(revision: Revision) -> [UInt8] { WatchLines.progress(revision) }

    static func resyncLine(revision: Revision, items: [KeyValue]) -> [UInt8] { WatchLines.resync(items, revision: revision) }

    static func watchControl(_ line: ArraySlice<UInt8>, limits: RegistryLimits, progressIntervalMilliseconds: Int64)
        -> Result<WatchControl?, WatchControlError>
    {
        Result { () throws(WatchControlError) in
            try WatchControl.parse(line, limits: limits, progressIntervalMilliseconds: progressIntervalMilliseconds)
        }
    }

    static func createdLine(watch id: UInt64, revision: Revision) -> [UInt8] { WatchStreamLines.created(watch: id, revision: revision) }

    static func canceledLine(watch id: UInt64?, error: APIError?) -> [UInt8] { WatchStreamLines.canceled(watch: id, error: error) }

    static func streamErrorLine(code: String, message: String) -> [UInt8] {
        WatchLines.error(APIError(status: .serviceUnavailable, code: code, message: message))
    }

    /// A long poll whose index fell out of the history window: one `{"resync":{…}}` answer, not a stream line.
    static func longPollResync(items: [KeyValue], revision: Revision, context: ResponseContext) -> [UInt8] {
        WatchLines.longPollResponse(.resync(items, revision: revision), includePrevious: false, context: context)
            .bytes(keepAlive: true)
    }

    static func longPoll(events: [RegistryEvent], revision: Revision, includePrevious: Bool, context: ResponseContext) -> [UInt8] {
        WatchLines.longPollResponse(.events(events, through: revision), includePrevious: includePrevious, context: context)
            .bytes(keepAlive: true)
    }

    static func keepAliveLine(_ response: NodeResponse) -> [UInt8] {
        if case .keptAlive(let lease, let ttl) = response { return WatchLines.keptAlive(lease, ttlMilliseconds: ttl) }
        let context = ResponseContext(revision: .zero, leader: nil, term: .zero)
        return APIResponse.encode(response, context: context).body + [0x0A]
    }
}
