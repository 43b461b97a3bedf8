// Goal: show what an application can learn from and expect of a discovery cache besides its list (issue 20): which
// node its watch streams from, each interruption and resumption, one-line descriptions for logs, and that a cache
// dropped without close() stops. Method: a real 3-node cluster where a node is needed (kill -9 the watched node),
// else a client whose only endpoint has nothing listening; every wait polls a condition against a deadline.
import Foundation
import RosterTestSupport
import Synchronization
import Testing

@testable import RosterClient

extension ClientSuite {
    @Suite("discovery cache status and lifetime")
    struct InstanceCacheTests {
        @Test("the cache reports the node its watch is on, and each interruption and resumption")
        func watchStatusFollowsTheNode() async throws {
            let cluster = try Support.startCluster()
            let client = Support.client(cluster)
            try await client.register(ServiceInstance(service: "seen", id: "v1", endpoints: ["http://v:1"]))
            let cache = InstanceCache(client: client, service: "seen")
            defer { cache.close() }
            let events = Mutex<[CacheWatchEvent]>([])
            let stream = cache.watchEvents()
            let collector = Task { for await event in stream { events.withLock { $0.append(event) } } }
            try await Support.waitUntil("the cache to watch a node") { cache.watchStatus.node != nil }
            let first = try #require(cache.watchStatus.node)
            #expect(cache.watchStatus.interruptions == 0)
            #expect("\(cache.watchStatus)".hasPrefix("watching \(first) since "))
            #expect("\(try await cache.waitUntilReady())".hasPrefix("1 instance at revision "))

            let index = try #require(cluster.nodes.firstIndex { $0.clientPort == first.port })
            await cluster.kill(index)
            try await Support.waitUntil("the watch to resume on another node", seconds: 30) {
                let status = cache.watchStatus
                return status.interruptions >= 1 && status.node != nil && status.node != first
            }
            #expect(cache.watchStatus.lastError != nil)
            cache.close()
            await collector.value
            let seen = events.withLock { $0 }
            let interruptedFirst = seen.contains {
                if case .interrupted(let node, _) = $0 { node == first } else { false }
            }
            let resumedElsewhere = seen.contains {
                if case .watching(let node, _) = $0 { node != first } else { false }
            }
            #expect(interruptedFirst, "\(seen)")
            #expect(resumedElsewhere, "\(seen)")
            #expect(seen.map(\.description).contains { $0.hasPrefix("watch on \(first) interrupted: ") })
        }

        @Test("a cache dropped without close() stops, once the streams it handed out are dropped too")
        func droppedCacheStops() async throws {
            let nothing = Endpoint(host: "127.0.0.1", port: ProcessCluster.freePort())
            var configuration = RosterClientConfiguration(endpoints: [nothing])
            configuration.callTimeout = .milliseconds(300)
            let client = RosterClient(configuration: configuration)
            var cache: InstanceCache? = InstanceCache(client: client, service: "dropped")
            let core = try #require(cache?.core)
            var lists = cache?.lists()
            weak let weakCache = cache
            try await Support.waitUntil("the cache to report its failing list") {
                core.state.withLock { $0.watch.interruptions } >= 1
            }

            cache = nil
            #expect(weakCache != nil, "a held stream keeps the cache")
            #expect(core.isRunning)
            #expect(lists != nil)
            lists = nil
            #expect(weakCache == nil, "nothing holds the cache any more")
            try await Support.waitUntil("the dropped cache's loop to stop") { !core.isRunning }
        }

        @Test("changes and lists print as one short line")
        func descriptions() {
            let instance = ServiceInstance(service: "s", id: "a", endpoints: [], status: .draining, incarnation: 4)
            #expect("\(InstanceChange.added(instance))" == "added default/s/a incarnation 4 (draining)")
            #expect("\(InstanceChange.removed(instance))" == "removed default/s/a incarnation 4 (draining)")
            let snapshot = CacheSnapshot(instances: [instance], revision: 9, staleSince: nil, isReady: true)
            #expect("\(snapshot)" == "1 instance at revision 9: a")
            #expect("\(SessionEvent.deregistered(instance))" == "deregistered default/s/a incarnation 4 (draining)")
            #expect("\(SessionEvent.leaseLost(LeaseID(7)))" == "lease 7 lost")
        }
    }
}
