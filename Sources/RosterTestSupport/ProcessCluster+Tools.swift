import Foundation
import Posix

/// Running the command-line tools built beside `roster` (`roster restore`, `rosterctl`) to completion.
extension ProcessCluster {
    /// What a finished tool printed and how it exited.
    public struct ToolResult: Sendable {
        /// The exit status; -1 when a signal ended the tool or it outlived `toolTimeout`.
        public var status: Int32
        /// Standard output and standard error, interleaved (or standard output alone, when `errors` is separate).
        public var output: String
        /// Standard error, when it was kept apart from `output`.
        public var errors: String = ""
    }

    /// How long a tool may run: generous, since it only bounds a hang.
    public static let toolTimeout: Duration = .seconds(120)

    /// Runs `tool` ("roster" or "rosterctl", from the directory of the `roster` binary) with `arguments` and
    /// waits (blocking this thread) for it to exit.
    public func run(_ tool: String, _ arguments: [String]) throws -> ToolResult {
        try Self.runTool(toolPath(tool), arguments, in: root)
    }

    /// As the blocking `run`, suspending between polls.
    public func run(_ tool: String, _ arguments: [String]) async throws -> ToolResult {
        try await Self.runTool(toolPath(tool), arguments, in: root)
    }

    private func toolPath(_ tool: String) -> String {
        URL(fileURLWithPath: binary).deletingLastPathComponent().appendingPathComponent(tool).path
    }

    /// Runs `executable` to completion, blocking this thread; output goes through files, so a tool that prints a
    /// lot never stalls on a full pipe.
    /// - Parameters:
    ///   - directory: Where the output files are made (and removed).
    ///   - environment: Entries to set on top of this process's environment (nil removes one).
    ///   - input: Standard input; none reads `/dev/null`.
    ///   - separateErrors: Keep standard error apart from standard output (`ToolResult.errors`).
    public static func runTool(
        _ executable: String, _ arguments: [String], in directory: String = NSTemporaryDirectory(),
        environment: [String: String?] = [:], input: String? = nil, separateErrors: Bool = false
    ) throws -> ToolResult {
        let files = try ToolFiles(directory: directory, input: input, separateErrors: separateErrors)
        defer { files.remove() }
        let process = try files.spawn(executable, arguments, environment: environment)
        var ended = process.waitForExitBlocking(timeout: toolTimeout)
        if ended == nil {
            process.send(signal: SignalNumber.kill)
            ended = process.waitForExitBlocking(timeout: toolTimeout)
        }
        return files.result(ended)
    }

    /// As the blocking `runTool`, suspending between polls.
    public static func runTool(
        _ executable: String, _ arguments: [String], in directory: String = NSTemporaryDirectory(),
        environment: [String: String?] = [:], input: String? = nil, separateErrors: Bool = false
    ) async throws -> ToolResult {
        let files = try ToolFiles(directory: directory, input: input, separateErrors: separateErrors)
        defer { files.remove() }
        let process = try files.spawn(executable, arguments, environment: environment)
        var ended = await process.waitForExit(timeout: toolTimeout)
        if ended == nil {
            process.send(signal: SignalNumber.kill)
            ended = await process.waitForExit(timeout: toolTimeout)
        }
        return files.result(ended)
    }

    /// The server flags `start` gives node `index`, for a tool (`roster restore`) that must see the same ones.
    public func serverFlags(_ index: Int, initialCluster: String? = nil) -> [String] {
        let node = nodes[index]
        return [
            "--name", node.name, "--data-dir", node.dataDirectory,
            "--client-addr", "127.0.0.1:\(node.clientPort)", "--peer-addr", "127.0.0.1:\(node.peerPort)",
            "--initial-cluster", initialCluster ?? self.initialCluster, "--heartbeat-ms", "50", "--election-ms", "500",
        ] + extraFlags
    }
}

/// The throwaway files one tool run reads its input from and writes its output to.
private struct ToolFiles {
    let input: String?
    let output: String
    let errors: String?

    init(directory: String, input text: String?, separateErrors: Bool) throws {
        let stem = "\(directory)/tool-\(CurrentProcess.identifier)-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        output = stem + ".out"
        errors = separateErrors ? stem + ".err" : nil
        if let text {
            input = stem + ".in"
            try Data(text.utf8).write(to: URL(fileURLWithPath: stem + ".in"))
        } else {
            input = nil
        }
    }

    func spawn(_ executable: String, _ arguments: [String], environment: [String: String?]) throws -> ChildProcess {
        var merged = ProcessInfo.processInfo.environment
        for (name, value) in environment { merged[name] = value }
        return try ChildProcess.spawn(
            executable, arguments: arguments, environment: merged.map { "\($0.key)=\($0.value)" }, inputPath: input,
            outputPath: output, errorPath: errors)
    }

    func result(_ ended: ChildProcess.Termination?) -> ProcessCluster.ToolResult {
        let status: Int32 = if case .exited(let code) = ended { code } else { -1 }
        return ProcessCluster.ToolResult(
            status: status, output: Self.read(output), errors: errors.map(Self.read) ?? "")
    }

    func remove() {
        for path in [input, output, errors].compactMap({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
    }

    private static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}
