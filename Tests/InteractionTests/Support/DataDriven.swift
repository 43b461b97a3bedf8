// Goal: run golden transcripts in etcd-io/raft's `testdata/*.txt` format, so that a change of behaviour
// shows up as a reviewable diff of a readable trace. Method: a file is a sequence of blocks, each a
// command line, a `----` line and the expected output up to the next blank line; `#` lines and blank
// lines between blocks are comments kept verbatim. Each command runs against one interpreter (the
// scenario's state lives in it from block to block); the produced output is compared with the expected
// text, and a mismatch fails with a unified-diff-like message naming the file and line. With
// `ROSTER_REWRITE=1` in the environment the file is rewritten with the produced output instead, to be
// reviewed with `git diff` ("only commit the changes if you understand what caused them", etcd).
import Foundation
import Testing

/// A command line of a transcript: `name positional… key=value…`.
struct ScriptCommand: Sendable {
    var name: String
    /// Tokens without `=`, in order.
    var positional: [String]
    /// `key=value` tokens, in order.
    var options: [(key: String, value: String)]
    /// Where the command is, for error messages: `file:line`.
    var location: String

    init(parsing line: String, location: String) {
        let tokens = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        name = tokens.first ?? ""
        positional = []
        options = []
        self.location = location
        for token in tokens.dropFirst() {
            if let equals = token.firstIndex(of: "="), equals != token.startIndex {
                options.append((String(token[..<equals]), String(token[token.index(after: equals)...])))
            } else {
                positional.append(token)
            }
        }
    }

    func option(_ key: String) -> String? { options.last { $0.key == key }?.value }

    /// Refuses options the command does not know, so that a typo cannot silently change a scenario.
    func allowOptions(_ keys: Set<String>) throws(ScriptError) {
        for option in options where !keys.contains(option.key) {
            throw ScriptError("\(name): unknown option \(option.key)= (known: \(keys.sorted().joined(separator: ", ")))")
        }
    }

    func intOption(_ key: String) throws(ScriptError) -> Int? {
        guard let text = option(key) else { return nil }
        guard let value = Int(text) else { throw ScriptError("\(key)=\(text) is not an integer") }
        return value
    }

    func boolOption(_ key: String) throws(ScriptError) -> Bool? {
        switch option(key) {
        case nil: return nil
        case "true": return true
        case "false": return false
        case let other?: throw ScriptError("\(key)=\(other) is not true or false")
        }
    }

    func positional(_ position: Int, _ what: String) throws(ScriptError) -> String {
        guard position < positional.count else { throw ScriptError("\(name): missing \(what)") }
        return positional[position]
    }
}

/// A command the interpreter refuses; its message becomes the block's output (`error: …`), so a
/// transcript can show refusals too.
struct ScriptError: Error, Sendable {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Something that runs transcript commands and returns their output.
protocol ScriptInterpreter {
    /// Runs one command; returns its output lines (none prints `ok`).
    mutating func run(_ command: ScriptCommand) throws(ScriptError) -> [String]
}

/// One testdata file, parsed so that it can be run and rewritten without losing its comments.
struct TranscriptFile {
    enum Piece {
        /// Comments and blank lines, kept verbatim.
        case text(String)
        case block(Block)
    }

    struct Block {
        var line: Int
        var command: String
        var expected: [String]
    }

    var pieces: [Piece] = []

    init(text: String, path: String) throws(ScriptError) {
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        var position = 0
        while position < lines.count {
            let line = lines[position]
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") {
                pieces.append(.text(line))
                position += 1
                continue
            }
            guard position + 1 < lines.count, lines[position + 1] == "----" else {
                throw ScriptError("\(path):\(position + 1): command \"\(line)\" is not followed by a ---- line")
            }
            var block = Block(line: position + 1, command: line, expected: [])
            position += 2
            while position < lines.count && !lines[position].trimmingCharacters(in: .whitespaces).isEmpty {
                block.expected.append(lines[position])
                position += 1
            }
            pieces.append(.block(block))
        }
    }

    /// The file with every block's output replaced by `outputs[i]` (in block order).
    func rendered(outputs: [[String]]) -> String {
        var lines: [String] = []
        var blockNumber = 0
        for piece in pieces {
            switch piece {
            case .text(let text):
                lines.append(text)
            case .block(let block):
                lines.append(block.command)
                lines.append("----")
                lines.append(contentsOf: outputs[blockNumber])
                blockNumber += 1
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    var blocks: [Block] {
        pieces.compactMap { if case .block(let block) = $0 { block } else { nil } }
    }
}

/// Where the transcripts live and whether to rewrite them.
enum Transcripts {
    /// `Tests/InteractionTests/testdata`, found from this file's own path.
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // InteractionTests
        .appendingPathComponent("testdata")

    static var isRewriting: Bool { ProcessInfo.processInfo.environment["ROSTER_REWRITE"] == "1" }

    /// The `.txt` files of a subdirectory, sorted by name.
    static func files(in subdirectory: String) -> [String] {
        let folder = directory.appendingPathComponent(subdirectory)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".txt") }.sorted()
    }

    /// Runs every block of `subdirectory/name` through a fresh interpreter and compares (or rewrites).
    static func run<Interpreter: ScriptInterpreter>(
        _ name: String, in subdirectory: String, interpreter: Interpreter, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        var interpreter = interpreter
        let url = directory.appendingPathComponent(subdirectory).appendingPathComponent(name)
        let relative = "testdata/\(subdirectory)/\(name)"
        let text = try String(contentsOf: url, encoding: .utf8)
        let file = try TranscriptFile(text: text, path: relative)
        var outputs: [[String]] = []
        var mismatches: [String] = []
        for block in file.blocks {
            let command = ScriptCommand(parsing: block.command, location: "\(relative):\(block.line)")
            var produced: [String]
            do {
                produced = try interpreter.run(command)
            } catch {
                produced = ["error: \(error.message)"]
            }
            produced = normalized(produced)
            outputs.append(produced)
            if produced != block.expected {
                mismatches.append(
                    "\(relative):\(block.line): \(block.command)\n" + LineDiff.unified(expected: block.expected, actual: produced))
            }
        }
        if isRewriting {
            let rewritten = file.rendered(outputs: outputs)
            if rewritten != text { try rewritten.write(to: url, atomically: true, encoding: .utf8) }
            return
        }
        for mismatch in mismatches {
            Issue.record(
                "transcript differs (--- expected, +++ produced; ROSTER_REWRITE=1 rewrites):\n\(mismatch)",
                sourceLocation: sourceLocation)
        }
    }

    /// No trailing spaces, no blank lines (a blank line ends a block), `ok` for nothing.
    static func normalized(_ lines: [String]) -> [String] {
        let kept = lines.flatMap { $0.components(separatedBy: "\n") }
            .map { line in
                var line = line
                while line.last == " " { line.removeLast() }
                return line
            }
            .filter { !$0.isEmpty }
        return kept.isEmpty ? ["ok"] : kept
    }
}
