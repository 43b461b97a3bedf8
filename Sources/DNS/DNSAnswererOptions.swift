/// What the answerer serves and how: the zone, TTLs, and the bounds on answer sizes.
public struct DNSAnswererOptions: Hashable, Sendable {
    /// The zone every served name is under; names elsewhere are REFUSED.
    public var zone: DNSName
    /// TTL of every record, and the negative-caching TTL (the SOA minimum). Short by default: the registry
    /// changes by the second, and a resolver that caches longer hands out instances that already left.
    public var ttl: UInt32
    /// The largest UDP answer sent to an EDNS0 query, whatever larger buffer it offers: 1,232 bytes fits
    /// the IPv6 minimum MTU without fragmentation (the DNS Flag Day 2020 value). Queries without EDNS0 get
    /// 512 (RFC 1035 §4.2.1).
    public var udpPayloadCap: Int
    /// Most metadata pairs one instance's TXT record carries.
    public var txtMetadataPairs: Int

    public init(zone: DNSName = DNSAnswerer.defaultZone, ttl: UInt32 = 5, udpPayloadCap: Int = 1232,
                txtMetadataPairs: Int = 16) {
        self.zone = zone
        self.ttl = ttl
        self.udpPayloadCap = max(512, min(udpPayloadCap, 65_535))
        self.txtMetadataPairs = txtMetadataPairs
    }
}

/// Which transport a query came over, which decides how large the answer may be.
public enum DNSTransport: Sendable {
    /// Answers are cut to 512 bytes, or to the EDNS0 size the query offers (capped), with TC set.
    case udp
    /// Answers are whole (up to 65,535 bytes, the length prefix's limit).
    case tcp
}

/// Whether the node's applied state is fresh enough to answer from.
public enum DNSFreshness: Hashable, Sendable {
    case current
    /// Answer SERVFAIL, so a resolver tries another node: the node is fenced after a restart, or has heard
    /// from no leader for longer than the staleness bound. The reason is for logs.
    case stale(String)
}
