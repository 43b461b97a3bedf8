// Goal: pin down the registration session's promises that depend on interleavings (issue 20): an instance the
// application deregistered is never brought back by the periodic check, even when the deregistration lands in the
// middle of the check; a repair of an instance deleted behind the session's back is reported; closing during a
// renewal is not a failure. Method: a real 3-node cluster, and a session whose maintenance rounds run only when the
// test triggers them (no timer). Interleavings are placed with the check's test hook, which runs just before the
// check reads each instance, so every run takes the same path; waits poll a condition against a deadline.
import Foundation
import RosterTestSupport
import Synchronization
import Testing

@testable import RosterClient

extension ClientSuite {
    @Suite("registration session interleavings")
    struct RegistrationSessionTests {
        /// Which instances the hook deregisters, and what went wrong doing so.
        final class DeregistrationPlan: Sendable {
            private struct State {
                var step = 0
                var fromTop: [String]
                var deregistered: Set<String> = []
                var errors: [String] = []
            }
            private let state: Mutex<State>

            init(ids: [String]) { state = Mutex(State(fromTop: ids.sorted(by: >))) }

            var deregistered: Set<String> { state.withLock { $0.deregistered } }
            var errors: [String] { state.withLock { $0.errors } }

            /// The ids to deregister before the check reads `current`: the highest one not yet deregistered (the
            /// issue's order), and every third step the one about to be read.
            func next(before current: String) -> [String] {
                state.withLock { state in
                    state.step += 1
                    var ids: [String] = []
                    while let top = state.fromTop.first, state.deregistered.contains(top) {
                        state.fromTop.removeFirst()
                    }
                    if let top = state.fromTop.first, top > current { ids.append(top) }
                    if state.step % 3 == 0 && !state.deregistered.contains(current) { ids.append(current) }
                    state.deregistered.formUnion(ids)
                    return ids
                }
            }

            func failed(_ text: String) { state.withLock { $0.errors.append(text) } }
        }

        @Test("instances deregistered while the check is reading them stay deregistered")
        func deregistrationDuringCheckIsFinal() async throws {
            let cluster = try Support.startCluster()
            let client = Support.client(cluster)
            let (session, rounds) = Support.manualSession(client)
            let log = Support.EventLog(session)
            let ids = (0..<600).map { String(format: "r%03d", $0) }
            var incarnations: [String: UInt64] = [:]
            for id in ids {
                let stored = try await session.register(
                    ServiceInstance(service: "race", id: id, endpoints: ["http://10.2.0.1:80"]))
                incarnations[id] = stored.incarnation
            }
            let plan = DeregistrationPlan(ids: ids)
            await session.setCheckHook { instance in
                for id in plan.next(before: instance.id) {
                    do {
                        try await session.deregister(service: "race", id: id)
                    } catch {
                        plan.failed("\(id): \(error)")
                    }
                }
            }

            try await session.checkInstances()
            await session.setCheckHook(nil)
            try await session.checkInstances()  // A second pass must not bring anything back either.

            let deregistered = plan.deregistered
            let expected = Set(ids).subtracting(deregistered)
            #expect(plan.errors.isEmpty, "\(plan.errors.prefix(5))")
            #expect(deregistered.count > 300, "the plan deregistered only \(deregistered.count)")
            let kept = await session.registeredInstances
            let keptIDs = Set(kept.map(\.id))
            let resurrected = keptIDs.intersection(deregistered).sorted()
            #expect(resurrected.isEmpty, "\(resurrected.count) back in the session: \(resurrected.prefix(10))")
            let lost = expected.subtracting(keptIDs).sorted()
            #expect(lost.isEmpty, "\(lost.count) no longer maintained: \(lost.prefix(10))")
            let rewritten = kept.filter { incarnations[$0.id] != $0.incarnation }.map(\.id)
            #expect(rewritten.isEmpty, "written again: \(rewritten.prefix(10))")
            let onServer = try await Support.serverIDs(client, "race")
            let back = onServer.intersection(deregistered).sorted()
            #expect(back.isEmpty, "\(back.count) back on the cluster: \(back.prefix(10))")
            let missing = expected.subtracting(onServer).sorted()
            #expect(missing.isEmpty, "\(missing.count) missing on the cluster: \(missing.prefix(10))")
            #expect(!log.contains { if case .repaired = $0 { true } else { false } }, "\(log.descriptions.suffix(5))")
            rounds.finish()
            await session.close()
        }

        @Test("an instance deleted behind the session's back is restored by the check and reported as repaired")
        func repairIsReported() async throws {
            let cluster = try Support.startCluster()
            let client = Support.client(cluster)
            let (session, rounds) = Support.manualSession(client)
            let log = Support.EventLog(session)
            let gone = try await session.register(ServiceInstance(service: "fix", id: "f1", endpoints: ["http://f:1"]))
            let kept = try await session.register(ServiceInstance(service: "fix", id: "f2", endpoints: ["http://f:2"]))
            try await client.deregister(service: "fix", id: "f1")  // Out of band: the lease stays alive.

            // The keeper checks every ninth round; run them without waiting for a clock.
            for _ in 0..<RegistrationSession.roundsBetweenChecks { rounds.yield() }
            try await Support.waitUntil("the repair to be reported") {
                log.contains { if case .repaired = $0 { true } else { false } }
            }

            let repairs = log.all.compactMap { event -> ([ServiceInstance], LeaseID)? in
                if case .repaired(let instances, let lease) = event { (instances, lease) } else { nil }
            }
            let lease = try #require(await session.currentLease)
            #expect(repairs.count == 1)
            #expect(repairs.first?.0.map(\.id) == ["f1"])
            #expect(repairs.first?.0.first?.incarnation == gone.incarnation + 1)
            #expect(repairs.first?.1 == lease)
            let line = "repaired 1 instance: \(gone.key) incarnation \(gone.incarnation + 1) on lease \(lease)"
            #expect(log.descriptions.contains(line), "\(log.descriptions)")
            let restored = try #require(try await client.instance(service: "fix", id: "f1"))
            #expect(restored.incarnation == gone.incarnation + 1)
            #expect(restored.lease == lease)
            #expect(try await client.instance(service: "fix", id: "f2")?.incarnation == kept.incarnation)
            rounds.finish()
            await session.close()
        }

        @Test("close() during a lease renewal reports closed, not failing")
        func closeDuringRenewalIsNotAFailure() async throws {
            let cluster = try Support.startCluster()
            let client = Support.client(cluster)
            let (session, rounds) = Support.manualSession(client)
            let log = Support.EventLog(session)
            try await session.register(ServiceInstance(service: "quiet", id: "q1", endpoints: ["http://q:1"]))

            // Freeze every node, so the renewal stays on the wire until close() cancels it (its own deadline is
            // TTL/3 = 40 s, a failure bound far beyond the few milliseconds the test needs).
            let pids = cluster.nodes.compactMap { $0.process?.processIdentifier }
            for pid in pids { kill(pid, SIGSTOP) }
            var frozen = true
            defer { if frozen { for pid in pids { kill(pid, SIGCONT) } } }
            rounds.yield()
            try await Support.waitUntil("a renewal on the wire") { await session.isRenewing }
            let closing = Task { await session.close() }
            try await Support.waitUntil("close() to begin") { await session.isClosed }
            // Thaw the nodes only once the cancelled renewal has returned, so it cannot complete instead.
            try await Support.waitUntil("the renewal to end") { await !session.isRenewing }
            for pid in pids { kill(pid, SIGCONT) }
            frozen = false
            await closing.value

            try await Support.waitUntil("the closed event") {
                log.contains { if case .closed = $0 { true } else { false } }
            }
            #expect(await session.renewals == 0, "the renewal was not interrupted")
            #expect(!log.contains { if case .failing = $0 { true } else { false } }, "\(log.descriptions)")
            #expect(log.descriptions.last == "closed")
            rounds.finish()
        }
    }
}
