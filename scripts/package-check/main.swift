// The README's example service: registers itself, discovers a dependency, and drains on SIGTERM.
// scripts/package-check builds it in a temporary package that depends on Roster by path, and runs it.
import Foundation
import RosterClient

/// One line to standard output, unbuffered (so a supervisor reading a log file sees it at once).
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

let endpoints = (ProcessInfo.processInfo.environment["ROSTER_ENDPOINTS"] ?? "127.0.0.1:2379")
    .split(separator: ",").compactMap { Endpoint(String($0)) }
let client = RosterClient(endpoints: endpoints)

// Register this process as an instance of "orders", renewed until it drains.
let session = RegistrationSession(client: client, ttl: .seconds(10))
Task { for await event in session.events { say("session: \(event)") } }
let me = try await session.register(
    ServiceInstance(service: "orders", id: "orders-\(getpid())", endpoints: ["http://127.0.0.1:8080"]))
say("registered \(me.key)")

// Discover "payments", which orders calls, from a watch-backed cache.
let payments = InstanceCache(client: client, service: "payments")
defer { payments.close() }
_ = try await payments.waitUntilReady()
say("payments instances: \(payments.usableInstances.map(\.id).sorted())")

// On SIGTERM: mark draining, give in-flight work a grace period, deregister, exit.
signal(SIGTERM, SIG_IGN)
let terminate = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .main)
let stop = AsyncStream<Void> { continuation in
    terminate.setEventHandler { continuation.yield() }
    terminate.resume()
}
say("ready")
for await _ in stop { break }
try await session.drain(grace: .seconds(1))
say("drained and deregistered")
