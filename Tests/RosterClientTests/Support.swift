// Shared helpers for the client tests: a parent suite that runs everything serially (each cluster test starts three
// real processes, and the machine has two cores), async polling against deadlines, and running `rosterctl`.
import Foundation
import RosterTestSupport
import Synchronization
import Testing

@testable import RosterClient

/// Every client test runs under this suite, one at a time.
@Suite(.serialized) enum ClientSuite {}

enum Support {
    /// Polls `condition` until it holds or `seconds` pass (`Waiting.until`).
    static func waitUntil(
        _ what: String, seconds: Double = 15, _ condition: () async -> Bool
    ) async throws {
        try await Waiting.until(what, seconds: seconds, condition)
    }

    /// A started 3-node cluster with a leader.
    static func startCluster() throws -> ProcessCluster {
        let cluster = try ProcessCluster(size: 3)
        try cluster.startAll()
        _ = try cluster.waitForLeader()
        return cluster
    }

    static func endpoints(_ cluster: ProcessCluster) -> [Endpoint] {
        cluster.nodes.map { Endpoint(host: "127.0.0.1", port: $0.clientPort) }
    }

    /// A client over every node with short attempts, so failover happens quickly in tests.
    static func client(_ cluster: ProcessCluster, extra: [Endpoint] = []) -> RosterClient {
        var configuration = RosterClientConfiguration(endpoints: extra + endpoints(cluster))
        configuration.attemptTimeout = .seconds(1)
        configuration.callTimeout = .seconds(10)
        return RosterClient(configuration: configuration)
    }

    /// The instances of `service` as one live node sees them (linearizable), or nil if no node answered.
    static func serverInstances(_ cluster: ProcessCluster, _ service: String) -> [String: Any]? {
        for index in cluster.nodes.indices where cluster.nodes[index].process != nil {
            if let result = cluster.request("GET", "/v1/services/\(service)", on: index), result.status == 200 {
                return result.json
            }
        }
        return nil
    }

    /// A session whose maintenance rounds (keepalive, and every ninth round the check of its instances) run only
    /// when the test yields to the returned continuation, so no round happens at a moment the test did not choose.
    /// The long TTL keeps the lease alive between rounds.
    static func manualSession(_ client: RosterClient, ttl: Duration = .seconds(120)) -> (
        session: RegistrationSession, rounds: AsyncStream<Void>.Continuation
    ) {
        let (rounds, trigger) = AsyncStream.makeStream(of: Void.self)
        return (RegistrationSession(client: client, ttl: ttl, schedule: .manual(rounds)), trigger)
    }

    /// The ids of `service`'s instances as the cluster reports them.
    static func serverIDs(_ client: RosterClient, _ service: String) async throws -> Set<String> {
        Set(try await client.instances(of: service).instances.map(\.id))
    }

    /// Collects a session's events in the background.
    final class EventLog: Sendable {
        private let events = Mutex<[SessionEvent]>([])

        init(_ session: RegistrationSession) {
            Task { [self] in
                for await event in session.events { self.events.withLock { $0.append(event) } }
            }
        }

        func contains(_ predicate: (SessionEvent) -> Bool) -> Bool { events.withLock { $0.contains(where: predicate) } }
        var all: [SessionEvent] { events.withLock { $0 } }
        var descriptions: [String] { events.withLock { $0.map { "\($0)" } } }
    }

    // MARK: - rosterctl

    struct CommandResult: Sendable {
        var code: Int32
        var output: String
        var errors: String
    }

    static var rosterctlPath: String {
        ProcessCluster.packageRoot + "/.build/debug/rosterctl"
    }

    /// Runs `rosterctl` with `arguments` and an environment holding `endpoints` (when given) and waits for it.
    static func rosterctl(_ arguments: [String], endpoints: String? = nil, input: String? = nil) async throws
        -> CommandResult
    {
        let result = try await ProcessCluster.runTool(
            rosterctlPath, arguments, environment: ["ROSTER_ENDPOINTS": endpoints], input: input, separateErrors: true)
        return CommandResult(code: result.status, output: result.output, errors: result.errors)
    }
}
