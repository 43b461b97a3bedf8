import DNS
import Posix

/// Wires the DNS interface to the node: queries are answered from the driver's applied registry, on the
/// loop thread, with no Raft round trip (bounded staleness rather than linearizability: see
/// `dnsFreshness`).
extension RosterServer {
    /// Starts the DNS listeners when `--dns-addr` is set.
    func startDNS() throws {
        guard let address = configuration.dnsAddress else { return }
        let answerer = DNSAnswerer(options: DNSAnswererOptions(ttl: UInt32(configuration.dnsTTLSeconds)))
        let cache = DNSAnswerCache()
        dnsServer = try DNSServer(address: address, loop: loop, logger: logger) { [unowned self] query, transport in
            let response = answerer.respond(
                to: query, over: transport, catalog: self.registry, freshness: self.dnsFreshness, cache: cache)
            self.metrics.requests[Self.dnsMetricKind(response), default: 0] += 1
            return response
        }
        logger.info("DNS listening", ["address": "\(address)", "zone": "\(answerer.options.zone)",
                                      "ttl_s": "\(configuration.dnsTTLSeconds)"])
    }

    /// The `roster_requests_total` kind of a DNS answer: `dns_` and its response code in lower case
    /// (`dns_noerror`, `dns_nxdomain`, `dns_servfail`, …), or `dns_dropped` for a packet left unanswered.
    static func dnsMetricKind(_ response: [UInt8]?) -> String {
        guard let response, let header = DNSMessage.header(of: response) else { return "dns_dropped" }
        // BADVERS (16) is the only extended code the answerer sends; its header bits read NOERROR.
        return "dns_" + DNSResponseCode(rawValue: UInt16(header.rcodeLow)).description.lowercased()
    }

    /// Whether the applied state may answer DNS: not while local reads are fenced after a restart (the
    /// state may be behind what this node served before), and not once this node has heard from no leader
    /// for longer than `--dns-max-staleness` (a partitioned node's registry stops following the cluster).
    /// Read from the status of the last Ready loop, which runs at least every tick.
    var dnsFreshness: DNSFreshness {
        guard lastStatus.raft.allowsLocalReads else { return .stale("local reads fenced after restart") }
        guard let age = lastStatus.leaderContactAgeMilliseconds else { return .stale("no leader contact yet") }
        guard age <= UInt64(configuration.dnsMaxStalenessMilliseconds) else {
            return .stale("no leader for \(age) ms")
        }
        return .current
    }
}
