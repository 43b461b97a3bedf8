// swift-tools-version: 6.2
//
// Dependency arrows (enforced here, see README "Layout"):
//   Codec            pure byte encoding, CRC-32C; depends on nothing
//   Raft             pure consensus core; depends on nothing
//   Registry         pure registry state machine; depends on Codec
//   Wire             pure codecs for Raft types and peer frames; Codec, Raft
//   Storage          write-ahead log and snapshots; Codec, Raft, Wire
//   Simulation       deterministic whole-node simulator (test support); Raft, Registry, RosterNode, Wire, Storage
//   CLinuxShim/Posix the only code that makes syscalls
//   HTTP             pure HTTP/1.1 request parser and response writer
import PackageDescription

let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]

let package = Package(
    name: "Roster",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Raft", targets: ["Raft"]),
        .library(name: "Registry", targets: ["Registry"]),
    ],
    targets: [
        .target(name: "Codec", swiftSettings: strict),
        .target(name: "Raft", swiftSettings: strict),
        .target(name: "Registry", dependencies: ["Codec"], swiftSettings: strict),
        .target(name: "Wire", dependencies: ["Codec", "Raft"], swiftSettings: strict),
        .target(name: "Storage", dependencies: ["Codec", "Raft", "Wire"], swiftSettings: strict),
        .executableTarget(name: "storage-bench", dependencies: ["Storage", "Raft"], swiftSettings: strict),
        .target(
            name: "Simulation", dependencies: ["Raft", "Registry", "RosterNode", "Wire", "Storage", "Codec"], swiftSettings: strict),
        .target(name: "CLinuxShim"),
        .target(name: "Posix", dependencies: ["CLinuxShim"], swiftSettings: strict),
        .target(name: "HTTP", dependencies: ["Codec"], swiftSettings: strict),
        .target(name: "RosterNode", dependencies: ["Raft", "Registry", "Wire", "Codec"], swiftSettings: strict),
        .target(name: "RosterAPI", dependencies: ["Codec", "HTTP", "Registry", "RosterNode", "Raft"], swiftSettings: strict),
        .target(
            name: "RosterServer",
            dependencies: ["Posix", "CLinuxShim", "HTTP", "Storage", "RosterNode", "RosterAPI", "Raft", "Registry", "Wire", "Codec"],
            swiftSettings: strict),
        .executableTarget(name: "roster", dependencies: ["RosterServer", "Posix"], swiftSettings: strict),
        // Test support: real roster processes on loopback, for integration, client and CLI tests.
        .target(name: "RosterTestSupport", swiftSettings: strict),
        .executableTarget(name: "simulate", dependencies: ["Simulation", "Raft"], swiftSettings: strict),
        .executableTarget(name: "registry-bench", dependencies: ["Registry"], swiftSettings: strict),
        // The client library and CLI (Foundation only; talks to nodes over HTTP/JSON).
        .target(name: "RosterClient", swiftSettings: strict),
        .executableTarget(name: "rosterctl", dependencies: ["RosterClient"], swiftSettings: strict),
        // The load generator of scripts/bench.
        .executableTarget(name: "roster-bench", swiftSettings: strict),

        .testTarget(name: "CodecTests", dependencies: ["Codec"], swiftSettings: strict),
        .testTarget(name: "RosterNodeTests", dependencies: ["RosterNode", "Raft", "Registry"], swiftSettings: strict),
        .testTarget(name: "WireTests", dependencies: ["Wire", "Raft", "Codec"], swiftSettings: strict),
        .testTarget(name: "RaftTests", dependencies: ["Raft"], swiftSettings: strict),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "Codec"], swiftSettings: strict),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "Raft", "Wire", "Codec"], swiftSettings: strict),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "Raft"], swiftSettings: strict),
        .testTarget(name: "PosixTests", dependencies: ["Posix", "HTTP"], swiftSettings: strict),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP"], swiftSettings: strict),
        .testTarget(name: "RosterServerTests", dependencies: ["RosterServer", "Posix", "Wire", "Raft", "RosterNode"], swiftSettings: strict),
        .testTarget(name: "RosterAPITests", dependencies: ["RosterAPI", "HTTP", "Registry", "RosterNode", "Raft"], swiftSettings: strict),
        .testTarget(name: "RosterIntegrationTests", dependencies: ["RosterTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "RosterClientTests", dependencies: ["RosterClient", "RosterTestSupport"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
