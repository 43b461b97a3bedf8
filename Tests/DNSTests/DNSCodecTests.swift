// Goal: the codec reads what real resolvers send and writes what RFC 1035 describes, compression included,
// and refuses every malformed name (long labels, long names, pointer loops and forward pointers) with a
// typed error naming the offset.
// Method: golden bytes captured from dig 9.18 and built from RFC 1035 §4.1.4's compression example, round
// trips, and hand-made broken messages.
import Testing
@testable import DNS

@Suite("DNS message codec")
struct DNSCodecTests {
    /// `dig @127.0.0.1 +noedns web.default.roster A`, as captured on a UDP socket (dig 9.18 sets RD and AD).
    static let digPlainQuery = bytes(hex: "79e501200001000000000000037765620764656661756c7406726f737465720000010001")
    /// `dig +bufsize=1232 +nocookie _grpc._tcp.web.default.roster SRV`: one question and an OPT record.
    static let digEDNSQuery = bytes(
        hex: "fe2801200001000000000001055f67727063045f746370037765620764656661756c7406726f73746572000021000100002904d0000000000000")

    @Test("dig's plain query decodes to one A question with RD and AD set")
    func digPlainQuery() throws {
        let message = try DNSMessage(decoding: Self.digPlainQuery)
        #expect(message.header.id == 0x79E5)
        #expect(message.header.recursionDesired && message.header.authenticData && !message.header.isResponse)
        #expect(message.questions == [DNSQuestion(name: name("web.default.roster."), type: .a)])
        #expect(message.edns == nil)
        #expect(message.encoded() == Self.digPlainQuery)
    }

    @Test("dig's EDNS0 query carries its 1232-byte buffer in the OPT record and encodes back the same")
    func digEDNSQuery() throws {
        let message = try DNSMessage(decoding: Self.digEDNSQuery)
        #expect(message.questions.first?.type == .srv)
        #expect(message.questions.first?.name.description == "_grpc._tcp.web.default.roster.")
        #expect(message.edns == EDNS(udpPayloadSize: 1232))
        #expect(message.optCount == 1)
        #expect(message.encoded() == Self.digEDNSQuery)
    }

    /// RFC 1035 §4.1.4: F.ISI.ARPA written whole, FOO.F.ISI.ARPA as FOO plus a pointer to it, ARPA as a
    /// pointer into it. Our question starts at offset 12, so the pointers are 0xC00C and 0xC012.
    @Test("names are compressed as in RFC 1035 §4.1.4")
    func rfcCompressionExample() throws {
        let message = DNSMessage(
            header: DNSHeader(id: 1, isResponse: true),
            questions: [DNSQuestion(name: name("F.ISI.ARPA"), type: .a)],
            answers: [
                DNSRecord(name: name("FOO.F.ISI.ARPA"), type: .a, ttl: 60, data: .a([1, 2, 3, 4])),
                DNSRecord(name: name("arpa"), type: .a, ttl: 60, data: .a([5, 6, 7, 8])),
            ])
        let expected = bytes(hex: "0001800000010002000000000146034953490441525041000001000103464f4fc00c00010001"
            + "0000003c0004010203" + "04" + "c012000100010000003c000405060708")
        let encoded = message.encoded()
        #expect(encoded == expected)
        let decoded = try DNSMessage(decoding: encoded)
        #expect(decoded == message)
        #expect(decoded.answers[1].name.labels == [Array("ARPA".utf8)], "decoding keeps the case that was written")
    }

    @Test("every record type Roster writes round-trips")
    func roundTrip() throws {
        let owner = name("web.default.roster.")
        let message = DNSMessage(
            header: DNSHeader(id: 7, isResponse: true, isAuthoritative: true, rcodeLow: 3),
            questions: [DNSQuestion(name: owner, type: .any)],
            answers: [
                DNSRecord(name: owner, type: .a, ttl: 5, data: .a([10, 0, 0, 1])),
                DNSRecord(name: owner, type: .aaaa, ttl: 5, data: .aaaa(Array(repeating: 0, count: 15) + [1])),
                DNSRecord(name: owner, type: .srv, ttl: 5, data: .srv(SRVData(
                    priority: 1, weight: 100, port: 9000, target: name("0a000001.addr.roster.")))),
                DNSRecord(name: owner, type: .txt, ttl: 5, data: .txt([Array("instance=i1".utf8), []])),
            ],
            authorities: [DNSRecord(name: name("roster."), type: .soa, ttl: 5, data: .soa(SOAData(
                primary: name("ns.roster."), mailbox: name("hostmaster.roster."), serial: 9, refresh: 1, retry: 2,
                expire: 3, minimum: 5)))],
            additionals: [EDNS(udpPayloadSize: 1232, extendedRcodeHigh: 1, options: [EDNSOption(code: 10, data: [1, 2])]).record])
        let decoded = try DNSMessage(decoding: message.encoded())
        #expect(decoded == message)
        #expect(decoded.responseCode == DNSResponseCode(rawValue: 0x13))
    }

    @Test("a message cut to a limit keeps whole records, sets TC and still carries its OPT record")
    func truncation() throws {
        let owner = name("web.default.roster.")
        let records = (0..<100).map { DNSRecord(name: owner, type: .a, ttl: 5, data: .a([10, 0, 0, UInt8($0)])) }
        let message = DNSMessage(
            header: DNSHeader(id: 9, isResponse: true), questions: [DNSQuestion(name: owner, type: .a)],
            answers: records, additionals: [EDNS(udpPayloadSize: 1232).record])
        let cut = message.encoded(limit: 512)
        #expect(cut.count <= 512)
        let decoded = try DNSMessage(decoding: cut)
        #expect(decoded.header.isTruncated)
        #expect(!decoded.answers.isEmpty && decoded.answers.count < 100)
        #expect(decoded.answers == Array(records.prefix(decoded.answers.count)))
        #expect(decoded.edns != nil)
        let whole = try DNSMessage(decoding: message.encoded())
        #expect(!whole.header.isTruncated && whole.answers.count == 100)
    }

    static func header(questions: UInt16 = 1, answers: UInt16 = 0) -> [UInt8] {
        [0, 1, 0, 0, 0, UInt8(questions), 0, UInt8(answers), 0, 0, 0, 0]
    }

    @Test("malformed names are refused with the error that says why", arguments: [
        (header() + [64] + Array(repeating: 0x61, count: 64) + [0, 0, 1, 0, 1], DNSWireError.unsupportedLabelType(byte: 64, offset: 12)),
        (header() + [0xC0, 12, 0, 1, 0, 1], .pointerNotBackward(offset: 12, target: 12)),
        (header() + [0xC0, 20, 0, 1, 0, 1, 0, 0], .pointerNotBackward(offset: 12, target: 20)),
        (header() + [1, 0x61, 0xC0, 12, 0, 1, 0, 1], .pointerNotBackward(offset: 14, target: 12)),
        (header() + [0x41, 0, 0, 1, 0, 1], .unsupportedLabelType(byte: 0x41, offset: 12)),
        (header() + [5, 0x61, 0x62, 0x63, 0x64], .truncated(field: "label", offset: 12)),
    ])
    func malformedNames(packet: [UInt8], expected: DNSWireError) {
        #expect(throws: expected) { try DNSMessage(decoding: packet) }
    }

    @Test("a name over 255 bytes is refused, one of exactly 255 accepted")
    func nameLength() throws {
        // Four 62-byte labels take 4 × 63 + 1 = 253 bytes; a fifth label of one byte makes 255.
        let label: [UInt8] = [62] + Array(repeating: 0x61, count: 62)
        let fits = Self.header() + label + label + label + label + [1, 0x62, 0] + [0, 1, 0, 1]
        #expect(try DNSMessage(decoding: fits).questions[0].name.wireLength == 255)
        let over = Self.header() + label + label + label + label + [2, 0x62, 0x62, 0] + [0, 1, 0, 1]
        #expect(throws: DNSWireError.nameTooLong(offset: 12)) { try DNSMessage(decoding: over) }
        #expect(throws: DNSWireError.self) { try DNSName(String(repeating: "a.", count: 128)) }
    }

    @Test("counts, lengths and leftovers that do not add up are refused")
    func structuralErrors() {
        #expect(throws: DNSWireError.countTooLarge(section: "question", count: 200)) {
            try DNSMessage(decoding: Self.header(questions: 200))
        }
        #expect(throws: DNSWireError.trailingBytes(count: 2)) {
            try DNSMessage(decoding: Self.header(questions: 0) + [1, 2])
        }
        let badA = Self.header(questions: 0, answers: 1) + [0, 0, 1, 0, 1, 0, 0, 0, 5, 0, 3, 1, 2, 3]
        #expect(throws: DNSWireError.badRecordData(type: 1, offset: 23, reason: "3 bytes, expected 4")) {
            try DNSMessage(decoding: badA)
        }
        #expect(throws: DNSWireError.truncated(field: "header", offset: 10)) { try DNSMessage(decoding: [0, 1, 0, 0, 0, 0, 0, 0, 0, 0]) }
        #expect(DNSMessage.header(of: [1, 2, 3]) == nil)
    }

    @Test("endpoint URLs give scheme, address or name, and port")
    func endpoints() {
        #expect(EndpointAddress("grpc://10.0.0.5:9000/x") == EndpointAddress.make("grpc", .ipv4([10, 0, 0, 5]), 9000))
        #expect(EndpointAddress("HTTP://user@[2001:db8::1]:80") == EndpointAddress.make(
            "http", .ipv6([0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1]), 80))
        #expect(EndpointAddress("tcp://db.internal:5432") == EndpointAddress.make("tcp", .name("db.internal"), 5432))
        #expect(EndpointAddress("tcp://10.0.0.5")?.port == nil)
        #expect(EndpointAddress("unix:///run/app.sock") == nil)
        #expect(EndpointAddress("10.0.0.5:80") == nil)
        #expect(IPAddressText.ipv6("::ffff:10.0.0.1") == Array(repeating: 0, count: 10) + [0xFF, 0xFF, 10, 0, 0, 1])
        #expect(IPAddressText.ipv6("::") == Array(repeating: 0, count: 16))
        #expect(IPAddressText.ipv6("1::2::3") == nil)
        #expect(IPAddressText.ipv6("1:2:3:4:5:6:7:8:9") == nil)
        #expect(IPAddressText.ipv4("10.0.0.256") == nil)
        #expect(IPAddressText.ipv4("010.0.0.1") == nil)
    }
}

extension EndpointAddress {
    static func make(_ scheme: String, _ host: Host, _ port: UInt16?) -> EndpointAddress? {
        var address = EndpointAddress("x://1.1.1.1:1")!
        address.scheme = scheme
        address.host = host
        address.port = port
        return address
    }
}
