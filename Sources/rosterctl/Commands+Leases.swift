import Foundation
import RosterClient

/// `lease grant|keepalive|revoke|ttl|list`.
enum LeaseCommands {
    static let all: [Command] = [grant, keepalive, revoke, ttl, list]

    static let grant = Command(
        path: ["lease", "grant"], synopsis: "<ttl>",
        summary: "Grant a lease (TTL such as 10s; at least 1.5 x election timeout).",
        details: "Prints the lease ID to attach instances or keys to (register --lease, kv put --lease).",
        operands: 1...1
    ) { context in
        let text = try context.operand(0, "ttl")
        guard DurationText.parse(text) != nil else { throw UsageError("<ttl> takes a duration like 10s, got \(text)") }
        let response = try await context.call("POST", "/v1/leases", body: ["ttl": text], idempotent: false)
        if context.printedJSON(response) { return 0 }
        let lease = try response.object()["lease"] as? JSONObject ?? [:]
        print("lease \(Output.cell(lease["id"])) granted with ttl \(Output.cell(lease["ttl_ms"]))ms")
        return 0
    }

    static let keepalive = Command(
        path: ["lease", "keepalive"], synopsis: "<lease-id>",
        summary: "Renew a lease every third of its TTL until interrupted (or once with --once).",
        details:
            "Options:\n  --once  renew once and exit\nExits 1 with lease_not_found when the lease expired or was revoked.",
        options: ["once"], operands: 1...1
    ) { context in
        let id = try context.leaseOperand(0)
        while true {
            let response = try await context.call("POST", "/v1/leases/\(id)/keepalive")
            let object = try response.object()
            if !context.printedJSON(response) { print("lease \(id) renewed, ttl \(Output.cell(object["ttl_ms"]))ms") }
            if context.arguments.flags.contains("once") { return 0 }
            let ttl = (object["ttl_ms"] as? NSNumber)?.int64Value ?? 3000
            try await Task.sleep(for: .milliseconds(max(100, ttl / 3)))
        }
    }

    static let revoke = Command(
        path: ["lease", "revoke"], synopsis: "<lease-id>",
        summary: "Revoke a lease and delete everything attached to it.",
        details: "Exits 1 with lease_not_found when the lease does not exist.", operands: 1...1
    ) { context in
        let id = try context.leaseOperand(0)
        let response = try await context.call("DELETE", "/v1/leases/\(id)")
        if context.printedJSON(response) { return 0 }
        print("lease \(id) revoked, \(Output.cell(try response.object()["deleted_keys"])) keys deleted")
        return 0
    }

    static let ttl = Command(
        path: ["lease", "ttl"], synopsis: "<lease-id>", summary: "Show a lease's granted and remaining TTL.",
        details: "Options:\n  --keys  also list the keys attached to it", options: ["keys"], operands: 1...1
    ) { context in
        let id = try context.leaseOperand(0)
        let keys = context.arguments.flags.contains("keys")
        let response = try await context.call("GET", "/v1/leases/\(id)\(keys ? "?keys=true" : "")")
        if context.printedJSON(response) { return 0 }
        let lease = try response.object()["lease"] as? JSONObject ?? [:]
        var pairs = [
            ("id", Output.cell(lease["id"])), ("granted_ttl_ms", Output.cell(lease["granted_ttl_ms"])),
            ("remaining_ttl_ms", Output.cell(lease["remaining_ttl_ms"])),
        ]
        if keys { pairs.append(("keys", Output.cell(lease["keys"]))) }
        Output.pairs(pairs)
        return 0
    }

    static let list = Command(
        path: ["lease", "list"], synopsis: "", summary: "List live leases.",
        details: "Columns: ID GRANTED_TTL_MS REMAINING_TTL_MS.",
        operands: 0...0
    ) { context in
        let response = try await context.call("GET", "/v1/leases")
        if context.printedJSON(response) { return 0 }
        let leases = try response.object()["leases"] as? [JSONObject] ?? []
        Output.table(
            ["ID", "GRANTED_TTL_MS", "REMAINING_TTL_MS"],
            leases.map {
                [Output.cell($0["id"]), Output.cell($0["granted_ttl_ms"]), Output.cell($0["remaining_ttl_ms"])]
            })
        return 0
    }
}

/// `kv get|put|del|txn`.
enum KeyValueCommands {
    static let all: [Command] = [get, put, delete, txn]

    static func keyPath(_ key: String, prefix: Bool) -> String {
        "/v1/kv/\(RosterClient.encode(key))\(prefix ? "?prefix=true" : "")"
    }

    static let get = Command(
        path: ["kv", "get"], synopsis: "<key>", summary: "Read a key (or every key under it with --prefix).",
        details:
            "Options:\n  --prefix  read the range of keys starting with <key>\nColumns: KEY VALUE MOD_REVISION LEASE. Exits 1 when no key matched.",
        options: ["prefix"], operands: 1...1
    ) { context in
        let key = try context.operand(0, "key")
        let response = try await context.call("GET", keyPath(key, prefix: context.arguments.flags.contains("prefix")))
        let kvs = try response.object()["kvs"] as? [JSONObject] ?? []
        if context.printedJSON(response) { return kvs.isEmpty ? 1 : 0 }
        if kvs.isEmpty {
            Output.error("key_not_found: no key \(key)\(context.arguments.flags.contains("prefix") ? "*" : "")")
            return 1
        }
        Output.table(
            ["KEY", "VALUE", "MOD_REVISION", "LEASE"],
            kvs.map { kv in
                [
                    Output.cell(kv["key"] ?? kv["key_base64"]),
                    Output.cell(kv["value"] ?? kv["instance"] ?? kv["value_base64"]),
                    Output.cell(kv["mod_revision"]), Output.cell(kv["lease"]),
                ]
            })
        return 0
    }

    static let put = Command(
        path: ["kv", "put"], synopsis: "<key> <value>", summary: "Write a key.",
        details: "Options:\n  --lease ID  attach the key to a lease (it is deleted with the lease)",
        options: ["lease"], operands: 2...2
    ) { context in
        var body: JSONObject = ["value": try context.operand(1, "value")]
        if let lease = try context.integer("lease") { body["lease"] = lease }
        let response = try await context.call("PUT", keyPath(try context.operand(0, "key"), prefix: false), body: body)
        if context.printedJSON(response) { return 0 }
        print("put at revision \(Output.cell(try response.object()["revision"]))")
        return 0
    }

    static let delete = Command(
        path: ["kv", "del"], synopsis: "<key>", summary: "Delete a key (or every key under it with --prefix).",
        details:
            "Options:\n  --prefix  delete every key starting with <key>\nPrints how many keys were deleted (0 is not an error).",
        options: ["prefix"], operands: 1...1
    ) { context in
        let response = try await context.call(
            "DELETE", keyPath(try context.operand(0, "key"), prefix: context.arguments.flags.contains("prefix")))
        if context.printedJSON(response) { return 0 }
        print("deleted \(Output.cell(try response.object()["deleted"]))")
        return 0
    }

    static let txn = Command(
        path: ["kv", "txn"], synopsis: "<json | ->",
        summary: "Run a transaction: {\"compare\":[…],\"success\":[…],\"failure\":[…]} (\"-\" reads it from stdin).",
        details: """
            Example:
              rosterctl kv txn '{"compare":[{"key":"k","result":"equal","version":0}],
                                 "success":[{"put":{"key":"k","value":"v"}}]}'
            Prints whether the comparisons succeeded; -o json shows every operation's result.
            """,
        operands: 1...1
    ) { context in
        var text = try context.operand(0, "json")
        if text == "-" { text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) }
        let body: JSONObject
        do {
            guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? JSONObject else {
                throw UsageError("the transaction must be a JSON object")
            }
            body = object
        } catch let error as UsageError {
            throw error
        } catch {
            throw UsageError("the transaction is not valid JSON: \(error.localizedDescription)")
        }
        let response = try await context.call("POST", "/v1/txn", body: body, idempotent: false)
        if context.printedJSON(response) { return 0 }
        let object = try response.object()
        print("succeeded \(Output.cell(object["succeeded"])) at revision \(Output.cell(object["revision"]))")
        return 0
    }
}
