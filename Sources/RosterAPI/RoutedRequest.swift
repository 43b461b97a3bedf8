import Registry
import RosterNode

/// What an HTTP request asks the node for, after routing and validation.
///
/// Most requests map one-to-one onto a `NodeRequest`. The other cases exist because the server must do
/// more than hand one request to the node: a registration with a TTL is two commands, a watch and a
/// streamed keepalive hold the connection, and health, readiness, metrics, status and the member list
/// are answered from node-local state.
public enum RoutedRequest: Equatable, Sendable {
    /// Hand this to the node and encode its answer with `APIResponse.encode`.
    case node(NodeRequest)
    /// `GET /v1/watch`: stream events (or long-poll for the next change) as `WatchSpec` says.
    case watch(WatchSpec)
    /// `POST /v1/watch`: a watch stream that carries many watches, created and cancelled by control
    /// lines the client writes after the response head (`WatchControl`); every event line names its watch.
    case watchStream(WatchStreamOptions)
    /// `POST /v1/leases/{id}/keepalive?stream=true`: keep the lease alive for as long as the connection
    /// stays open, one renewal per client line, answered with one NDJSON line each.
    case keepAliveStream(LeaseID)
    /// `GET /healthz`: whether the process is alive (answered without the node's consent).
    case health
    /// `GET /readyz`: whether the node knows a leader and has caught up enough to serve.
    case ready
    /// `GET /metrics`: Prometheus text exposition.
    case metrics
    /// `GET /v1/cluster/status`: answer with `APIResponse.encodeStatus`.
    case clusterStatus
    /// `GET /v1/cluster/members`: answer with `APIResponse.encodeMembers`.
    case members
    /// `GET /v1/alarms`: the alarms in force, from this node's applied state (`APIResponse.encodeAlarms`).
    case alarms
    /// `GET /v1/snapshot`: a backup of this node's applied state at one revision (`BackupFile`), streamed.
    case snapshot
    /// `GET /v1/sd/prometheus`: read `query` and answer with Prometheus target groups (`PrometheusTargets`).
    case prometheusTargets(RegistryQuery, ReadOptions, ifNoneMatch: String?)
    /// `GET /ui`, `/ui/…`: the web console; answer with `ConsoleResponse.encode`.
    case console(ConsoleRequest)
    /// `/v1/auth/…`: authentication, the auth switch, users and roles (`Router+Auth`).
    case auth(AuthRequest)
    /// The request cannot be served; answer with `APIResponse.encodeError`.
    case error(APIError)
}

/// A watch as the client asked for it.
public struct WatchSpec: Equatable, Sendable {
    /// Which keys to watch.
    public var filter: WatchFilter
    /// Deliver events with revision >= this one (etcd's `start_revision`, inclusive), so the server asks
    /// the registry for `events(after: fromRevision - 1)`; nil (also what `from_revision=0` gives, as in
    /// etcd) means from the next change. Always positive when set. A compacted start gets a resync line
    /// instead of an error; a future one simply waits.
    public var fromRevision: Revision?
    /// How often an idle stream gets a progress line, so clients can tell a quiet watch from a dead one.
    public var progressIntervalMilliseconds: Int64
    /// Include the previous value of every event (`prev_value=true`).
    public var includePrevious: Bool
    public var mode: Mode

    public init(
        filter: WatchFilter, fromRevision: Revision? = nil, progressIntervalMilliseconds: Int64 = 10_000,
        includePrevious: Bool = false, mode: Mode = .stream
    ) {
        self.filter = filter
        self.fromRevision = fromRevision
        self.progressIntervalMilliseconds = progressIntervalMilliseconds
        self.includePrevious = includePrevious
        self.mode = mode
    }

    /// How events are delivered.
    public enum Mode: Equatable, Sendable {
        /// A chunked NDJSON stream of event, progress and resync lines until either side ends it.
        case stream
        /// Consul-style blocking query: answer once the filter's keys change after revision `index` (the
        /// registry's `events(after: index)` is non-empty), or
        /// after `waitMilliseconds` with no change (then with no events and the current revision).
        case longPoll(index: Revision, waitMilliseconds: Int64)
    }
}

/// A watch stream as the client opened it; its watches come later, one `create` line each.
public struct WatchStreamOptions: Equatable, Sendable {
    /// How long the stream may stay silent before it gets a progress line, so clients can tell a quiet
    /// stream from a dead one. Also the progress interval of every watch created on it.
    public var progressIntervalMilliseconds: Int64

    public init(progressIntervalMilliseconds: Int64 = 10_000) {
        self.progressIntervalMilliseconds = progressIntervalMilliseconds
    }
}
