import Foundation
import RosterClient

/// `member …`, `status`, `leader`, `transfer-leader`, `hash`, `compact`.
enum ClusterCommands {
    static let all: [Command] = [
        memberList, memberAdd, memberPromote, memberRemove, MemberReplaceCommand.replace, status, leader, transferLeader, hash, compact,
    ]

    static func printConfiguration(_ context: Context, _ response: HTTPResponse, _ what: String) throws -> Int32 {
        if context.printedJSON(response) { return 0 }
        let object = try response.object()
        print("\(what); voters \(Output.cell(object["voters"])) learners \(Output.cell(object["learners"]))")
        return 0
    }

    static let memberList = Command(
        path: ["member", "list"], synopsis: "", summary: "List cluster members.",
        details: "Columns: NAME ID ROLE LEADER PEER_ADDRESS CLIENT_ADDRESS.", operands: 0...0
    ) { context in
        let response = try await context.call("GET", "/v1/cluster/members")
        if context.printedJSON(response) { return 0 }
        let members = try response.object()["members"] as? [JSONObject] ?? []
        Output.table(
            ["NAME", "ID", "ROLE", "LEADER", "PEER_ADDRESS", "CLIENT_ADDRESS"],
            members.map { member in
                [
                    Output.cell(member["name"]), Output.cell(member["id"]), Output.cell(member["role"]),
                    (member["is_leader"] as? Bool ?? false) ? "*" : "", Output.cell(member["peer_address"]),
                    Output.cell(member["client_address"]),
                ]
            })
        return 0
    }

    static let memberAdd = Command(
        path: ["member", "add"], synopsis: "<name> <peer-address>",
        summary: "Add a learner (start it with --join), then promote it once it has caught up.",
        details: "Prints the configuration now in force.", operands: 2...2
    ) { context in
        let response = try await context.call(
            "POST", "/v1/cluster/members",
            body: ["name": try context.operand(0, "name"), "peer_address": try context.operand(1, "peer-address")],
            idempotent: false)
        return try printConfiguration(context, response, "added learner \(context.operands[0])")
    }

    static let memberPromote = Command(
        path: ["member", "promote"], synopsis: "<name>", summary: "Promote a caught-up learner to voter.",
        details: "Exits 1 (409 membership_refused) while the learner is still catching up; retry.", operands: 1...1
    ) { context in
        let name = try context.operand(0, "name")
        let response = try await context.call("POST", "/v1/cluster/members/\(RosterClient.encode(name))/promote")
        return try printConfiguration(context, response, "promoted \(name)")
    }

    static let memberRemove = Command(
        path: ["member", "remove"], synopsis: "<name>", summary: "Remove a member.",
        details: "Refused (exit 1) when the removal would lose quorum.", operands: 1...1
    ) { context in
        let name = try context.operand(0, "name")
        let response = try await context.call("DELETE", "/v1/cluster/members/\(RosterClient.encode(name))")
        return try printConfiguration(context, response, "removed \(name)")
    }

    /// Asks every endpoint separately (no failover: the point is to see each node).
    static func perEndpoint(_ context: Context, _ path: String) async -> [(
        Endpoint, Result<HTTPResponse, RosterClientError>
    )] {
        var results: [(Endpoint, Result<HTTPResponse, RosterClientError>)] = []
        for endpoint in context.endpoints {
            var configuration = context.client.configuration
            configuration.endpoints = [endpoint]
            configuration.attemptTimeout = min(configuration.attemptTimeout, context.timeout)
            let single = RosterClient(configuration: configuration)
            do {
                results.append(
                    (endpoint, .success(try await single.send("GET", path, idempotent: true, timeout: context.timeout)))
                )
            } catch let error as RosterClientError {
                results.append((endpoint, .failure(error)))
            } catch {
                results.append((endpoint, .failure(RosterClientError(.unavailable, "\(error)"))))
            }
        }
        return results
    }

    static let status = Command(
        path: ["status"], synopsis: "", summary: "Show every endpoint's role, term, leader and revision.",
        details: """
            Columns: ENDPOINT NAME ROLE TERM LEADER REVISION APPLIED. An unreachable endpoint shows its error.
            Exits 3 when any endpoint is unreachable, so scripts can alert on it.
            """,
        operands: 0...0
    ) { context in
        let results = await perEndpoint(context, "/v1/cluster/status")
        var rows: [[String]] = []
        var documents: [Any] = []
        var failed = false
        for (endpoint, result) in results {
            switch result {
            case .success(let response):
                let object = try response.object()
                documents.append(object.merging(["endpoint": endpoint.description]) { first, _ in first })
                rows.append(
                    [endpoint.description]
                        + ["name", "role", "term", "leader", "revision", "applied_index"].map {
                            Output.cell(object[$0])
                        })
            case .failure(let error):
                failed = true
                documents.append([
                    "endpoint": endpoint.description, "error": ["code": error.code.rawValue, "message": error.message],
                ])
                rows.append([endpoint.description, "-", "unreachable", "-", "-", "-", error.message])
            }
        }
        if context.format == .json {
            print(Output.json(documents))
        } else {
            Output.table(["ENDPOINT", "NAME", "ROLE", "TERM", "LEADER", "REVISION", "APPLIED"], rows)
        }
        return failed ? 3 : 0
    }

    static let leader = Command(
        path: ["leader"], synopsis: "", summary: "Show the current leader's name and client address.",
        details: "Exits 3 when no reachable node knows a leader.", operands: 0...0
    ) { context in
        let status = try await context.client.status(timeout: context.timeout)
        guard let name = status.leader else {
            throw RosterClientError(
                .init("no_leader"), "\(status.name) knows no leader (term \(status.term)); retry shortly")
        }
        let members = try await context.client.members(timeout: context.timeout)
        let address = members.first { $0.name == name }?.clientAddress ?? "-"
        if context.format == .json {
            print(Output.json(["leader": name, "client_address": address, "term": status.term]))
        } else {
            print("\(name)  \(address)  term \(status.term)")
        }
        return 0
    }

    static let transferLeader = Command(
        path: ["transfer-leader"], synopsis: "[name]",
        summary: "Hand leadership to a member (or the most caught-up one); returns once the transfer started.",
        details: "Prints the target.", operands: 0...1
    ) { context in
        var body: JSONObject = [:]
        if let name = context.operands.first { body["to"] = name }
        let response = try await context.call("POST", "/v1/cluster/transfer-leadership", body: body, idempotent: false)
        if context.printedJSON(response) { return 0 }
        print("leadership transfer to \(Output.cell(try response.object()["transfer_to"])) started")
        return 0
    }

    static let hash = Command(
        path: ["hash"], synopsis: "", summary: "Show every endpoint's state hash, to check members agree.",
        details: """
            Options:
              --revision R  hash the state at revision R (default: each node's current revision)
            Columns: ENDPOINT HASH_REVISION HASH. Exits 3 when an endpoint is unreachable.
            """,
        options: ["revision"], operands: 0...0
    ) { context in
        var path = "/v1/cluster/hash"
        if let revision = try context.integer("revision") { path += "?revision=\(revision)" }
        let results = await perEndpoint(context, path)
        var rows: [[String]] = []
        var documents: [Any] = []
        var failed = false
        for (endpoint, result) in results {
            switch result {
            case .success(let response):
                let object = try response.object()
                documents.append(object.merging(["endpoint": endpoint.description]) { first, _ in first })
                rows.append([endpoint.description, Output.cell(object["hash_revision"]), Output.cell(object["hash"])])
            case .failure(let error):
                failed = true
                documents.append([
                    "endpoint": endpoint.description, "error": ["code": error.code.rawValue, "message": error.message],
                ])
                rows.append([endpoint.description, "-", "unreachable: \(error.message)"])
            }
        }
        if context.format == .json {
            print(Output.json(documents))
        } else {
            Output.table(["ENDPOINT", "HASH_REVISION", "HASH"], rows)
        }
        return failed ? 3 : 0
    }

    static let compact = Command(
        path: ["compact"], synopsis: "<revision>", summary: "Discard watch history up to a revision.",
        details: "Watches starting before it get a resync (the full state) instead of events.", operands: 1...1
    ) { context in
        let text = try context.operand(0, "revision")
        guard let revision = Int64(text), revision >= 0 else {
            throw UsageError("<revision> must be a non-negative integer, got \(text)")
        }
        let response = try await context.call("POST", "/v1/compact", body: ["revision": revision])
        if context.printedJSON(response) { return 0 }
        print("compacted up to \(Output.cell(try response.object()["compacted"]))")
        return 0
    }
}
