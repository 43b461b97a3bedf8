// The Roster server. `roster` with no arguments runs a single-node cluster with its data in
// ./roster-data; `roster --help` lists every setting.
import Foundation
import Posix
import RosterServer

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "restore" {
    exit(RestoreCommand.run(Array(arguments.dropFirst())))
}

var configuration: ServerConfiguration
do {
    configuration = try ServerConfiguration.parse(
        arguments: arguments,
        configFile: { path in try String(contentsOfFile: path, encoding: .utf8) })
} catch .helpRequested {
    print(ServerConfiguration.helpText)
    exit(0)
} catch {
    FileHandle.standardError.write(Data("roster: \(error)\nroster: see 'roster --help'\n".utf8))
    exit(2)
}

Heap.configureForServer()
let logger = Logger(name: configuration.name, level: configuration.logLevel)
do {
    configuration = try configuration.adoptingDataDirectoryAssignment()
    configuration = try JoinDiscovery.learn(configuration, logger: logger)
    if configuration.forceNewCluster { try ForceNewClusterCommand.run(configuration, logger: logger) }
} catch {
    logger.error("cannot start", ["error": "\(error)"])
    exit(1)
}
do {
    let openFiles = try ResourceLimits.raiseOpenFilesToHardLimit()
    // Peers, the WAL, snapshots, the listeners and the loop's own descriptors need some beside clients.
    let reservedDescriptors: UInt64 = 64
    if openFiles < UInt64(configuration.maxConnections) {
        logger.warning(
            "--max-connections is above what the open-file limit allows; connections past it will fail to be accepted",
            ["max_connections": "\(configuration.maxConnections)", "open_file_limit": "\(openFiles)",
             "usable_for_clients": "\(openFiles > reservedDescriptors ? openFiles - reservedDescriptors : 0)",
             "fix": "raise the hard limit (ulimit -Hn, LimitNOFILE= in systemd) or lower --max-connections"])
    }
} catch {
    logger.warning("could not raise the open-file limit", ["error": "\(error)"])
}
do {
    let loop = try EventLoop()
    let server = try RosterServer(configuration: configuration, loop: loop, logger: logger)
    loop.run()
    withExtendedLifetime(server) {}
    logger.info("stopped")
    exit(0)
} catch {
    logger.error("cannot start", ["error": "\(error)"])
    exit(1)
}
