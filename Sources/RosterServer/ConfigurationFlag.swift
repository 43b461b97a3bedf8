/// Every setting `roster` accepts, with its default and help line. One table drives the parser, the config
/// file keys, the `--help` text and the "did you mean" suggestions, so they cannot drift apart.
enum ConfigurationFlag: String, CaseIterable, Sendable {
    case name
    case dataDir = "data-dir"
    case clientAddr = "client-addr"
    case peerAddr = "peer-addr"
    case initialCluster = "initial-cluster"
    case join
    case forceNewCluster = "force-new-cluster"
    case heartbeatMilliseconds = "heartbeat-ms"
    case electionMilliseconds = "election-ms"
    case snapshotEntries = "snapshot-entries"
    case historyRevisions = "history-revisions"
    case historyEvents = "history-events"
    case historyBytes = "history-bytes"
    case maxRequestBytes = "max-request-bytes"
    case maxConnections = "max-connections"
    case quotaBytes = "quota-bytes"
    case minFreeBytes = "min-free-bytes"
    case requestTimeoutMilliseconds = "request-timeout-ms"
    case clientStallMilliseconds = "client-stall-ms"
    case ioThreads = "io-threads"
    case dnsAddr = "dns-addr"
    case dnsTTLSeconds = "dns-ttl"
    case dnsMaxStalenessMilliseconds = "dns-max-staleness"
    case logLevel = "log-level"
    case unsafeAckBeforeCommit = "unsafe-ack-before-commit"
    case etcdLayout = "etcd-layout"
    case certFile = "cert-file"
    case keyFile = "key-file"
    case trustedCAFile = "trusted-ca-file"
    case clientCertAuth = "client-cert-auth"
    case peerCertFile = "peer-cert-file"
    case peerKeyFile = "peer-key-file"
    case peerTrustedCAFile = "peer-trusted-ca-file"
    case peerClientCertAuth = "peer-client-cert-auth"
    case peerCertAllowedCN = "peer-cert-allowed-cn"
    case authTokenTTLSeconds = "auth-token-ttl"
    case authPasswordIterations = "auth-password-iterations"
    case authTokenKey = "auth-token-key"
    case config
    case help

    /// `--name`, as typed on the command line.
    var flag: String { "--" + rawValue }

    /// Flags that take no separate value (`--join`, `--help`); `--join=false` is still accepted.
    var isSwitch: Bool {
        self == .join || self == .forceNewCluster || self == .help || self == .unsafeAckBeforeCommit
            || self == .clientCertAuth || self == .peerClientCertAuth
    }

    /// Settings that may be given more than once, each adding to the last (`--etcd-layout`).
    var isRepeatable: Bool { self == .etcdLayout }

    /// Settings a config file may contain: all but `config` (no nesting) and `help`.
    var isFileKey: Bool { self != .config && self != .help }

    /// The accepted range of a numeric setting, nil for the others. Upper bounds keep arithmetic on the values
    /// far from overflow and catch unit mistakes (seconds typed as milliseconds the other way round).
    var numericRange: ClosedRange<Int>? {
        switch self {
        case .heartbeatMilliseconds: 1...60_000
        case .electionMilliseconds: 1...600_000
        case .snapshotEntries: 1...100_000_000
        case .historyRevisions: 1...100_000_000
        case .historyEvents: 1...100_000_000
        case .historyBytes: 1...(64 << 30)
        case .maxRequestBytes: 1...(64 << 20)
        case .maxConnections: 1...1_000_000
        case .quotaBytes: 0...(1 << 50)
        case .minFreeBytes: 0...(1 << 50)
        case .requestTimeoutMilliseconds: 1...3_600_000
        case .clientStallMilliseconds: 1...3_600_000
        case .ioThreads: 0...ServerConfiguration.maximumIOThreads
        case .dnsTTLSeconds: 0...86_400
        case .dnsMaxStalenessMilliseconds: 1...86_400_000
        case .authTokenTTLSeconds: 1...604_800
        case .authPasswordIterations: 1...100_000_000
        default: nil
        }
    }

    var valuePlaceholder: String {
        switch self {
        case .name: "NAME"
        case .dataDir, .config: "PATH"
        case .clientAddr, .peerAddr, .dnsAddr: "IP:PORT"
        case .dnsTTLSeconds, .authTokenTTLSeconds: "SECONDS"
        case .dnsMaxStalenessMilliseconds: "MS"
        case .initialCluster: "N=IP:PORT,..."
        case .join, .forceNewCluster, .help, .unsafeAckBeforeCommit, .clientCertAuth, .peerClientCertAuth: ""
        case .certFile, .keyFile, .trustedCAFile, .peerCertFile, .peerKeyFile, .peerTrustedCAFile, .authTokenKey: "PATH"
        case .peerCertAllowedCN: "NAME"
        case .logLevel: "LEVEL"
        case .etcdLayout: "FRAMEWORK[@NS]=PREFIX"
        default: "N"
        }
    }

    var summary: String {
        switch self {
        case .name: "this member's name, unique in the cluster"
        case .dataDir: "directory for the write-ahead log and snapshots"
        case .clientAddr: "address of the HTTP API listener"
        case .peerAddr: "address of the listener for other members"
        case .initialCluster: "founding members as name=peer-address pairs (default: NAME=PEER-ADDR)"
        case .join: "join a running cluster as a new member (empty log, waits for the leader's snapshot); --join ADDR learns the cluster ID and members from any member's client address"
        case .forceNewCluster: "LOST QUORUM ONLY: make this surviving member a one-member cluster keeping all its data; then drop the flag"
        case .heartbeatMilliseconds: "leader heartbeat interval, also the Raft tick"
        case .electionMilliseconds: "election timeout; at least twice the heartbeat"
        case .snapshotEntries: "applied entries between automatic snapshots"
        case .historyRevisions: "revisions of event history kept for watches (all members alike)"
        case .historyEvents: "most events kept in the watch history (all members alike)"
        case .historyBytes: "most bytes of events kept in the watch history; watchers further behind get a resync (all members alike)"
        case .maxRequestBytes: "largest client request body"
        case .maxConnections: "client connections held open at once"
        case .quotaBytes: "raise the NOSPACE alarm (writes refused cluster-wide) when the state on disk passes this size; 0: off"
        case .minFreeBytes: "raise the NOSPACE alarm when the data directory's disk has less free space than this; 0: off"
        case .requestTimeoutMilliseconds: "how long a client request may wait for commit"
        case .clientStallMilliseconds: "how long a client may stop reading a large answer it is being sent before it is cut"
        case .ioThreads:
            "threads that carry client connections' socket I/O and TLS beside the Raft thread (given: every connection; default: all but one writer's, which the Raft thread keeps until it reads); 0: one thread does everything"
        case .dnsAddr: "address of the DNS interface, UDP and TCP (names <service>.<namespace>.roster.)"
        case .dnsTTLSeconds: "TTL of DNS records and of negative answers"
        case .dnsMaxStalenessMilliseconds: "DNS answers SERVFAIL after this long without a leader, or while local reads are fenced"
        case .logLevel: "debug, info, warning or error"
        case .unsafeAckBeforeCommit: "TESTING ONLY, LOSES DATA: answer writes before they commit (proves the chaos checker bites)"
        case .etcdLayout:
            "an etcd key layout of kratos or kitex paired with native instances of NS (default 'default'); "
                + "repeat or comma-separate; 'none' for none"
        case .certFile: "PEM certificate chain of the client port; makes it TLS (HTTPS, gRPC over TLS, ALPN h2/http1.1)"
        case .keyFile: "PEM private key of --cert-file"
        case .trustedCAFile: "CA bundle that verifies client certificates"
        case .clientCertAuth: "require a client certificate signed by --trusted-ca-file (mutual TLS)"
        case .peerCertFile: "PEM certificate of this member for the peer port (server and client); makes peers TLS"
        case .peerKeyFile: "PEM private key of --peer-cert-file"
        case .peerTrustedCAFile: "CA bundle that verifies other members' certificates (required with --peer-cert-file)"
        case .peerClientCertAuth: "require members dialing in to present a certificate signed by --peer-trusted-ca-file"
        case .peerCertAllowedCN: "accept only member certificates with this common name (dialing in and dialed)"
        case .authTokenTTLSeconds: "lifetime of the tokens Authenticate issues (auth enabled)"
        case .authPasswordIterations:
            "PBKDF2-HMAC-SHA-256 iterations for passwords set from now on (existing ones keep theirs)"
        case .authTokenKey:
            "file of at least 32 secret bytes (mode 0600, the same on every member) that signs and verifies auth "
                + "tokens, re-read when it changes; default: a random key replicated when auth is enabled"
        case .config: "read settings from a file of 'key = value' lines (flags override it)"
        case .help: "print this help and exit"
        }
    }

    /// The default as shown in `--help`, read from `ServerConfiguration()` so the text cannot go stale.
    func defaultText(_ defaults: ServerConfiguration) -> String? {
        switch self {
        case .name: defaults.name
        case .dataDir: defaults.dataDirectory
        case .clientAddr: defaults.clientAddress.description
        case .peerAddr: defaults.peerAddress.description
        case .initialCluster: defaults.resolvedInitialCluster.map(\.description).joined(separator: ",")
        case .join: "false"
        case .forceNewCluster: "false"
        case .heartbeatMilliseconds: String(defaults.heartbeatMilliseconds)
        case .electionMilliseconds: String(defaults.electionMilliseconds)
        case .snapshotEntries: String(defaults.snapshotEntries)
        case .historyRevisions: String(defaults.historyRevisions)
        case .historyEvents: String(defaults.historyEvents)
        case .historyBytes: String(defaults.historyBytes)
        case .maxRequestBytes: String(defaults.maxRequestBytes)
        case .maxConnections: String(defaults.maxConnections)
        case .quotaBytes: String(defaults.quotaBytes)
        case .minFreeBytes: String(defaults.minFreeBytes)
        case .requestTimeoutMilliseconds: String(defaults.requestTimeoutMilliseconds)
        case .clientStallMilliseconds: String(defaults.clientStallMilliseconds)
        case .ioThreads:
            "one per core of this member's share (the machine's cores divided among the members on it), at most "
                + "\(ServerConfiguration.maximumDefaultIOThreads); 0 below two"
        case .dnsAddr: defaults.dnsAddress?.description ?? "off"
        case .dnsTTLSeconds: String(defaults.dnsTTLSeconds)
        case .dnsMaxStalenessMilliseconds: String(defaults.dnsMaxStalenessMilliseconds)
        case .logLevel: defaults.logLevel.rawValue
        case .unsafeAckBeforeCommit: "false"
        case .etcdLayout: defaults.etcdLayouts.isEmpty ? "none" : defaults.etcdLayouts.map(\.description).joined(separator: ",")
        case .clientCertAuth, .peerClientCertAuth: "false"
        case .authTokenTTLSeconds: String(defaults.authTokenTTLSeconds)
        case .authPasswordIterations: String(defaults.authPasswordIterations)
        case .authTokenKey: "a random key replicated when auth is enabled"
        case .config, .help, .certFile, .keyFile, .trustedCAFile, .peerCertFile, .peerKeyFile, .peerTrustedCAFile,
             .peerCertAllowedCN: nil
        }
    }

    /// The known flag closest to a mistyped one, if any is close enough to be a plausible typo.
    static func suggestion(for unknown: String) -> String? {
        let typed = unknown.drop(while: { $0 == "-" }).lowercased()
        guard !typed.isEmpty else { return nil }
        let scored = allCases.map { ($0, editDistance(typed, $0.rawValue)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        let isPrefix = best.0.rawValue.hasPrefix(typed) || typed.hasPrefix(best.0.rawValue)
        return best.1 <= max(2, best.0.rawValue.count / 3) || isPrefix ? best.0.rawValue : nil
    }

    /// Levenshtein distance over characters; flags are short, so O(n·m) is nothing.
    static func editDistance(_ lhs: String, _ rhs: String) -> Int {
        let left = Array(lhs)
        let right = Array(rhs)
        var previous = Array(0...right.count)
        for (row, leftCharacter) in left.enumerated() {
            var current = [row + 1] + Array(repeating: 0, count: right.count)
            for (column, rightCharacter) in right.enumerated() {
                let substitution = previous[column] + (leftCharacter == rightCharacter ? 0 : 1)
                current[column + 1] = min(substitution, previous[column + 1] + 1, current[column] + 1)
            }
            previous = current
        }
        return previous[right.count]
    }
}

extension ServerConfiguration {
    /// The `roster --help` text: usage, then every flag with its default.
    public static var helpText: String {
        let defaults = ServerConfiguration()
        var lines = [
            "Usage: roster [flags]",
            "",
            "Runs one member of a Roster cluster. With no flags: a single-node cluster named 'default',",
            "data in ./roster-data, clients on 127.0.0.1:2379, peers on 127.0.0.1:2380.",
            "",
            "Flags (also accepted as --flag=value; in a --config file as 'flag = value' without dashes):",
        ]
        for flag in ConfigurationFlag.allCases {
            let left = "  " + flag.flag + (flag.valuePlaceholder.isEmpty ? "" : " " + flag.valuePlaceholder)
            let padded = left.count < 32 ? left + String(repeating: " ", count: 32 - left.count) : left + "  "
            let defaultNote = flag.defaultText(defaults).map { " (default \($0))" } ?? ""
            lines.append(padded + flag.summary + defaultNote)
        }
        lines += [
            "",
            "Example, member n1 of three on one machine:",
            "  roster --name n1 --data-dir /tmp/n1 --client-addr 127.0.0.1:2379 --peer-addr 127.0.0.1:2380 \\",
            "         --initial-cluster n1=127.0.0.1:2380,n2=127.0.0.1:2382,n3=127.0.0.1:2384",
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}
