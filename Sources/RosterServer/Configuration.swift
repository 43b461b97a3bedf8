import AuthCrypto
import Posix
import Raft
import Registry
import RosterNode

/// Everything a `roster` process needs to start, after flags and the config file are merged and validated.
///
/// The stored properties are the operator's settings; the computed ones (`members`, `clusterID`, ticks) are
/// derived here once so every part of the server agrees on them. A value built by `parse(arguments:configFile:)`
/// has passed `validate()`; one built by hand should be validated before use.
public struct ServerConfiguration: Hashable, Sendable {
    /// One `name=address` entry of `--initial-cluster`.
    public struct ClusterEntry: Hashable, Sendable, CustomStringConvertible {
        public var name: String
        public var peerAddress: SocketAddress

        public init(name: String, peerAddress: SocketAddress) {
            self.name = name
            self.peerAddress = peerAddress
        }

        public var description: String { "\(name)=\(peerAddress)" }
    }

    /// This member's name; its Raft ID is derived from it (`Member.id(forName:)`).
    public var name = "default"
    /// Where the write-ahead log and snapshots live.
    public var dataDirectory = "./roster-data"
    /// The HTTP listener for clients.
    public var clientAddress = SocketAddress.loopback(port: 2379)
    /// The TCP listener for other members.
    public var peerAddress = SocketAddress.loopback(port: 2380)
    /// The members a new cluster starts with, or (with `join`) the existing cluster's founding members.
    /// Empty means "just this node", which `resolvedInitialCluster` fills in.
    public var initialCluster: [ClusterEntry] = []
    /// Start as a new member of a running cluster: an empty Raft configuration, waiting for the leader's
    /// snapshot, instead of bootstrapping `initialCluster`.
    public var join = false
    /// `--join ADDR`: a running member's client address ("host:port"). The joiner asks it for the cluster ID and
    /// the member list (`JoinDiscovery`), so it needs no `--initial-cluster`.
    public var joinAddress: String?
    /// Lost quorum: rewrite this member's data directory so that it is the only voter, keeping its whole log
    /// and state (`ForceNewCluster`). Used once, on the one surviving member, then dropped.
    public var forceNewCluster = false
    public var heartbeatMilliseconds = 100
    public var electionMilliseconds = 1000
    /// Applied entries between automatic snapshots.
    public var snapshotEntries = 10_000
    /// The watch history window (`RegistryLimits.historyRevisions`, `historyEvents`, `historyBytes`). Every
    /// member must use the same values, since they decide what each member compacts.
    public var historyRevisions = Int(RegistryLimits.standard.historyRevisions)
    public var historyEvents = RegistryLimits.standard.historyEvents
    public var historyBytes = RegistryLimits.standard.historyBytes
    /// The largest client request body accepted (1.5 MiB, as etcd's default).
    public var maxRequestBytes = 1_572_864
    /// The NOSPACE alarm's bounds (`RosterServer+Space`): the state on disk (newest snapshot plus the active log
    /// segment) above `quotaBytes`, or the disk's free space below `minFreeBytes`, raises it; 0 turns a bound off.
    public var quotaBytes = 0
    public var minFreeBytes = 0
    /// Client connections held open at once; more are refused.
    public var maxConnections = 20_000
    /// How long a client request may wait for commit before it fails with a timeout.
    public var requestTimeoutMilliseconds = 5000
    /// How long a client may leave a streamed answer (a large listing, range or resync) unread, with our
    /// outbound buffer full, before the connection is cut and logged: a reader that stopped must not pin
    /// the answer's records and buffers forever.
    public var clientStallMilliseconds = 30_000
    /// Threads that carry client connections (accepted sockets' reads and writes, TLS) beside the thread
    /// that owns Raft and apply, so a node uses more than one core; 0 keeps every connection on that one
    /// thread. See `ClientIOLoops`. `--io-threads` sets it (`explicitIOThreads`); otherwise the member's share of
    /// the machine decides (`defaultIOThreads(cores:membersSharingCores:)`).
    public var ioThreads: Int {
        explicitIOThreads ?? Self.defaultIOThreads(cores: Processors.online, membersSharingCores: membersOnThisMachine)
    }
    /// `--io-threads` as given; nil: the default.
    public var explicitIOThreads: Int?
    /// Whether the Raft loop carries one client connection itself beside the I/O loops, a writer's until it reads (see
    /// `RosterServer.raftLoopTakesConnection`): with the default number of I/O threads. `--io-threads N` puts every
    /// connection on the N I/O loops, as the tests of the relay and the chaos runs want.
    public var raftLoopKeepsAConnection: Bool { explicitIOThreads == nil }
    /// The most `--io-threads` accepted.
    public static let maximumIOThreads = 64
    /// The most I/O threads the default picks, however many cores the machine has.
    public static let maximumDefaultIOThreads = 8
    /// One per core this member can count on (the machine's cores divided among the members on it), at most
    /// `maximumDefaultIOThreads`; none below two, where a hand-off to another thread only adds latency and
    /// wake-ups. The I/O loops answer serializable reads (and, on a cluster of one voter, linearizable ones)
    /// themselves, so a read-heavy node keeps its cores busy with them, while the Raft thread mostly waits for
    /// fsync. Measured on 2 cores (2026-12-05, one member, alternating rounds): 2 threads against 1 answered 26–34 %
    /// more reads per second and registered as fast. Three members on those two cores (2026-12-06, fresh clusters
    /// alternating, 16 clients, 5 s phases): with two I/O threads each, registrations through all members ran
    /// 23–25 % slower than through the leader and took 2.6 context switches per write; with none, 5–8 % slower,
    /// 1.5 switches, and 20 % more of them per second (9,651–9,941 against 7,932–8,050/s).
    public static func defaultIOThreads(cores: Int, membersSharingCores: Int) -> Int {
        let share = cores / max(1, membersSharingCores)
        return share < 2 ? 0 : min(maximumDefaultIOThreads, share)
    }
    /// This member and the others of `resolvedInitialCluster` whose peer address is on this machine: the same
    /// address as this member's, or both loopback. Members a joiner learns only from the cluster are not counted.
    public var membersOnThisMachine: Int {
        let others = resolvedInitialCluster.filter { entry in
            entry.name != name && entry.peerAddress.isOnSameMachine(as: peerAddress)
        }
        return 1 + others.count
    }
    /// Where the DNS interface listens (UDP and TCP); nil leaves it off.
    public var dnsAddress: SocketAddress? = nil
    /// TTL of every DNS record, and how long resolvers may cache a negative answer.
    public var dnsTTLSeconds = 5
    /// How long without word from a leader (or how long fenced) DNS keeps answering from local state;
    /// past it, SERVFAIL sends resolvers to another node.
    public var dnsMaxStalenessMilliseconds = 5000
    public var logLevel = LogLevel.info
    /// Testing only: answer writes as soon as the leader appends them, before they commit. Loses
    /// acknowledged writes on leader failure; exists so the chaos suite can prove its checker notices.
    public var unsafeAcknowledgeBeforeCommit = false
    /// The framework layouts of the etcd key space (`--etcd-layout`): none unless set, since each one adds a
    /// key per native instance. Every member must use the same, since they decide what a write writes.
    public var etcdLayouts: [FrameworkLayout] = []

    /// The cluster ID the data directory's CLUSTER file assigns (a restored or forced-new cluster), which
    /// overrides the one derived from `--initial-cluster`; set by `adoptingDataDirectoryAssignment()`, never
    /// by a flag.
    public var assignedClusterID: UInt64?
    /// TLS on the client and peer ports (etcd's flag names); empty means plaintext.
    public var tls = ServerTLSSettings()
    /// How long a token from Authenticate stays valid (etcd's simple tokens live 300 s too).
    public var authTokenTTLSeconds = 300
    /// PBKDF2 iterations for passwords set on this member; stored with each credential, so members may differ.
    public var authPasswordIterations = Int(PasswordHasher.defaultIterations)
    /// `--auth-token-key`: the file whose bytes sign tokens instead of the key replicated on auth enable.
    public var authTokenKeyPath: String?

    /// The defaults: a single-node cluster named `default`.
    public init() {}

    // MARK: - Derived values

    /// The initial cluster as given, or `name=peerAddress` when none was given.
    public var resolvedInitialCluster: [ClusterEntry] {
        initialCluster.isEmpty ? [ClusterEntry(name: name, peerAddress: peerAddress)] : initialCluster
    }

    /// This member's Raft ID.
    public var ownID: NodeID { Member.id(forName: name) }

    /// The member directory to start with: the initial cluster, plus this node when joining and not listed.
    /// Only this node's client address is known at start; others are learned from the cluster.
    public var members: [Member] {
        var entries = resolvedInitialCluster
        if !entries.contains(where: { $0.name == name }) {
            entries.append(ClusterEntry(name: name, peerAddress: peerAddress))
        }
        return entries.map { entry in
            Member(id: Member.id(forName: entry.name), name: entry.name, peerAddress: entry.peerAddress.description,
                   clientAddress: entry.name == name ? clientAddress.description : nil)
        }
    }

    /// The cluster ID carried in every peer frame: the data directory's assignment when it has one, else
    /// derived from the founding members, so a joining node computes it from the same `--initial-cluster` the
    /// founders used; its own entry, if listed, is left out when joining, because the founders never saw it.
    public var clusterID: UInt64 {
        if let assignedClusterID { return assignedClusterID }
        let founders = resolvedInitialCluster.filter { !join || $0.name != name }
        return Member.clusterID(of: founders.map {
            Member(id: Member.id(forName: $0.name), name: $0.name, peerAddress: $0.peerAddress.description)
        })
    }

    /// One Raft tick lasts one heartbeat interval, so the leader heartbeats every tick.
    public var tick: Duration { .milliseconds(heartbeatMilliseconds) }
    /// Always 1: see `tick`.
    public var heartbeatTicks: Int { 1 }
    /// The election timeout in ticks, rounded down (validation guarantees at least 2).
    public var electionTimeoutTicks: Int { electionMilliseconds / heartbeatMilliseconds }
    /// The request timeout as a `Duration`.
    public var requestTimeout: Duration { .milliseconds(requestTimeoutMilliseconds) }
    /// The client stall bound as a `Duration`.
    public var clientStall: Duration { .milliseconds(clientStallMilliseconds) }

    /// Raft options with this configuration's timing and the library defaults for everything else.
    public var raftOptions: RaftOptions {
        var options = RaftOptions()
        options.heartbeatTicks = heartbeatTicks
        options.electionTimeoutTicks = electionTimeoutTicks
        return options
    }
}
