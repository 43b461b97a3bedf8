// Goal: with auth on, `RosterClient` given credentials authenticates before its first call, sends its token,
// and authenticates again (once) when a node refuses the token as older than an auth change, so callers never
// see `auth_old_revision`; without credentials it gets `unauthenticated`. `rosterctl --user` and the `auth`,
// `user` and `role` commands manage the same state. Method: one real process with a cheap password KDF, the
// client library and the built `rosterctl`.
import Foundation
import RosterTestSupport
import Testing

@testable import RosterClient

extension ClientSuite {
    @Suite("Client auth")
    struct ClientAuthTests {
        @Test("credentials log in, refresh after an auth change, and rosterctl manages users and roles")
        func credentialsAndRefresh() async throws {
            let cluster = try ProcessCluster(size: 1, extraFlags: ["--auth-password-iterations", "1000"])
            try cluster.startAll()
            _ = try await cluster.waitForLeader()
            let endpoints = "127.0.0.1:\(cluster.nodes[0].clientPort)"
            let root = ["--user", "root:rootpw"]
            for arguments in [
                ["user", "add", "root:rootpw"], ["user", "grant-role", "root", "root"], ["role", "add", "app"],
                ["role", "grant-permission", "app", "readwrite", "app/", "--prefix"], ["user", "add", "svc:svcpw"],
                ["user", "grant-role", "svc", "app"], ["auth", "enable"],
            ] {
                let result = try await Support.rosterctl(arguments, endpoints: endpoints)
                #expect(result.code == 0, "\(arguments): \(result.errors)")
            }
            let listed = try await Support.rosterctl(["user", "list"] + root, endpoints: endpoints)
            #expect(listed.code == 0 && listed.output.contains("svc") && listed.output.contains("app"), "\(listed.errors)")
            let denied = try await Support.rosterctl(["user", "list", "--user", "svc:svcpw"], endpoints: endpoints)
            #expect(denied.code == 1 && denied.errors.contains("permission_denied"), "\(denied.errors)")

            var configuration = RosterClientConfiguration(endpoints: Support.endpoints(cluster))
            configuration.credentials = Credentials(user: "svc", password: "svcpw")
            // A budget for a starved test process, not a property: under `stress --cpu 2` with the suite in parallel,
            // a call that logs in again (a password derivation on a low-priority thread) outlived the default 10 s.
            configuration.callTimeout = .seconds(120)
            let client = RosterClient(configuration: configuration)
            // A watch logs in on its own thread and sees the client's writes.
            var events = client.watch(.prefix("app/"), fromRevision: 1).makeAsyncIterator()
            try await client.put("app/a", "1")
            var sawPut = false
            while !sawPut, let update = try await events.next() {
                if case .event(let event) = update { sawPut = event.key == "app/a" }
            }
            #expect(sawPut)
            // An auth change makes the client's token stale; its next call must log in again by itself.
            let changed = try await Support.rosterctl(["role", "add", "other"] + root, endpoints: endpoints)
            #expect(changed.code == 0, "\(changed.errors)")
            try await client.put("app/b", "2")
            #expect(try await client.get("app/b")?.value == "2")
            await #expect(throws: RosterClientError.self) { try await client.put("elsewhere", "x") }

            let anonymous = RosterClient(endpoints: Support.endpoints(cluster))
            do {
                _ = try await anonymous.get("app/a")
                Issue.record("a call without credentials succeeded with auth on")
            } catch let error as RosterClientError {
                #expect(error.code == .unauthenticated)
            }
            let disabled = try await Support.rosterctl(["auth", "disable"] + root, endpoints: endpoints)
            #expect(disabled.code == 0, "\(disabled.errors)")
        }
    }
}
