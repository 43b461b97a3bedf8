// Goal: show a transcript mismatch as a readable diff rather than two walls of text. Method: the
// longest common subsequence of the two line lists (transcript blocks are short, so the quadratic
// table is cheap), printed unified-style with a few lines of context around each change.

/// A line diff of expected against produced output.
enum LineDiff {
    /// `-` lines only expected, `+` lines only produced, ` ` common lines near a change.
    static func unified(expected: [String], actual: [String], context: Int = 3) -> String {
        let operations = diff(expected, actual)
        let changed = operations.indices.filter { operations[$0].mark != " " }
        var shown = Set<Int>()
        for position in changed {
            for near in max(0, position - context)...min(operations.count - 1, position + context) { shown.insert(near) }
        }
        var lines = ["--- expected", "+++ produced"]
        var previous: Int?
        for position in shown.sorted() {
            if let previous, position != previous + 1 { lines.append("@@") }
            lines.append("\(operations[position].mark)\(operations[position].line)")
            previous = position
        }
        return lines.joined(separator: "\n")
    }

    private static func diff(_ old: [String], _ new: [String]) -> [(mark: Character, line: String)] {
        // common[i][j]: length of the LCS of old[i...] and new[j...].
        var common = Array(repeating: Array(repeating: 0, count: new.count + 1), count: old.count + 1)
        for i in stride(from: old.count - 1, through: 0, by: -1) {
            for j in stride(from: new.count - 1, through: 0, by: -1) {
                common[i][j] = old[i] == new[j] ? common[i + 1][j + 1] + 1 : max(common[i + 1][j], common[i][j + 1])
            }
        }
        var result: [(mark: Character, line: String)] = []
        var i = 0
        var j = 0
        while i < old.count || j < new.count {
            if i < old.count && j < new.count && old[i] == new[j] {
                result.append((" ", old[i]))
                i += 1
                j += 1
            } else if i < old.count && (j == new.count || common[i + 1][j] >= common[i][j + 1]) {
                result.append(("-", old[i]))
                i += 1
            } else {
                result.append(("+", new[j]))
                j += 1
            }
        }
        return result
    }
}
