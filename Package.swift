// swift-tools-version: 6.2
//
// Dependency arrows (enforced here, see README "Layout"; `scripts/check-layering` checks that every target's
// dependencies are exactly the modules its files import, and that only the syscall modules import Glibc):
//   Codec            pure byte encoding, CRC-32C; depends on nothing
//   Containers       pure data structures shared by pure and I/O modules (MinHeap); depends on nothing
//   Raft             pure consensus core, and SplitMix64 (the one seeded generator); depends on nothing
//   Registry         pure registry state machine, LeaseKeeper; Codec, Containers
//   Wire             pure codecs for Raft types and peer frames; Codec, Raft
//   Storage          write-ahead log and snapshots behind `FileSystem` (no syscalls); Codec, Raft, Wire
//   PosixStorage     `PosixFileSystem`: Storage's `FileSystem` on real files, the only file syscalls; Storage
//   Simulation       deterministic whole-node simulator (test support); Raft, Registry, RosterNode, Wire, Storage, Codec
//   CLinuxShim/Posix every other syscall (sockets, epoll, clocks, signals, stderr, exit, child processes,
//                    file signatures); Posix uses Containers' heap for its timers
//   COpenSSL/TLS     the system's OpenSSL (pkg-config openssl, Debian libssl-dev) and TLS over memory buffers:
//                    contexts, per-connection engines, certificate reload (which looks at files through Posix)
//   AuthCrypto       libcrypto for auth: PBKDF2 password credentials, HMAC-signed tokens, random keys;
//                    COpenSSL, Codec, Registry
//   HTTP             pure HTTP/1.1 request parser and response writer; Codec
//   Protobuf         pure proto3 wire format (reader, writer); depends on nothing
//   GRPC             pure gRPC message framing, grpc-timeout, grpc-message, status codes; depends on nothing
//   EtcdAPI          pure etcd 3.4 v3 API messages and method table; Protobuf
//   EtcdGateway      pure etcd v3 calls ↔ node requests and registry state (KV, Lease, Watch, Cluster,
//                    Maintenance); EtcdAPI, GRPC, Protobuf, Registry, RosterNode, Raft
//   DNS              pure DNS: message codec (RFC 1035, 2782, 6891) and the answerer over the registry; Registry
//   HPACK, HTTP2     pure HTTP/2: header compression (RFC 7541) and the connection state machine (RFC 9113)
//   RosterNode       the deterministic node driver (Raft + registry + requests); Raft, Registry, Codec
//   Console          the web console's HTML, CSS and JavaScript as string literals, and their lookup; nothing
//   RosterAPI        pure HTTP/JSON routing and encoding; Codec, HTTP, Registry, RosterNode, Raft, Console
//   RosterServer     the shell: epoll loop, peers, client sessions (HTTP/1.1 and h2c/gRPC), watches, DNS;
//                    carries out the driver's `NodeEffects`
//   RosterClient     the Swift client library (Foundation, and TLS for https endpoints); rosterctl is its CLI
//   RosterTestSupport  real roster processes on loopback (spawned through Posix), the shared background writer,
//                    and condition waits, for integration, client and CLI tests; TLS, COpenSSL, Posix
//   roster-bench     the load generator of scripts/bench; Posix (its clock)
import PackageDescription

let strict: [SwiftSetting] = [
    .treatAllWarnings(as: .error),
    // Release builds leave out the runtime exclusivity checks (overlapping accesses to class properties and
    // globals are still refused at compile time where the compiler can see them, and debug builds, which run
    // every unit, property, simulation and integration test, keep the runtime checks). Measured with callgrind on
    // a leader serving etcd-API reads (2026-12-05): swift_beginAccess, its access set and the thread-local
    // lookups behind them were 7.7 % of the instructions per read. Cross-module optimization lets the shell
    // specialize the generic node driver (`NodeDriver<ServerEnvironment>`) and inline small functions of other
    // modules: without it the driver ran unspecialized, instantiating its nested types' metadata at run time
    // (callgrind, etcd-API reads on a leader: 70,497 → 65,403 instructions per read with this flag and a faster
    // header-syntax check together; the metadata lookups alone were 2.6 %).
    .unsafeFlags(["-enforce-exclusivity=unchecked", "-cross-module-optimization"], .when(configuration: .release)),
]

let package = Package(
    name: "Roster",
    platforms: [.macOS(.v15)],
    products: [
        // What a Swift service depends on: `.product(name: "RosterClient", package: "Roster")`.
        .library(name: "RosterClient", targets: ["RosterClient"]),
        .executable(name: "roster", targets: ["roster"]),
        .executable(name: "rosterctl", targets: ["rosterctl"]),
        .library(name: "Raft", targets: ["Raft"]),
        .library(name: "Registry", targets: ["Registry"]),
    ],
    targets: [
        .target(name: "Codec", swiftSettings: strict),
        .target(name: "Containers", swiftSettings: strict),
        .target(name: "Raft", swiftSettings: strict),
        .target(name: "Registry", dependencies: ["Codec", "Containers"], swiftSettings: strict),
        .target(name: "Wire", dependencies: ["Codec", "Raft"], swiftSettings: strict),
        .target(name: "Storage", dependencies: ["Codec", "Raft", "Wire"], swiftSettings: strict),
        .target(name: "PosixStorage", dependencies: ["Storage", "CLinuxShim"], swiftSettings: strict),
        .executableTarget(name: "storage-bench", dependencies: ["Storage", "PosixStorage", "Raft", "Posix"], swiftSettings: strict),
        .target(
            name: "Simulation", dependencies: ["Raft", "Registry", "RosterNode", "Wire", "Storage", "Codec"], swiftSettings: strict),
        .target(name: "CLinuxShim"),
        .target(name: "Posix", dependencies: ["CLinuxShim", "Containers"], swiftSettings: strict),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]),
        .target(name: "TLS", dependencies: ["COpenSSL", "Posix"], swiftSettings: strict),
        .target(name: "AuthCrypto", dependencies: ["COpenSSL", "Codec", "Registry"], swiftSettings: strict),
        .target(name: "HTTP", dependencies: ["Codec"], swiftSettings: strict),
        .target(name: "Protobuf", swiftSettings: strict),
        .target(name: "GRPC", swiftSettings: strict),
        .target(name: "EtcdAPI", dependencies: ["Protobuf"], swiftSettings: strict),
        .target(
            name: "EtcdGateway", dependencies: ["EtcdAPI", "GRPC", "Protobuf", "Registry", "RosterNode", "Raft"],
            swiftSettings: strict),
        .target(name: "HPACK", swiftSettings: strict),
        .target(name: "DNS", dependencies: ["Registry"], swiftSettings: strict),
        .target(name: "HTTP2", dependencies: ["HPACK"], swiftSettings: strict),
        .target(name: "RosterNode", dependencies: ["Raft", "Registry", "Codec", "Wire"], swiftSettings: strict),
        .target(name: "Console", swiftSettings: strict),
        .target(
            name: "RosterAPI", dependencies: ["Codec", "HTTP", "Registry", "RosterNode", "Raft", "Console"],
            swiftSettings: strict),
        .target(
            name: "RosterServer",
            dependencies: [
                "Posix", "TLS", "AuthCrypto", "HTTP", "Storage", "PosixStorage", "RosterNode", "RosterAPI", "Raft", "Registry", "Wire", "Codec",
                "HPACK", "HTTP2", "GRPC", "Protobuf", "EtcdAPI", "EtcdGateway", "DNS",
            ],
            swiftSettings: strict),
        .executableTarget(name: "roster", dependencies: ["RosterServer", "Posix", "RosterClient"], swiftSettings: strict),
        // Test support: real roster processes on loopback, for integration, client and CLI tests.
        .target(name: "RosterTestSupport", dependencies: ["COpenSSL", "TLS", "Posix"], swiftSettings: strict),
        .executableTarget(name: "simulate", dependencies: ["Simulation", "Raft", "Posix"], swiftSettings: strict),
        .executableTarget(name: "registry-bench", dependencies: ["Registry"], swiftSettings: strict),
        // The client library and CLI (Foundation only; talks to nodes over HTTP/JSON).
        .target(name: "RosterClient", dependencies: ["TLS"], swiftSettings: strict),
        .executableTarget(name: "rosterctl", dependencies: ["RosterClient", "Storage", "Registry"], swiftSettings: strict),
        // The load generator of scripts/bench.
        .executableTarget(name: "roster-bench", dependencies: ["Posix"], swiftSettings: strict),

        .testTarget(name: "CodecTests", dependencies: ["Codec"], swiftSettings: strict),
        .testTarget(name: "ContainersTests", dependencies: ["Containers", "Raft"], swiftSettings: strict),
        .testTarget(name: "RosterNodeTests", dependencies: ["RosterNode", "Raft", "Registry", "Codec"], swiftSettings: strict),
        .testTarget(name: "WireTests", dependencies: ["Wire", "Raft", "Codec"], swiftSettings: strict),
        .testTarget(name: "RaftTests", dependencies: ["Raft"], swiftSettings: strict),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "Codec", "Raft"], swiftSettings: strict),
        // Golden transcripts (testdata/*.txt) of the Raft core and of leases and watches.
        .testTarget(
            name: "InteractionTests", dependencies: ["Raft", "Registry"], exclude: ["testdata"], swiftSettings: strict),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "PosixStorage", "Raft", "Wire", "Codec"], swiftSettings: strict),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "Raft"], swiftSettings: strict),
        .testTarget(name: "PosixTests", dependencies: ["Posix", "HTTP"], swiftSettings: strict),
        .testTarget(name: "AuthCryptoTests", dependencies: ["AuthCrypto", "Registry"], swiftSettings: strict),
        .testTarget(name: "TLSTests", dependencies: ["TLS", "COpenSSL", "RosterTestSupport"], swiftSettings: strict),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "Raft"], swiftSettings: strict),
        .testTarget(name: "ProtobufTests", dependencies: ["Protobuf", "Raft"], swiftSettings: strict),
        .testTarget(name: "GRPCTests", dependencies: ["GRPC", "Raft"], swiftSettings: strict),
        .testTarget(name: "EtcdAPITests", dependencies: ["EtcdAPI", "Protobuf", "Raft"], swiftSettings: strict),
        .testTarget(
            name: "EtcdGatewayTests", dependencies: ["EtcdGateway", "EtcdAPI", "Protobuf", "GRPC", "Registry", "RosterNode", "Raft"],
            swiftSettings: strict),
        .testTarget(name: "HPACKTests", dependencies: ["HPACK", "Raft"], swiftSettings: strict),
        .testTarget(name: "DNSTests", dependencies: ["DNS", "Registry", "Raft"], swiftSettings: strict),
        .testTarget(name: "HTTP2Tests", dependencies: ["HTTP2", "HPACK", "Raft"], swiftSettings: strict),
        .testTarget(
            name: "RosterServerTests",
            dependencies: [
                "RosterServer", "HTTP", "HTTP2", "HPACK", "Posix", "Wire", "Raft", "RosterNode", "Codec", "Registry", "Storage",
                "RosterTestSupport",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "RosterAPITests", dependencies: ["RosterAPI", "HTTP", "Registry", "RosterNode", "Raft", "Console"],
            swiftSettings: strict),
        .testTarget(name: "ConsoleTests", dependencies: ["Console"], swiftSettings: strict),
        .testTarget(
            name: "RosterIntegrationTests",
            dependencies: ["RosterClient", "RosterTestSupport", "Posix", "Raft", "HTTP2", "HPACK", "EtcdAPI", "Protobuf", "DNS"],
            swiftSettings: strict),
        .testTarget(
            name: "RosterClientTests", dependencies: ["RosterClient", "RosterTestSupport"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
