// Goal: a client's watches share one watch stream per node (`POST /v1/watch`) and still behave as independent
// watches: each gets exactly its own events, and ending one leaves the others running on the same connection.
// Method: one real `roster` process; two watches from one `RosterClient`; the node's own metrics count its client
// connections and active watches; every wait polls against a deadline.
import Foundation
import RosterTestSupport
import Synchronization
import Testing

@testable import RosterClient

extension ClientSuite {
    @Suite("watches sharing one stream per node")
    struct SharedWatchTests {
        static func metric(_ cluster: ProcessCluster, _ name: String) -> Int? {
            guard let text = cluster.request("GET", "/metrics", on: 0)?.text else { return nil }
            let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            return line.flatMap { Int($0.split(separator: " ").last ?? "") }
        }

        /// The keys of a watch's events, as they arrive.
        final class Collected: Sendable {
            let keys = Mutex<[String]>([])
            var all: [String] { keys.withLock { $0 } }
        }

        /// Collects the keys of a watch's events until cancelled.
        static func collect(_ updates: AsyncThrowingStream<WatchUpdate, any Error>, into collected: Collected) -> Task<Void, Never> {
            Task {
                do {
                    for try await update in updates {
                        if case .event(let event) = update { collected.keys.withLock { $0.append(event.key ?? "<binary key>") } }
                    }
                } catch {
                    // A cancelled watch ends here; what it collected is what the test checks.
                }
            }
        }

        @Test("two watches of one client ride one connection, each with its own events; cancelling one keeps the other")
        func twoWatchesOneConnection() async throws {
            let cluster = try ProcessCluster(size: 1)
            try cluster.startAll()
            _ = try await cluster.waitForLeader()
            let client = Support.client(cluster)
            let services = Collected()
            let keys = Collected()
            let serviceWatch = Self.collect(client.watch(service: "payments"), into: services)
            let keyWatch = Self.collect(client.watch(.prefix("cfg/")), into: keys)
            try await Support.waitUntil("both watches active on the node") { Self.metric(cluster, "roster_watchers") == 2 }
            #expect(client.watchStreams.liveStreamCount == 1)
            // The stream plus the metrics request itself.
            #expect(Self.metric(cluster, "roster_client_connections") == 2)

            try await client.register(ServiceInstance(service: "payments", id: "p1", endpoints: ["grpc://10.0.0.1:1"]))
            try await client.put("cfg/a", "1")
            try await client.register(ServiceInstance(service: "orders", id: "o1", endpoints: ["grpc://10.0.0.1:2"]))
            try await Support.waitUntil("both watches' events") {
                services.all.count == 1 && keys.all.count == 1
            }
            #expect(services.all == ["default/payments/p1"])
            #expect(keys.all == ["cfg/a"])

            keyWatch.cancel()
            try await Support.waitUntil("the key watch cancelled on the node") { Self.metric(cluster, "roster_watchers") == 1 }
            try await client.put("cfg/b", "2")
            try await client.register(ServiceInstance(service: "payments", id: "p2", endpoints: ["grpc://10.0.0.1:3"]))
            try await Support.waitUntil("the service watch goes on") { services.all.count == 2 }
            #expect(keys.all == ["cfg/a"])
            #expect(client.watchStreams.liveStreamCount == 1)
            serviceWatch.cancel()
            try await Support.waitUntil("the stream closed with its last watch") {
                Self.metric(cluster, "roster_watchers") == 0 && client.watchStreams.liveStreamCount == 0
            }
        }
    }
}
