import Foundation
import RosterClient

/// `alarm list`, `alarm disarm`: the NOSPACE alarm (etcdctl's `alarm list` / `alarm disarm`).
enum AlarmCommands {
    static let all: [Command] = [list, disarm]

    static let list = Command(
        path: ["alarm", "list"], synopsis: "", summary: "List raised alarms (NOSPACE: writes are refused).",
        details: "Columns: MEMBER ALARM. Prints nothing when no alarm is raised.", operands: 0...0
    ) { context in
        let response = try await context.call("GET", "/v1/alarms")
        if context.printedJSON(response) { return 0 }
        let alarms = try response.object()["alarms"] as? [JSONObject] ?? []
        guard !alarms.isEmpty else { return 0 }
        Output.table(["MEMBER", "ALARM"], alarms.map { [Output.cell($0["member"]), Output.cell($0["alarm"])] })
        return 0
    }

    static let disarm = Command(
        path: ["alarm", "disarm"], synopsis: "", summary: "Clear every alarm, so writes are accepted again.",
        details: """
            Make room first (delete data and compact, or free disk space): a member still over its bound raises
            NOSPACE again within a second.
            """, operands: 0...0
    ) { context in
        let response = try await context.call("DELETE", "/v1/alarms")
        if context.printedJSON(response) { return 0 }
        print("disarmed")
        return 0
    }
}
