/// Tells a connection that opens with HTTP/2's client preface (prior knowledge, how etcd's gRPC clients connect) from
/// one that speaks HTTP/1.1, by its first four octets: "PRI " (RFC 9113 §3.4), which no HTTP/1.1 method starts with.
/// As etcd does, one client port serves both. Used where a connection's first bytes arrive: the I/O loop that carries
/// it, or the session when the Raft loop carries it (`--io-threads 0`).
struct PrefaceProbe {
    static let http2Start: [UInt8] = Array("PRI ".utf8)

    enum Verdict {
        /// Too few octets to tell yet; they are kept and handed back with the verdict.
        case undecided
        /// The connection speaks HTTP/2; `early` are octets of earlier reads, not yet handed on, that come first.
        case http2(early: [UInt8])
        /// The connection speaks HTTP/1.1; `early` as above.
        case http1(early: [UInt8])
        /// Told before: these octets simply follow.
        case alreadyDecided
    }

    /// The first octets while they could still be the start of the preface; nil once the protocol is known.
    private var seen: [UInt8]? = []

    var isDecided: Bool { seen == nil }

    /// Looks at the next octets read from the connection.
    mutating func inspect(_ bytes: UnsafeRawBufferPointer) -> Verdict {
        guard var probe = seen else { return .alreadyDecided }
        let early = probe
        probe.append(contentsOf: bytes.prefix(Self.http2Start.count - probe.count))
        if probe.count < Self.http2Start.count && Self.http2Start.starts(with: probe) {
            seen = probe
            return .undecided
        }
        seen = nil
        return probe == Self.http2Start ? .http2(early: early) : .http1(early: early)
    }

    /// The protocol is known by other means (the I/O loop that carries the connection told).
    mutating func decide() { seen = nil }
}
