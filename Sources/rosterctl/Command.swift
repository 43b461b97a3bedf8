import Foundation
import RosterClient

/// What a command needs to run: the parsed line, the client and the output format.
struct Context {
    var arguments: Arguments
    /// The operands after the command path.
    var operands: [String]
    var client: RosterClient
    var endpoints: [Endpoint]
    var format: OutputFormat
    var timeout: Duration
    var namespace: String

    /// One operand, or a usage error naming it.
    func operand(_ position: Int, _ name: String) throws -> String {
        guard position < operands.count else { throw UsageError("missing <\(name)>") }
        return operands[position]
    }

    /// An option parsed as an integer.
    func integer(_ name: String) throws -> Int64? {
        guard let text = arguments.option(name) else { return nil }
        guard let value = Int64(text), value >= 0 else {
            throw UsageError("--\(name) must be a non-negative integer, got \(text)")
        }
        return value
    }

    /// An operand parsed as a lease ID.
    func leaseOperand(_ position: Int) throws -> UInt64 {
        let text = try operand(position, "lease-id")
        guard let value = UInt64(text), value > 0 else {
            throw UsageError("<lease-id> must be a positive integer, got \(text)")
        }
        return value
    }

    /// Sends a request through the failover client and returns the response.
    func call(
        _ method: String, _ path: String, body: JSONObject? = nil, idempotent: Bool = true, leader: Bool = false
    ) async throws -> HTTPResponse {
        var bytes: [UInt8]?
        if let body { bytes = Array(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) }
        return try await client.send(
            method, path, body: bytes, idempotent: idempotent, preferLeader: leader || method != "GET", timeout: timeout
        )
    }

    /// Prints the raw JSON body for `-o json`; returns true when it did (the caller then prints nothing else).
    func printedJSON(_ response: HTTPResponse) -> Bool {
        guard format == .json else { return false }
        print(response.text.trimmingCharacters(in: .whitespacesAndNewlines))
        return true
    }
}

/// One command: its words, help, accepted options and implementation.
struct Command {
    /// The words that name it (`["lease", "grant"]`).
    var path: [String]
    /// Operand synopsis (`<service> <id>`).
    var synopsis: String
    /// One line for the command list.
    var summary: String
    /// Longer help: options and what the output shows.
    var details: String
    /// Options the command accepts, besides the global ones.
    var options: Set<String> = []
    /// Allowed operand counts.
    var operands: ClosedRange<Int>
    /// Runs it; returns the exit code.
    var run: @Sendable (Context) async throws -> Int32

    var name: String { path.joined(separator: " ") }

    var help: String {
        """
        Usage: rosterctl \(name)\(synopsis.isEmpty ? "" : " " + synopsis) [global options]

        \(summary)

        \(details)

        \(Command.globalHelp)
        """
    }

    static let globalOptions: Set<String> = [
        "endpoints", "output", "timeout", "namespace", "help", "cacert", "cert", "key", "user",
    ]

    static let globalHelp = """
        Global options:
          -e, --endpoints LIST   node client addresses, comma-separated (default: $ROSTER_ENDPOINTS, else 127.0.0.1:2379)
          -o, --output FORMAT    table (default) or json (the server's JSON, one document per line)
              --timeout DURATION per-command deadline, retries included (default 5s; 500ms, 10s, 1m)
              --namespace NAME   namespace of services (default "default")
              --cacert FILE      TLS: CA bundle that signs the nodes' certificates (implies https)
              --cert FILE        TLS: client certificate, for nodes started with --client-cert-auth
              --key FILE         TLS: private key of --cert
              --user NAME[:PW]   auth: log in as NAME (password after the colon, else $ROSTER_PASSWORD)
          -h, --help             show help
        Exit codes: 0 ok; 1 rejected by the server (4xx: fix the request); 2 usage error;
                    3 unavailable (no node reachable, 5xx, timeout: retry later or check the cluster).
        """
}
