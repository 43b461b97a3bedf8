import Foundation
import RosterClient

/// `member replace`: swaps one member for a new one without ever lowering the number of voters below what
/// it was, as an operator replacing a machine does by hand.
enum MemberReplaceCommand {
    /// Catching up a learner takes a snapshot transfer: longer than an ordinary call unless `--timeout` says.
    static let defaultTimeout = Duration.seconds(120)
    /// How long to wait between promotion attempts while the learner catches up.
    static let retryInterval = Duration.milliseconds(200)

    static let replace = Command(
        path: ["member", "replace"], synopsis: "<old-name>",
        summary: "Replace a member: add the new one as a learner, promote it once caught up, remove the old one.",
        details: """
            Options: --name NEW (required), --peer-addr HOST:PORT (required: the new member's peer address).
            Start the new member with --join (and the founders' --initial-cluster) before or right after
            running this; the command waits (up to --timeout, default 120s) until the learner has caught up
            and its promotion is accepted, then removes <old-name>. Stop the old member's process afterwards.
            Each step is printed; a step that fails stops the command and says where it stopped, so it can
            be finished by hand (`member promote`, `member remove`).
            """,
        options: ["name", "peer-addr"], operands: 1...1
    ) { context in
        let old = try context.operand(0, "old-name")
        guard let name = context.arguments.option("name"), !name.isEmpty else { throw UsageError("--name NEW is required") }
        guard let peer = context.arguments.option("peer-addr"), !peer.isEmpty else {
            throw UsageError("--peer-addr HOST:PORT of the new member is required")
        }
        guard name != old else { throw UsageError("--name must differ from the member being replaced (\(old))") }
        let timeout = context.arguments.option("timeout") == nil ? defaultTimeout : context.timeout
        let deadline = ContinuousClock.now + timeout

        _ = try await context.call("POST", "/v1/cluster/members", body: ["name": name, "peer_address": peer], idempotent: false)
        print("1/3 added \(name) (\(peer)) as a learner")
        try await promoteWhenCaughtUp(context, name: name, deadline: deadline)
        print("2/3 promoted \(name) to voter")
        let removed = try await context.call("DELETE", "/v1/cluster/members/\(RosterClient.encode(old))")
        print("3/3 removed \(old); stop its process now")
        if context.format == .json { print(removed.text.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return 0
    }

    /// Retries the promotion while the leader refuses it because the learner is still catching up.
    static func promoteWhenCaughtUp(_ context: Context, name: String, deadline: ContinuousClock.Instant) async throws {
        var attempts = 0
        while true {
            attempts += 1
            do {
                _ = try await context.call("POST", "/v1/cluster/members/\(RosterClient.encode(name))/promote")
                return
            } catch let error as RosterClientError where error.code.rawValue == "membership_refused" || !error.isRejection {
                guard ContinuousClock.now < deadline else {
                    throw RosterClientError(
                        error.code,
                        "\(name) was added as a learner but not promoted after \(attempts) attempts (last: \(error.message)); "
                            + "check that it runs with --join, then finish with `rosterctl member promote \(name)` and "
                            + "`rosterctl member remove <old-name>`", httpStatus: error.httpStatus)
                }
                try await Task.sleep(for: retryInterval)
            }
        }
    }
}
