import Foundation

/// Running the command-line tools built beside `roster` (`roster restore`, `rosterctl`) to completion.
extension ProcessCluster {
    /// What a finished tool printed and how it exited.
    public struct ToolResult {
        public var status: Int32
        /// Standard output and standard error, interleaved.
        public var output: String
    }

    /// Runs `tool` ("roster" or "rosterctl", from the directory of the `roster` binary) with `arguments` and
    /// waits for it to exit.
    public func run(_ tool: String, _ arguments: [String]) throws -> ToolResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary).deletingLastPathComponent().appendingPathComponent(tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        // Read before waiting: a tool that fills the pipe would otherwise never exit.
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ToolResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
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
