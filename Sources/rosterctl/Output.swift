import Foundation
import RosterClient

/// How results are printed.
enum OutputFormat: String {
    /// Aligned columns for people.
    case table
    /// The server's JSON, one document per line, for scripts (`jq`).
    case json
}

/// Printing helpers shared by the commands.
enum Output {
    /// Prints rows as aligned columns under `headers`.
    static func table(_ headers: [String], _ rows: [[String]]) {
        var widths = headers.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() where column < widths.count {
                widths[column] = max(widths[column], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                column == cells.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        print(line(headers))
        for row in rows { print(line(row)) }
    }

    /// Prints `key: value` pairs, aligned.
    static func pairs(_ pairs: [(String, String)]) {
        let width = pairs.map(\.0.count).max() ?? 0
        for (key, value) in pairs { print(key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value) }
    }

    /// Compact JSON text of any JSON value, keys sorted.
    static func json(_ value: Any) -> String {
        if let text = value as? String { return text }
        if value is NSNull { return "null" }
        if let number = value as? NSNumber {
            // JSONSerialization gives booleans as NSNumber of type "c" (char); `is Bool` is true for every 0 and 1.
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
            return number.stringValue
        }
        do {
            let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
            return String(decoding: data, as: UTF8.self)
        } catch {
            return "\(value)"
        }
    }

    /// A cell for an optional JSON field: "-" when absent or null.
    static func cell(_ value: Any?) -> String {
        guard let value, !(value is NSNull) else { return "-" }
        if let list = value as? [Any] { return list.map { json($0) }.joined(separator: ",") }
        return json(value)
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data(("rosterctl: " + text + "\n").utf8))
    }
}

/// A decoded JSON object.
typealias JSONObject = [String: Any]

extension HTTPResponse {
    /// The body as a JSON object.
    func object() throws -> JSONObject {
        do {
            if let object = try JSONSerialization.jsonObject(with: Data(body)) as? JSONObject { return object }
        } catch {
            throw RosterClientError(.invalidResponse, "the node answered with invalid JSON", cause: error)
        }
        throw RosterClientError(.invalidResponse, "the node answered with JSON that is not an object")
    }
}
