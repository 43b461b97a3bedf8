/// Counters and latency histograms, rendered in the Prometheus text exposition format.
///
/// Owned by the loop thread; no locks.
struct Metrics {
    struct Histogram {
        /// Upper bounds in seconds.
        static let bounds: [Double] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
        var counts = [UInt64](repeating: 0, count: bounds.count)
        var count: UInt64 = 0
        var sum: Double = 0

        mutating func observe(_ seconds: Double) {
            count += 1
            sum += seconds
            if let bucket = Self.bounds.firstIndex(where: { seconds <= $0 }) { counts[bucket] += 1 }
        }

        /// Adds another histogram's observations (the I/O loops' local reads to the Raft loop's requests).
        mutating func add(_ other: Histogram) {
            count += other.count
            sum += other.sum
            for position in counts.indices { counts[position] += other.counts[position] }
        }

        func render(_ name: String, help: String, into text: inout String) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
            var cumulative: UInt64 = 0
            for (position, bound) in Self.bounds.enumerated() {
                cumulative += counts[position]
                text += "\(name)_bucket{le=\"\(bound)\"} \(cumulative)\n"
            }
            text += "\(name)_bucket{le=\"+Inf\"} \(count)\n\(name)_sum \(sum)\n\(name)_count \(count)\n"
        }
    }

    var requests: [String: UInt64] = [:]
    var fsync = Histogram()
    var requestLatency = Histogram()
    /// Periodic snapshots, from capture to a durable file (encoding and writing, on the snapshot worker).
    var snapshotWrite = Histogram()
    var clientConnections = 0
    /// Client connections the Raft loop carries itself while I/O threads run: 0 or 1 (`RosterServer.sessionOnRaftLoop`).
    var clientConnectionsOnRaftLoop = 0
    /// Connections answered 503 `too_many_connections` because `--max-connections` were open.
    var connectionsRefused: UInt64 = 0
    var watchers = 0
    /// Requests refused for auth reasons (no or bad token, permission denied, password worker full).
    var authRefusals: UInt64 = 0
    var peerDisconnects: UInt64 = 0
    /// Serializable reads the I/O loops answered from the published view (`LocalReadServer`), also counted in
    /// `requests` and `requestLatency`.
    var localReads: UInt64 = 0

    /// Renders every metric; `gauges` are values the caller reads from the node at render time.
    func render(gauges: [(name: String, help: String, value: Double)]) -> String {
        var text = ""
        for gauge in gauges {
            text += "# HELP \(gauge.name) \(gauge.help)\n# TYPE \(gauge.name) gauge\n\(gauge.name) \(gauge.value)\n"
        }
        text += "# HELP roster_client_connections Open client connections.\n# TYPE roster_client_connections gauge\n"
        text += "roster_client_connections \(clientConnections)\n"
        text += "# HELP roster_client_connections_on_raft_loop Client connections the Raft loop carries itself beside the "
            + "I/O threads: at most one, a client that writes, until it reads.\n"
        text += "# TYPE roster_client_connections_on_raft_loop gauge\n"
        text += "roster_client_connections_on_raft_loop \(clientConnectionsOnRaftLoop)\n"
        text += "# HELP roster_client_connections_refused_total Connections refused over --max-connections.\n"
        text += "# TYPE roster_client_connections_refused_total counter\n"
        text += "roster_client_connections_refused_total \(connectionsRefused)\n"
        text += "# HELP roster_auth_refusals_total Requests refused by authentication or authorization.\n"
        text += "# TYPE roster_auth_refusals_total counter\nroster_auth_refusals_total \(authRefusals)\n"
        text += "# HELP roster_watchers Active watches (one watch stream may carry many).\n# TYPE roster_watchers gauge\nroster_watchers \(watchers)\n"
        text += "# HELP roster_requests_total Client requests by kind.\n# TYPE roster_requests_total counter\n"
        for kind in requests.keys.sorted() { text += "roster_requests_total{kind=\"\(kind)\"} \(requests[kind]!)\n" }
        text += "# HELP roster_local_reads_total Reads answered on an I/O loop from the published view (HTTP API reads, etcd Range calls), without the Raft loop.\n"
        text += "# TYPE roster_local_reads_total counter\nroster_local_reads_total \(localReads)\n"
        text += "# HELP roster_peer_disconnects_total Peer connections lost.\n# TYPE roster_peer_disconnects_total counter\n"
        text += "roster_peer_disconnects_total \(peerDisconnects)\n"
        fsync.render("roster_fsync_seconds", help: "Duration of each persist (write plus fsync).", into: &text)
        requestLatency.render("roster_request_seconds", help: "Client request latency.", into: &text)
        snapshotWrite.render(
            "roster_snapshot_write_seconds", help: "Periodic snapshot, capture to durable file (off the Raft loop).",
            into: &text)
        return text
    }
}
