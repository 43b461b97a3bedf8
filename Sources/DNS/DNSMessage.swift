/// A whole DNS message (RFC 1035 §4.1): header and four sections. The OPT pseudo-record, when present,
/// sits in `additionals` as on the wire; `edns` reads it.
public struct DNSMessage: Hashable, Sendable {
    public var header: DNSHeader
    public var questions: [DNSQuestion]
    public var answers: [DNSRecord]
    public var authorities: [DNSRecord]
    public var additionals: [DNSRecord]

    public init(header: DNSHeader, questions: [DNSQuestion] = [], answers: [DNSRecord] = [],
                authorities: [DNSRecord] = [], additionals: [DNSRecord] = []) {
        self.header = header
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
    }

    /// The EDNS0 parameters of the first OPT record, if any.
    public var edns: EDNS? {
        guard let record = additionals.first(where: { $0.type == .opt }) else { return nil }
        return EDNS(record: record)
    }

    /// How many OPT records the message carries; more than one makes a query malformed (RFC 6891 §6.1.1).
    public var optCount: Int { additionals.count { $0.type == .opt } }

    /// The full response code: the header's 4 bits and, with EDNS, the OPT record's upper 8.
    public var responseCode: DNSResponseCode {
        DNSResponseCode(rawValue: UInt16(edns?.extendedRcodeHigh ?? 0) << 4 | UInt16(header.rcodeLow))
    }
}

/// EDNS0 parameters (RFC 6891 §6.1.3), as carried in an OPT record's class and TTL fields.
public struct EDNS: Hashable, Sendable {
    /// The largest UDP payload the sender can reassemble.
    public var udpPayloadSize: UInt16
    /// The upper 8 bits of the 12-bit response code.
    public var extendedRcodeHigh: UInt8
    public var version: UInt8
    /// The DO bit: the sender wants DNSSEC records (Roster has none to give).
    public var dnssecOK: Bool
    public var options: [EDNSOption]

    public init(udpPayloadSize: UInt16, extendedRcodeHigh: UInt8 = 0, version: UInt8 = 0, dnssecOK: Bool = false,
                options: [EDNSOption] = []) {
        self.udpPayloadSize = udpPayloadSize
        self.extendedRcodeHigh = extendedRcodeHigh
        self.version = version
        self.dnssecOK = dnssecOK
        self.options = options
    }

    init(record: DNSRecord) {
        let options: [EDNSOption] = if case .opt(let options) = record.data { options } else { [] }
        self.init(
            udpPayloadSize: record.rawClass, extendedRcodeHigh: UInt8(record.ttl >> 24),
            version: UInt8(record.ttl >> 16 & 0xFF), dnssecOK: record.ttl & 0x8000 != 0, options: options)
    }

    /// The OPT record that carries these parameters (owner: the root name).
    public var record: DNSRecord {
        let ttl = UInt32(extendedRcodeHigh) << 24 | UInt32(version) << 16 | (dnssecOK ? 0x8000 : 0)
        return DNSRecord(name: .root, type: .opt, rawClass: udpPayloadSize, ttl: ttl, data: .opt(options))
    }
}
