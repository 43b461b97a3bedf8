// rosterctl: the command-line client of a Roster cluster. See `rosterctl --help`.
import Foundation
import RosterClient

/// Every command, in help order.
let commands: [Command] = RegistryCommands.all + LeaseCommands.all + KeyValueCommands.all + ClusterCommands.all
    + SnapshotCommands.all + AlarmCommands.all + AuthCommands.all

let overview = """
    Usage: rosterctl <command> [operands] [options]

    Commands:
    \(commands.map { "  " + $0.name.padding(toLength: 18, withPad: " ", startingAt: 0) + $0.summary }.joined(separator: "\n"))

    Run `rosterctl <command> --help` for a command's operands and options.

    \(Command.globalHelp)
    """

/// Parses the line, runs the command and returns the exit code.
func runMain(_ raw: [String]) async -> Int32 {
    let arguments: Arguments
    do {
        arguments = try Arguments.parse(raw)
    } catch {
        Output.error("\(error)\nRun `rosterctl --help` for usage.")
        return 2
    }
    // The longest command path that prefixes the words.
    let command = commands.filter { arguments.words.starts(with: $0.path) }.max { $0.path.count < $1.path.count }
    guard let command else {
        if arguments.words.isEmpty {
            print(overview)
            return arguments.flags.contains("help") ? 0 : 2
        }
        let group = commands.filter { $0.path.first == arguments.words[0] }
        if !group.isEmpty && (arguments.words.count == 1 || arguments.flags.contains("help")) {
            print(
                "Usage: rosterctl \(arguments.words[0]) <\(group.map { $0.path.last ?? "" }.joined(separator: "|"))> …\n"
            )
            for member in group {
                print("  " + member.name.padding(toLength: 18, withPad: " ", startingAt: 0) + member.summary)
            }
            return arguments.flags.contains("help") ? 0 : 2
        }
        Output.error(
            "unknown command \"\(arguments.words.joined(separator: " "))\"\nRun `rosterctl --help` for the list.")
        return 2
    }
    if arguments.flags.contains("help") {
        print(command.help)
        return 0
    }
    do {
        let context = try makeContext(arguments, command)
        return try await command.run(context)
    } catch let error as UsageError {
        Output.error("\(error)\nUsage: rosterctl \(command.name) \(command.synopsis)  (see --help)")
        return 2
    } catch let error as RosterClientError {
        Output.error(error.description)
        return error.isRejection ? 1 : 3
    } catch {
        Output.error("\(error)")
        return 3
    }
}

/// Checks options and operands against the command and builds the client.
func makeContext(_ arguments: Arguments, _ command: Command) throws -> Context {
    let unknown = arguments.givenNames.subtracting(command.options).subtracting(Command.globalOptions)
    if let name = unknown.sorted().first { throw UsageError("\(command.name) has no option --\(name)") }
    let operands = Array(arguments.words.dropFirst(command.path.count))
    guard command.operands.contains(operands.count) else {
        throw UsageError(
            "\(command.name) takes \(command.synopsis.isEmpty ? "no operands" : command.synopsis), got \(operands.count) operand(s)"
        )
    }
    let format: OutputFormat
    switch arguments.option("output") ?? "table" {
    case "table": format = .table
    case "json": format = .json
    case let other: throw UsageError("--output is table or json, got \(other)")
    }
    let endpointText =
        arguments.option("endpoints") ?? ProcessInfo.processInfo.environment["ROSTER_ENDPOINTS"] ?? "127.0.0.1:2379"
    var endpoints: [Endpoint] = []
    for part in endpointText.split(separator: ",") {
        guard let endpoint = Endpoint(String(part)) else { throw UsageError("bad endpoint \"\(part)\"; use host:port or https://host:port") }
        endpoints.append(endpoint)
    }
    guard !endpoints.isEmpty else { throw UsageError("--endpoints is empty") }
    var timeout = Duration.seconds(5)
    if let text = arguments.option("timeout") {
        guard let parsed = DurationText.parse(text), parsed > .zero else {
            throw UsageError("--timeout takes a duration like 5s, got \(text)")
        }
        timeout = parsed
    }
    var configuration = RosterClientConfiguration(endpoints: endpoints)
    configuration.callTimeout = timeout
    configuration.attemptTimeout = min(.seconds(2), timeout)
    configuration.namespace = arguments.option("namespace") ?? "default"
    configuration.tls = try tlsSettings(arguments, endpoints: endpoints)
    if let user = arguments.option("user") {
        let (name, given) = AuthCommands.splitUser(user)
        guard let password = given ?? ProcessInfo.processInfo.environment["ROSTER_PASSWORD"] else {
            throw UsageError("--user \(name) needs a password: --user \(name):<password> or $ROSTER_PASSWORD")
        }
        configuration.credentials = Credentials(user: name, password: password)
    }
    return Context(
        arguments: arguments, operands: operands, client: RosterClient(configuration: configuration),
        endpoints: endpoints, format: format, timeout: timeout, namespace: configuration.namespace)
}

/// TLS from --cacert, --cert and --key (any of them, or an https:// endpoint, turns TLS on); nil for plain HTTP.
func tlsSettings(_ arguments: Arguments, endpoints: [Endpoint]) throws -> ClientTLS? {
    let caFile = arguments.option("cacert")
    let certificateFile = arguments.option("cert")
    let keyFile = arguments.option("key")
    guard (certificateFile == nil) == (keyFile == nil) else { throw UsageError("--cert and --key go together") }
    for (flag, path) in [("--cacert", caFile), ("--cert", certificateFile), ("--key", keyFile)] {
        if let path, !FileManager.default.isReadableFile(atPath: path) {
            throw UsageError("\(flag) \(path): no readable file there")
        }
    }
    guard caFile != nil || certificateFile != nil || endpoints.contains(where: { $0.tls != nil }) else { return nil }
    return ClientTLS(trustedCAFile: caFile, certificateFile: certificateFile, keyFile: keyFile)
}

let code = await runMain(Array(CommandLine.arguments.dropFirst()))
exit(code)
