import Registry

/// Builds the response to one DNS query from a read-only view of the registry. Pure: no I/O, no clock;
/// the shell passes in the packet, the transport and whether the node's state is fresh enough.
///
/// Names (under the zone, `roster.` by default):
/// - `<service>.<namespace>.roster.`: A and AAAA with the address literals of the `up` instances'
///   endpoints, SRV per endpoint with a port, TXT per instance (see `txtStrings`).
/// - `<tag>.<service>.<namespace>.roster.`: the same, for instances whose `tags` metadata (a
///   comma-separated list) holds `<tag>`, compared without case.
/// - `_<scheme>._tcp.[<tag>.]<service>.<namespace>.roster.` (or `_udp`): only endpoints whose URL scheme is
///   `<scheme>` (RFC 2782 style, `_grpc._tcp.payments.prod.roster.`).
/// - `<hex>.addr.roster.`: the address an SRV target stands for (8 hex digits for IPv4, 32 for IPv6), so
///   an endpoint given as an address literal still has a target name.
/// - `roster.` has the SOA; `<namespace>.roster.` and `addr.roster.` exist without records.
///
/// A name exists while some instance matches it, whatever its status, so a service whose instances all
/// drain answers NODATA (NOERROR, no records, the SOA in authority), and a service without instances
/// NXDOMAIN. `draining` instances never appear in records.
public struct DNSAnswerer: Sendable {
    /// `roster.`
    public static let defaultZone = DNSName(checkedLabels: [Array("roster".utf8)])
    public var options: DNSAnswererOptions

    public init(options: DNSAnswererOptions = DNSAnswererOptions()) {
        self.options = options
    }

    /// The response to `packet`, or nil when it gets none: fewer than 12 bytes (no ID to answer to), or a
    /// response rather than a query (answering those could loop between two servers).
    /// - Parameter cache: Zone answers kept between queries while the registry does not change (see
    ///   `DNSAnswerCache`); nil computes every answer afresh.
    public func respond(to packet: [UInt8], over transport: DNSTransport, catalog: some ServiceCatalog,
                        freshness: DNSFreshness, cache: DNSAnswerCache? = nil) -> [UInt8]? {
        guard let header = DNSMessage.header(of: packet), !header.isResponse else { return nil }
        let query: DNSMessage
        do {
            query = try DNSMessage(decoding: packet)
        } catch {
            return reply(to: header, question: nil, code: .formatError, edns: nil).encoded()
        }
        let response = answer(query, catalog: catalog, freshness: freshness, cache: cache)
        let limit: Int
        switch transport {
        case .tcp: limit = 65_535
        case .udp:
            let offered = query.edns.map { Int($0.udpPayloadSize) } ?? 512
            limit = max(512, min(offered, options.udpPayloadCap))
        }
        return response.encoded(limit: limit)
    }

    /// The response message to a decoded query, before it is fitted to a transport.
    public func answer(_ query: DNSMessage, catalog: some ServiceCatalog, freshness: DNSFreshness,
                       cache: DNSAnswerCache? = nil) -> DNSMessage {
        let ourEDNS = query.edns.map { _ in EDNS(udpPayloadSize: UInt16(clamping: options.udpPayloadCap)) }
        guard query.header.opcode == .query else {
            return reply(to: query.header, question: query.questions.first, code: .notImplemented, edns: ourEDNS)
        }
        guard query.questions.count == 1, query.optCount <= 1 else {
            return reply(to: query.header, question: query.questions.first, code: .formatError, edns: ourEDNS)
        }
        let question = query.questions[0]
        if let edns = query.edns, edns.version > 0 {
            return reply(to: query.header, question: question, code: .badVersion, edns: ourEDNS)
        }
        guard question.rawClass == DNSClass.internet.rawValue || question.rawClass == DNSClass.any.rawValue,
              question.name.isWithin(options.zone), question.type != .axfr, question.type != .ixfr
        else {
            return reply(to: query.header, question: question, code: .refused, edns: ourEDNS)
        }
        guard case .current = freshness else {
            return reply(to: query.header, question: question, code: .serverFailure, edns: ourEDNS)
        }
        var response = reply(to: query.header, question: question, code: .noError, edns: ourEDNS)
        let soa = soaRecord(catalog: catalog)
        let lookup = { DNSZoneLookup(options: options, catalog: catalog, soa: soa).lookup(question.name, type: question.type) }
        let zoneAnswer = (cache?.answer(serial: catalog.dnsSerial, name: question.name, type: question.type, lookup)
            ?? lookup()).rotated(by: Int(query.header.id))
        switch zoneAnswer {
        case .nonexistent:
            response.header.rcodeLow = UInt8(DNSResponseCode.nameError.rawValue)
            response.authorities = [soa]
        case .records(let answers, let additionals):
            response.answers = answers
            if answers.isEmpty { response.authorities = [soa] }
            response.additionals = additionals + response.additionals
        }
        return response
    }

    /// A response skeleton: the query's ID, opcode and RD bit, the question echoed as sent, authoritative
    /// when it answers for the zone (NOERROR, NXDOMAIN), the response code split between the header and (when present) our OPT record.
    func reply(to header: DNSHeader, question: DNSQuestion?, code: DNSResponseCode, edns: EDNS?) -> DNSMessage {
        var responseHeader = DNSHeader(
            id: header.id, isResponse: true, opcode: header.opcode, isAuthoritative: code == .noError || code == .nameError,
            recursionDesired: header.recursionDesired, rcodeLow: UInt8(code.rawValue & 0x0F))
        var edns = edns
        if code.rawValue > 15 {
            guard edns != nil else {
                responseHeader.rcodeLow = UInt8(DNSResponseCode.formatError.rawValue)
                return DNSMessage(header: responseHeader, questions: question.map { [$0] } ?? [])
            }
            edns?.extendedRcodeHigh = UInt8(code.rawValue >> 4)
        }
        return DNSMessage(header: responseHeader, questions: question.map { [$0] } ?? [],
                          additionals: edns.map { [$0.record] } ?? [])
    }

    /// The zone's SOA, sent in authority with negative answers; its minimum (and TTL) is the time a
    /// resolver may cache "no such name" or "no such record".
    func soaRecord(catalog: some ServiceCatalog) -> DNSRecord {
        let zone = options.zone
        let soa = SOAData(
            primary: zone.prepending(Array("ns".utf8)) ?? zone, mailbox: zone.prepending(Array("hostmaster".utf8)) ?? zone,
            serial: catalog.dnsSerial, refresh: 3600, retry: 600, expire: 86_400, minimum: options.ttl)
        return DNSRecord(name: zone, type: .soa, ttl: options.ttl, data: .soa(soa))
    }
}
