// Goal: the answerer gives each kind of name and type the records and response code the issue asks for:
// addresses of up instances, SRV with weight and port, TXT metadata, tag and scheme filters, draining left
// out, NXDOMAIN vs NODATA (with the SOA), REFUSED, NOTIMP, FORMERR, BADVERS, SERVFAIL when stale, and
// answers cut to the UDP size with TC but whole over TCP.
// Method: a catalog of instances given directly; queries built or taken from dig's bytes; responses decoded.
import Testing
@testable import DNS
import Registry

@Suite("DNS answerer")
struct DNSAnswererTests {
    static let catalog = FakeCatalog(instances: [
        instance("i1", endpoints: ["grpc://10.0.0.1:9000", "http://10.0.0.1:8080"], metadata: ["zone": "eu-1", "tags": "canary, Blue"], weight: 10),
        instance("i2", endpoints: ["grpc://[2001:db8::2]:9000"], metadata: ["zone": "eu-2"]),
        instance("i3", endpoints: ["grpc://web-3.internal:9000"]),
        instance("i4", endpoints: ["grpc://10.0.0.4:9000"], metadata: ["tags": "blue"], status: .draining),
        instance("d1", service: "db", endpoints: ["tcp://10.0.1.1:5432"], status: .draining),
    ])

    let answerer = DNSAnswerer(options: DNSAnswererOptions(ttl: 7))

    func ask(_ message: DNSMessage, over transport: DNSTransport = .udp, catalog: some ServiceCatalog = Self.catalog,
             freshness: DNSFreshness = .current) throws -> DNSMessage {
        let packet = try #require(answerer.respond(to: message.encoded(), over: transport, catalog: catalog, freshness: freshness))
        let response = try DNSMessage(decoding: packet)
        #expect(response.header.id == message.header.id && response.header.isResponse)
        return response
    }

    /// Answers to dig's own query bytes (`dig +noedns <name> A`), compared byte for byte with vectors that
    /// dig 9.18 printed, served from a socket, as `web.default.roster. 5 IN A 10.0.0.1` and as NXDOMAIN with
    /// `roster. 5 IN SOA ns.roster. hostmaster.roster. 42 3600 600 86400 5` in authority.
    @Test("golden answers to dig's query bytes: an A record, and NXDOMAIN with the SOA")
    func goldenAnswers() throws {
        let catalog = FakeCatalog(instances: [instance("i1", endpoints: ["grpc://10.0.0.1:9000"])])
        let answerer = DNSAnswerer(options: DNSAnswererOptions(ttl: 5))
        let positive = answerer.respond(to: DNSCodecTests.digPlainQuery, over: .udp, catalog: catalog, freshness: .current)
        #expect(positive == bytes(hex: "79e585000001000100000000037765620764656661756c7406726f737465720000010001"
            + "c00c000100010000000500040a000001"))
        let nope = bytes(hex: "79e501200001000000000000046e6f70650764656661756c7406726f737465720000010001")
        let negative = answerer.respond(to: nope, over: .udp, catalog: catalog, freshness: .current)
        #expect(negative == bytes(hex: "79e585030001000000010000046e6f70650764656661756c7406726f737465720000010001"
            + "c01900060001000000050026026e73c0190a686f73746d6173746572c0190000002a00000e10000002580001518000000005"))
    }

    @Test("A and AAAA list the address literals of up instances; names and draining instances are left out")
    func addresses() throws {
        let a = try ask(query("web.default.roster.", .a))
        #expect(a.responseCode == .noError && a.header.isAuthoritative && !a.header.isTruncated)
        #expect(Set(a.answers.map(\.data)) == [.a([10, 0, 0, 1])])
        #expect(a.answers.allSatisfy { $0.ttl == 7 && $0.name == name("web.default.roster.") })
        let aaaa = try ask(query("web.default.roster.", .aaaa))
        #expect(aaaa.answers.map(\.data) == [.aaaa([0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [2])])
    }

    @Test("SRV has one record per endpoint with a port: priority by preference, the instance's weight, address targets")
    func srv() throws {
        let response = try ask(query("web.default.roster.", .srv))
        let records = response.answers.compactMap { record -> SRVData? in
            if case .srv(let srv) = record.data { srv } else { nil }
        }
        #expect(records.map(\.target.description).sorted() == [
            "0a000001.addr.roster.", "0a000001.addr.roster.", "20010db8000000000000000000000002.addr.roster.",
            "web-3.internal.",
        ])
        #expect(records.contains(SRVData(priority: 0, weight: 10, port: 9000, target: name("0a000001.addr.roster."))))
        #expect(records.contains(SRVData(priority: 1, weight: 10, port: 8080, target: name("0a000001.addr.roster."))))
        #expect(records.contains(SRVData(priority: 0, weight: 100, port: 9000, target: name("web-3.internal."))))
        // Address targets come with their addresses in additional, once each.
        #expect(response.additionals.filter { $0.type == .a }.map(\.name) == [name("0a000001.addr.roster.")])
        #expect(response.additionals.filter { $0.type == .aaaa }.count == 1)
        let target = try ask(query("0A000001.addr.roster.", .a))
        #expect(target.answers.map(\.data) == [.a([10, 0, 0, 1])])
    }

    @Test("an _scheme._tcp prefix keeps only that scheme's endpoints")
    func schemeFilter() throws {
        let response = try ask(query("_http._tcp.web.default.roster.", .srv))
        #expect(response.answers.map(\.data) == [.srv(SRVData(priority: 0, weight: 10, port: 8080, target: name("0a000001.addr.roster.")))])
        #expect(try ask(query("_smtp._tcp.web.default.roster.", .srv)).responseCode == .nameError)
    }

    @Test("TXT carries instance, weight and metadata pairs, one record per up instance")
    func txt() throws {
        let response = try ask(query("web.default.roster.", .txt))
        let texts = response.answers.compactMap { record -> [String]? in
            if case .txt(let strings) = record.data { strings.map { String(decoding: $0, as: UTF8.self) } } else { nil }
        }
        #expect(texts.contains(["instance=i1", "weight=10", "tags=canary, Blue", "zone=eu-1"]))
        #expect(texts.count == 3)
    }

    @Test("a leading tag label selects instances whose tags metadata holds it, ignoring case")
    func tags() throws {
        let blue = try ask(query("BLUE.web.default.roster.", .a))
        #expect(blue.answers.map(\.data) == [.a([10, 0, 0, 1])])
        #expect(blue.questions[0].name.labels[0] == Array("BLUE".utf8), "the question is echoed as sent")
        #expect(try ask(query("green.web.default.roster.", .a)).responseCode == .nameError)
    }

    @Test("NXDOMAIN when no instance matches, NODATA with the SOA when the name exists but not the type")
    func negativeAnswers() throws {
        let missing = try ask(query("nothing.default.roster.", .a))
        #expect(missing.responseCode == .nameError && missing.answers.isEmpty)
        #expect(missing.authorities.map(\.type) == [.soa])
        guard case .soa(let soa) = missing.authorities[0].data else { Issue.record("no SOA"); return }
        #expect(soa.serial == 42 && soa.minimum == 7)
        // db's only instance drains: the name exists, with no addresses.
        let draining = try ask(query("db.default.roster.", .a))
        #expect(draining.responseCode == .noError && draining.answers.isEmpty && draining.authorities.map(\.type) == [.soa])
        // i3 has only a host name: web has no record of type MX (15) or, for a name-only service, A.
        let otherType = try ask(query("web.default.roster.", DNSRecordType(rawValue: 15)))
        #expect(otherType.responseCode == .noError && otherType.answers.isEmpty)
        #expect(try ask(query("default.roster.", .a)).responseCode == .noError)
        #expect(try ask(query("prod.roster.", .a)).responseCode == .nameError)
        #expect(try ask(query("a.b.c.web.default.roster.", .a)).responseCode == .nameError)
        let apex = try ask(query("roster.", .soa))
        #expect(apex.answers.map(\.type) == [.soa])
    }

    @Test("names outside the zone are REFUSED, other opcodes NOTIMP, zone transfers REFUSED")
    func refusals() throws {
        #expect(try ask(query("example.com.", .a)).responseCode == .refused)
        #expect(try ask(query("web.default.roster.", .axfr)).responseCode == .refused)
        var notify = query("web.default.roster.", .soa)
        notify.header.opcode = .notify
        #expect(try ask(notify).responseCode == .notImplemented)
        var chaos = query("web.default.roster.", .txt)
        chaos.questions[0].rawClass = 3
        #expect(try ask(chaos).responseCode == .refused)
    }

    @Test("malformed queries get FORMERR with their ID; packets without a header or that are responses get nothing")
    func malformed() throws {
        var twoQuestions = query("web.default.roster.", .a)
        twoQuestions.questions.append(twoQuestions.questions[0])
        #expect(try ask(twoQuestions).responseCode == .formatError)
        // The encoder writes one OPT record at most, so the second is spliced in by hand.
        var twoOPT = query("web.default.roster.", .a, bufferSize: 1232).encoded()
        twoOPT += twoOPT.suffix(11)
        twoOPT[11] = 2
        let twoOPTAnswer = try #require(answerer.respond(to: twoOPT, over: .udp, catalog: Self.catalog, freshness: .current))
        #expect(try DNSMessage(decoding: twoOPTAnswer).responseCode == .formatError)
        let garbage: [UInt8] = [0xAB, 0xCD, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x0C, 0, 1, 0, 1]
        let packet = try #require(answerer.respond(to: garbage, over: .udp, catalog: Self.catalog, freshness: .current))
        let formerr = try DNSMessage(decoding: packet)
        #expect(formerr.header.id == 0xABCD && formerr.responseCode == .formatError && formerr.questions.isEmpty)
        #expect(answerer.respond(to: [1, 2, 3], over: .udp, catalog: Self.catalog, freshness: .current) == nil)
        var response = query("web.default.roster.", .a)
        response.header.isResponse = true
        #expect(answerer.respond(to: response.encoded(), over: .udp, catalog: Self.catalog, freshness: .current) == nil)
    }

    @Test("EDNS0: the answer carries our OPT record; a version above 0 gets BADVERS")
    func edns() throws {
        let response = try ask(query("web.default.roster.", .a, bufferSize: 4096))
        #expect(response.edns?.udpPayloadSize == 1232)
        var future = query("web.default.roster.", .a, bufferSize: 1232)
        future.additionals[0] = EDNS(udpPayloadSize: 1232, version: 1).record
        let refused = try ask(future)
        #expect(refused.responseCode == .badVersion && refused.header.rcodeLow == 0)
    }

    @Test("a stale node answers SERVFAIL inside the zone and still REFUSED outside it")
    func stale() throws {
        let stale = DNSFreshness.stale("no leader for 6 s")
        #expect(try ask(query("web.default.roster.", .a), freshness: stale).responseCode == .serverFailure)
        #expect(try ask(query("example.com.", .a), freshness: stale).responseCode == .refused)
    }

    @Test("many instances: UDP gets a cut answer with TC (512, or the EDNS size capped), TCP the whole answer")
    func truncation() throws {
        let many = FakeCatalog(instances: (0..<200).map {
            instance("i\($0)", endpoints: ["grpc://10.1.\($0 / 256).\($0 % 256):9000"])
        })
        let plain = try ask(query("web.default.roster.", .a), catalog: many)
        #expect(plain.header.isTruncated && plain.answers.count < 200)
        #expect(plain.encoded().count <= 512)
        let edns = try ask(query("web.default.roster.", .a, bufferSize: 65_000), catalog: many)
        #expect(edns.header.isTruncated && edns.answers.count > plain.answers.count)
        #expect(edns.encoded().count <= 1232)
        let tcp = try ask(query("web.default.roster.", .a), over: .tcp, catalog: many)
        #expect(!tcp.header.isTruncated && tcp.answers.count == 200)
        let srv = try ask(query("web.default.roster.", .srv), over: .tcp, catalog: many)
        #expect(srv.answers.count == 200 && srv.additionals.count == 200)
    }

    @Test("the address list rotates with the query ID, so resolvers spread load over instances")
    func rotation() throws {
        let first = try ask(query("web.default.roster.", .a, id: 1), catalog: Self.twoAddresses)
        let second = try ask(query("web.default.roster.", .a, id: 2), catalog: Self.twoAddresses)
        #expect(first.answers.first != second.answers.first)
        #expect(Set(first.answers.map(\.data)) == Set(second.answers.map(\.data)))
    }

    @Test("the answer cache gives the same bytes as a fresh lookup, is emptied when the serial moves, and is bounded")
    func cache() throws {
        let cache = DNSAnswerCache(entriesLimit: 3)
        var catalog = Self.catalog
        for type in [DNSRecordType.a, .srv, .txt, .any] {
            for id: UInt16 in [1, 2, 1] {
                let packet = query("Web.default.roster.", type, id: id, bufferSize: 1232).encoded()
                let cached = answerer.respond(to: packet, over: .udp, catalog: catalog, freshness: .current, cache: cache)
                let fresh = answerer.respond(to: packet, over: .udp, catalog: catalog, freshness: .current)
                #expect(cached == fresh)
            }
        }
        #expect(cache.hits == 8 && cache.misses == 4 && cache.count <= 3)
        // A registration moves the serial: the next answer holds it.
        catalog.instances.append(instance("i9", endpoints: ["grpc://10.0.0.9:1"]))
        catalog.dnsSerial += 1
        let packet = query("web.default.roster.", .a).encoded()
        let after = try DNSMessage(decoding: try #require(
            answerer.respond(to: packet, over: .udp, catalog: catalog, freshness: .current, cache: cache)))
        #expect(after.answers.map(\.data).contains(.a([10, 0, 0, 9])))
    }

    static let twoAddresses = FakeCatalog(instances: [
        instance("a", endpoints: ["grpc://10.0.0.1:1"]), instance("b", endpoints: ["grpc://10.0.0.2:1"]),
    ])

    @Test("over a real RegistryState, names match in any case")
    func registryCatalog() throws {
        var state = RegistryState(limits: .standard)
        state.testRegister(instance("i1", service: "Payments", namespace: "prod", endpoints: ["grpc://10.9.0.1:1"]))
        let response = try ask(query("payments.PROD.roster.", .a), catalog: state)
        #expect(response.answers.map(\.data) == [.a([10, 9, 0, 1])])
        #expect(state.dnsHasNamespace("PROD") && !state.dnsHasNamespace("dev"))
    }
}
