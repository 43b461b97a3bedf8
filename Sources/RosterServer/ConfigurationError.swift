/// Why a configuration was refused. Every message names the setting, the offending value, and how to fix it,
/// because the reader is an operator looking at a process that would not start.
///
/// `setting` strings name where the value came from: `--heartbeat-ms` for a flag, `heartbeat-ms (node.conf:3)`
/// for a line of the config file.
public enum ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `--help` was given: print `ServerConfiguration.helpText` to standard output and exit 0.
    case helpRequested
    case unknownFlag(String, suggestion: String?)
    case unexpectedArgument(String)
    case missingValue(setting: String)
    case duplicateSetting(setting: String)
    case notANumber(setting: String, value: String)
    case outOfRange(setting: String, value: Int, range: ClosedRange<Int>)
    /// Raft needs the election timeout to span at least two heartbeats, or followers campaign against a
    /// healthy leader.
    case heartbeatNotBelowElection(heartbeatMilliseconds: Int, electionMilliseconds: Int)
    case invalidAddress(setting: String, value: String)
    case invalidName(setting: String, value: String)
    case invalidBoolean(setting: String, value: String)
    case invalidLogLevel(setting: String, value: String)
    case emptyValue(setting: String)
    case clientAddressEqualsPeerAddress(String)
    /// The Raft options derived from the settings fail `RaftOptions.validate()`.
    case invalidRaftOptions(String)
    case malformedClusterEntry(String)
    case duplicateMemberName(String)
    case duplicateMemberAddress(String, names: [String])
    /// Two names hash to the same member ID (FNV-1a 64); astronomically unlikely, but then one must change.
    case memberIDCollision(String, String)
    case nameNotInInitialCluster(name: String, members: [String])
    case peerAddressMismatch(name: String, peerAddress: String, clusterAddress: String)
    /// `--join` needs the running cluster's founders: they define the cluster ID and are the first contacts.
    case joinWithoutFounders(name: String)
    /// `--force-new-cluster` rewrites an existing member's directory; a joiner has none to rewrite.
    case forceNewClusterWithJoin
    case configFileUnreadable(path: String, reason: String)
    case configFileSyntax(path: String, line: Int, text: String)
    /// An `--etcd-layout` that cannot work.
    case invalidLayout(setting: String, reason: String)
    /// TLS flags that cannot work together (a certificate without its key, verification without a CA).
    case incompleteTLS(String)

    public var description: String {
        switch self {
        case .helpRequested:
            "help requested"
        case .unknownFlag(let flag, let suggestion):
            "unknown flag \(flag)" + (suggestion.map { "; did you mean \($0)?" } ?? "") + " (see roster --help)"
        case .unexpectedArgument(let argument):
            "unexpected argument '\(argument)': every setting is a flag such as --name n1 (see roster --help)"
        case .missingValue(let setting):
            "\(setting) needs a value, e.g. \(setting) VALUE or \(setting)=VALUE"
        case .duplicateSetting(let setting):
            "\(setting) is given more than once; keep one"
        case .notANumber(let setting, let value):
            "\(setting) must be a whole number, got '\(value)'"
        case .outOfRange(let setting, let value, let range):
            "\(setting) must be between \(range.lowerBound) and \(range.upperBound), got \(value)"
        case .heartbeatNotBelowElection(let heartbeat, let election):
            "--heartbeat-ms (\(heartbeat)) must be at most half of --election-ms (\(election)); "
                + "raise --election-ms to at least \(heartbeat * 2) (10x the heartbeat is typical)"
        case .invalidAddress(let setting, let value):
            "\(setting) must be an IPv4 address with a port such as 127.0.0.1:2380, got '\(value)'"
        case .invalidName(let setting, let value):
            "\(setting) must be 1-64 characters of letters, digits, '.', '_' or '-', got '\(value)'"
        case .invalidBoolean(let setting, let value):
            "\(setting) must be true or false, got '\(value)'"
        case .invalidLogLevel(let setting, let value):
            "\(setting) must be one of debug, info, warning, error; got '\(value)'"
        case .emptyValue(let setting):
            "\(setting) must not be empty"
        case .clientAddressEqualsPeerAddress(let address):
            "--client-addr and --peer-addr are both \(address); give each listener its own port"
        case .invalidRaftOptions(let reason):
            "the settings make invalid Raft options (\(reason)); check --heartbeat-ms and --election-ms"
        case .malformedClusterEntry(let entry):
            "--initial-cluster entry '\(entry)' is not NAME=ADDRESS; write e.g. n1=127.0.0.1:2380,n2=127.0.0.1:2382"
        case .duplicateMemberName(let name):
            "--initial-cluster lists the name \(name) more than once; every member needs a unique name"
        case .duplicateMemberAddress(let address, let names):
            "--initial-cluster gives \(names.joined(separator: " and ")) the same peer address \(address); "
                + "every member needs its own address"
        case .memberIDCollision(let first, let second):
            "members \(first) and \(second) hash to the same member ID; rename one of them"
        case .nameNotInInitialCluster(let name, let members):
            "--name \(name) is not in --initial-cluster (\(members.joined(separator: ", "))); "
                + "add \(name)=PEER-ADDRESS to it, or pass --join to join a running cluster"
        case .peerAddressMismatch(let name, let peerAddress, let clusterAddress):
            "--peer-addr is \(peerAddress) but --initial-cluster says \(name)=\(clusterAddress); make them agree"
        case .forceNewClusterWithJoin:
            "--force-new-cluster and --join exclude each other: force a new cluster on the surviving member, then "
                + "join new members to it"
        case .joinWithoutFounders(let name):
            "--join needs --initial-cluster to list the running cluster's founding members (it lists only \(name)); "
                + "use the same --initial-cluster the founders were started with"
        case .configFileUnreadable(let path, let reason):
            "cannot read config file \(path): \(reason)"
        case .configFileSyntax(let path, let line, let text):
            "\(path):\(line): expected 'key = value' or a # comment, got '\(text)'"
        case .invalidLayout(let setting, let reason):
            "\(setting): \(reason); write e.g. kratos=/microservices,kitex=kitex/registry-etcd, or none"
        case .incompleteTLS(let reason):
            reason
        }
    }
}
