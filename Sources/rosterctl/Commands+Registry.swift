import Foundation
import RosterClient

/// `register`, `deregister`, `get`, `list`, `watch`.
enum RegistryCommands {
    static let all: [Command] = [register, deregister, get, list, watch]

    static func instancePath(_ context: Context, _ service: String, _ id: String) -> String {
        "/v1/services/\(RosterClient.encode(service))/instances/\(RosterClient.encode(id))"
            + "?namespace=\(RosterClient.encode(context.namespace))"
    }

    static func instanceRow(_ instance: JSONObject) -> [String] {
        [
            Output.cell(instance["id"]), Output.cell(instance["status"]), Output.cell(instance["weight"]),
            Output.cell(instance["endpoints"]),
            Output.cell(instance["version"]).isEmpty ? "-" : Output.cell(instance["version"]),
            Output.cell(instance["lease"]), Output.cell(instance["incarnation"]),
        ]
    }

    static let instanceHeaders = ["ID", "STATUS", "WEIGHT", "ENDPOINTS", "VERSION", "LEASE", "INCARNATION"]

    static let register = Command(
        path: ["register"], synopsis: "<service> <id> --endpoint URL...",
        summary: "Register (or re-register) an instance of a service.",
        details: """
            Options:
              --endpoint URL       where the instance serves, e.g. grpc://10.0.0.5:9000 (repeatable, required)
              --version TEXT       the instance's version
              --meta KEY=VALUE     metadata entry (repeatable)
              --weight N           load-balancing weight (default 100; 0 = no new traffic)
              --status up|draining (default up)
              --ttl DURATION       attach to a new lease of this TTL (the instance goes away unless renewed:
                                   use `rosterctl lease keepalive`)
              --lease ID           attach to an existing lease
              --incarnation N      fencing counter; a lower one than the registered instance is refused (409)
            Without --ttl or --lease the instance stays until deregistered.
            """,
        options: ["endpoint", "version", "meta", "weight", "status", "ttl", "lease", "incarnation"], operands: 2...2
    ) { context in
        let service = try context.operand(0, "service")
        let id = try context.operand(1, "id")
        guard let endpoints = context.arguments.options["endpoint"], !endpoints.isEmpty else {
            throw UsageError("register needs at least one --endpoint URL")
        }
        var body: JSONObject = ["endpoints": endpoints]
        if let version = context.arguments.option("version") { body["version"] = version }
        var metadata: [String: String] = [:]
        for entry in context.arguments.options["meta"] ?? [] {
            guard let equals = entry.firstIndex(of: "=") else {
                throw UsageError("--meta takes KEY=VALUE, got \(entry)")
            }
            metadata[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        if !metadata.isEmpty { body["metadata"] = metadata }
        if let weight = try context.integer("weight") { body["weight"] = weight }
        if let status = context.arguments.option("status") {
            guard status == "up" || status == "draining" else {
                throw UsageError("--status is up or draining, got \(status)")
            }
            body["status"] = status
        }
        if let incarnation = try context.integer("incarnation") { body["incarnation"] = incarnation }
        if let ttl = context.arguments.option("ttl") {
            guard context.arguments.option("lease") == nil else { throw UsageError("give --ttl or --lease, not both") }
            guard let duration = DurationText.parse(ttl) else {
                throw UsageError("--ttl takes a duration like 15s, got \(ttl)")
            }
            body["ttl"] =
                "\(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)ms"
        }
        if let lease = try context.integer("lease") { body["lease"] = lease }
        let response = try await context.call(
            "PUT", instancePath(context, service, id), body: body,
            idempotent: context.arguments.option("ttl") == nil)
        if context.printedJSON(response) { return 0 }
        let object = try response.object()
        let instance = object["instance"] as? JSONObject ?? [:]
        print(
            "registered \(context.namespace)/\(service)/\(id) incarnation \(Output.cell(instance["incarnation"])) "
                + "lease \(Output.cell(instance["lease"])) at revision \(Output.cell(object["revision"]))")
        return 0
    }

    static let deregister = Command(
        path: ["deregister"], synopsis: "<service> <id>", summary: "Remove an instance.",
        details: """
            Options:
              --incarnation N  only if the registered instance is not newer (409 stale_incarnation otherwise)
            Exits 1 with instance_not_found when the instance is not registered.
            """,
        options: ["incarnation"], operands: 2...2
    ) { context in
        let service = try context.operand(0, "service")
        let id = try context.operand(1, "id")
        var path = instancePath(context, service, id)
        if let incarnation = try context.integer("incarnation") { path += "&incarnation=\(incarnation)" }
        let response = try await context.call("DELETE", path)
        if context.printedJSON(response) { return 0 }
        let object = try response.object()
        print("deregistered \(context.namespace)/\(service)/\(id) at revision \(Output.cell(object["revision"]))")
        return 0
    }

    /// `&revision=R` when `--revision R` is given: read as at R, inside the history window (undoing a mistaken delete).
    static func revisionQuery(_ context: Context) throws -> String {
        guard let revision = try context.integer("revision") else { return "" }
        return "&revision=\(revision)"
    }

    static let revisionHelp = """
          --revision R     as it was at revision R (inside the history window): see what a mistaken delete removed,
                           then register it again
        """

    static let get = Command(
        path: ["get"], synopsis: "<service> <id> [--revision R]", summary: "Show one instance.",
        details: "Options:\n\(revisionHelp)\nExits 1 with instance_not_found when it is not registered (at R).",
        options: ["revision"], operands: 2...2
    ) { context in
        let response = try await context.call(
            "GET",
            instancePath(context, try context.operand(0, "service"), try context.operand(1, "id")) + (try revisionQuery(context)))
        if context.printedJSON(response) { return 0 }
        let instance = try response.object()["instance"] as? JSONObject ?? [:]
        Output.pairs(
            [
                "namespace", "service", "id", "version", "endpoints", "metadata", "weight", "status", "lease",
                "incarnation",
            ]
            .map { ($0, Output.cell(instance[$0])) })
        return 0
    }

    static let list = Command(
        path: ["list"], synopsis: "[service [--revision R]]", summary: "List services, or the instances of one service.",
        details: """
            Options:
              --serializable   read the answering node's state without confirming with the leader (cheaper, may lag)
            \(revisionHelp)
            """,
        options: ["serializable", "revision"], operands: 0...1
    ) { context in
        var query = "namespace=\(RosterClient.encode(context.namespace))"
        if context.arguments.flags.contains("serializable") { query += "&consistency=serializable" }
        if context.operands.isEmpty {
            guard context.arguments.option("revision") == nil else {
                throw UsageError("--revision reads one service's instances: give the service")
            }
            let response = try await context.call("GET", "/v1/services?\(query)")
            if context.printedJSON(response) { return 0 }
            let services = try response.object()["services"] as? [JSONObject] ?? []
            Output.table(
                ["SERVICE", "INSTANCES"], services.map { [Output.cell($0["name"]), Output.cell($0["instances"])] })
            return 0
        }
        let service = try context.operand(0, "service")
        query += try revisionQuery(context)
        let response = try await context.call("GET", "/v1/services/\(RosterClient.encode(service))?\(query)")
        if context.printedJSON(response) { return 0 }
        let instances = try response.object()["instances"] as? [JSONObject] ?? []
        Output.table(instanceHeaders, instances.map(instanceRow))
        return 0
    }

    static let watch = Command(
        path: ["watch"], synopsis: "<service> | --key-prefix P | --key K",
        summary: "Print changes live, resuming on another node when one fails.",
        details: """
            Options:
              --from-revision R  start at revision R (default: now)
              --key-prefix P     watch keys under P instead of a service
              --key K            watch one key
              --count N          stop after N events
              --for DURATION     stop after this long
            Table output: REVISION TYPE CAUSE KEY DETAIL, one line per event; notices about failover go to stderr.
            JSON output: one event object per line.
            """,
        options: ["from-revision", "key-prefix", "key", "count", "for"], operands: 0...1
    ) { context in
        let target: WatchTarget
        switch (context.operands.first, context.arguments.option("key-prefix"), context.arguments.option("key")) {
        case (let service?, nil, nil): target = .service(service, namespace: context.namespace)
        case (nil, let prefix?, nil): target = .prefix(prefix)
        case (nil, nil, let key?): target = .key(key)
        default: throw UsageError("watch needs exactly one of <service>, --key-prefix, --key")
        }
        let limit = try context.integer("count")
        var duration: Duration?
        if let text = context.arguments.option("for") {
            guard let parsed = DurationText.parse(text) else { throw UsageError("--for takes a duration, got \(text)") }
            duration = parsed
        }
        let stream = context.client.watch(target, fromRevision: try context.integer("from-revision"))
        let format = context.format
        return try await withThrowingTaskGroup(of: Int32.self) { group in
            group.addTask {
                var seen: Int64 = 0
                for try await update in stream {
                    switch update {
                    case .event(let event):
                        printEvent(event, format: format)
                        // Live output: flush every line even when stdout is a pipe.
                        fflush(nil)
                        seen += 1
                        if let limit, seen >= limit { return 0 }
                    case .resync(let revision, let items):
                        if format == .json {
                            print(Output.json(["resync": ["revision": revision, "items": items.count]]))
                        } else {
                            print("\(revision)  RESYNC  -  -  \(items.count) items")
                        }
                    case .interrupted(let error):
                        Output.error("watch interrupted (\(error)); resuming on another node")
                    case .resumed(let endpoint, let from):
                        Output.error("watching on \(endpoint) from revision \(from)")
                    case .progress:
                        break
                    }
                }
                return 0
            }
            if let duration {
                group.addTask {
                    try await Task.sleep(for: duration)
                    return 0
                }
            }
            let code = try await group.next() ?? 0
            group.cancelAll()
            return code
        }
    }

    static func printEvent(_ event: WatchEvent, format: OutputFormat) {
        if format == .json {
            do {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(event), as: UTF8.self))
            } catch {
                Output.error("cannot encode event at revision \(event.revision): \(error)")
            }
            return
        }
        let detail: String
        if let instance = event.instance {
            detail =
                "\(instance.status.rawValue) \(instance.endpoints.joined(separator: ",")) incarnation \(instance.incarnation)"
        } else {
            detail = event.value ?? event.valueBase64.map { "base64:" + $0 } ?? "-"
        }
        print(
            "\(event.revision)  \(event.type.uppercased())  \(event.cause)  \(event.key ?? event.keyBase64 ?? "-")  \(detail)"
        )
    }
}
