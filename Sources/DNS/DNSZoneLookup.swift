import Registry

/// What the zone holds for one name and type: nothing at all (NXDOMAIN), or records (none means NODATA).
enum ZoneAnswer: Equatable {
    case nonexistent
    case records(answers: [DNSRecord], additionals: [DNSRecord])

    static let noData = ZoneAnswer.records(answers: [], additionals: [])

    /// The answer with its A records, and its AAAA records, each rotated to start at `rotation` modulo
    /// their count: successive queries see the addresses in turn first (round robin, as dnsmasq and BIND
    /// do), while one query ID always gets the same answer.
    func rotated(by rotation: Int) -> ZoneAnswer {
        guard case .records(var answers, let additionals) = self, answers.count > 1 else { return self }
        // The common case, an A or AAAA question: one run of one type, rotated with a single copy.
        if let type = answers.first?.type, type == .a || type == .aaaa, answers.allSatisfy({ $0.type == type }) {
            let start = rotation % answers.count
            return .records(answers: Array(answers[start...] + answers[..<start]), additionals: additionals)
        }
        for type in [DNSRecordType.a, .aaaa] {
            let positions = answers.indices.filter { answers[$0].type == type }
            guard positions.count > 1 else { continue }
            let records = positions.map { answers[$0] }
            let start = rotation % records.count
            for (position, record) in zip(positions, records[start...] + records[..<start]) { answers[position] = record }
        }
        return .records(answers: answers, additionals: additionals)
    }
}

/// Maps a name under the zone to registry instances and those to records; see `DNSAnswerer` for the names.
struct DNSZoneLookup<Catalog: ServiceCatalog> {
    let options: DNSAnswererOptions
    let catalog: Catalog
    let soa: DNSRecord

    static var addressLabel: [UInt8] { Array("addr".utf8) }

    func lookup(_ name: DNSName, type: DNSRecordType) -> ZoneAnswer {
        let labels = name.labels(below: options.zone)
        let folded = labels.map { $0.map(DNSName.lower) }
        switch folded.count {
        case 0:
            return type == .soa || type == .any ? .records(answers: [soa], additionals: []) : .noData
        case 1:
            if folded[0] == Self.addressLabel { return .noData }
            return catalog.dnsHasNamespace(text(labels[0])) ? .noData : .nonexistent
        case 2 where folded[1] == Self.addressLabel:
            guard let host = addressHost(folded[0]) else { return .nonexistent }
            let records = addressRecords([host], owner: name, type: type)
            return .records(answers: records, additionals: [])
        default:
            guard let selector = InstanceSelector(labels: labels) else { return .nonexistent }
            return serviceAnswer(selector, owner: name, type: type)
        }
    }

    // MARK: - Services

    func serviceAnswer(_ selector: InstanceSelector, owner: DNSName, type: DNSRecordType) -> ZoneAnswer {
        let matching = catalog.dnsInstances(namespace: selector.namespace, service: selector.service)
            .filter(selector.matches)
        guard !matching.isEmpty else { return .nonexistent }
        let live = matching.filter { $0.status == .up }.sorted { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }
        var answers: [DNSRecord] = []
        var additionals: [DNSRecord] = []
        if type == .a || type == .aaaa || type == .any {
            var hosts: [EndpointAddress.Host] = []
            for instance in live {
                for endpoint in selector.endpoints(of: instance) where !hosts.contains(endpoint.host) {
                    hosts.append(endpoint.host)
                }
            }
            answers += addressRecords(hosts, owner: owner, type: type)
        }
        if type == .srv || type == .any {
            let (records, targets) = srvRecords(live, selector: selector, owner: owner)
            answers += records
            additionals += targets
        }
        if type == .txt || type == .any {
            answers += live.map { DNSRecord(name: owner, type: .txt, ttl: options.ttl, data: .txt(txtStrings($0))) }
        }
        return .records(answers: answers, additionals: additionals)
    }

    /// SRV per endpoint with a port: priority is the endpoint's place among the instance's usable endpoints
    /// (the registry keeps them in the order the instance prefers), weight the instance's weight (capped at
    /// 65,535). Address literals become `<hex>.addr.<zone>` targets, whose addresses go in additional.
    func srvRecords(_ instances: [ServiceInstance], selector: InstanceSelector, owner: DNSName)
        -> (records: [DNSRecord], additionals: [DNSRecord])
    {
        var records: [DNSRecord] = []
        var additionals: [DNSRecord] = []
        var seenTargets: Set<DNSName> = []
        for instance in instances {
            var priority: UInt16 = 0
            for endpoint in selector.endpoints(of: instance) {
                guard let port = endpoint.port, let target = targetName(endpoint.host) else { continue }
                let srv = SRVData(priority: priority, weight: UInt16(clamping: instance.weight), port: port, target: target)
                records.append(DNSRecord(name: owner, type: .srv, ttl: options.ttl, data: .srv(srv)))
                priority &+= 1
                if case .name = endpoint.host { continue }
                if seenTargets.insert(target).inserted {
                    additionals += addressRecords([endpoint.host], owner: target, type: .any)
                }
            }
        }
        return (records, additionals)
    }

    /// The TXT strings of one instance: `instance=<id>`, `version=<v>` when set, `weight=<w>`, then up to
    /// `txtMetadataPairs` metadata pairs as `key=value` in key order. A pair over 255 bytes (one DNS
    /// character-string) is left out rather than cut, so no string is ever half a value.
    func txtStrings(_ instance: ServiceInstance) -> [[UInt8]] {
        var strings = [Array("instance=\(instance.id)".utf8)]
        if !instance.version.isEmpty { strings.append(Array("version=\(instance.version)".utf8)) }
        strings.append(Array("weight=\(instance.weight)".utf8))
        var pairs = 0
        for key in instance.metadata.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            guard pairs < options.txtMetadataPairs else { break }
            let pair = Array("\(key)=\(instance.metadata[key] ?? "")".utf8)
            guard pair.count <= 255 else { continue }
            strings.append(pair)
            pairs += 1
        }
        return strings.filter { $0.count <= 255 }
    }

    // MARK: - Addresses

    func addressRecords(_ hosts: [EndpointAddress.Host], owner: DNSName, type: DNSRecordType) -> [DNSRecord] {
        hosts.compactMap { host in
            switch host {
            case .ipv4(let bytes) where type == .a || type == .any:
                DNSRecord(name: owner, type: .a, ttl: options.ttl, data: .a(bytes))
            case .ipv6(let bytes) where type == .aaaa || type == .any:
                DNSRecord(name: owner, type: .aaaa, ttl: options.ttl, data: .aaaa(bytes))
            default: nil
            }
        }
    }

    /// The SRV target for a host: the host name itself (when it is a valid DNS name), or `<hex>.addr.<zone>`.
    func targetName(_ host: EndpointAddress.Host) -> DNSName? {
        switch host {
        case .ipv4(let bytes), .ipv6(let bytes):
            let hex = bytes.map { byte in
                let digits = String(byte, radix: 16)
                return digits.count == 1 ? "0" + digits : digits
            }.joined()
            return options.zone.prepending(Self.addressLabel)?.prepending(Array(hex.utf8))
        case .name(let text):
            return try? DNSName(text)
        }
    }

    /// The address a `<hex>.addr` label encodes, or nil.
    func addressHost(_ label: [UInt8]) -> EndpointAddress.Host? {
        guard label.count == 8 || label.count == 32 else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < label.count {
            guard let high = Self.hexValue(label[index]), let low = Self.hexValue(label[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes.count == 4 ? .ipv4(bytes) : .ipv6(bytes)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    func text(_ label: [UInt8]) -> String { String(decoding: label, as: UTF8.self) }
}

/// Which instances and endpoints a service name selects: `[_scheme._proto.][tag.]service.namespace`.
struct InstanceSelector {
    var namespace: String
    var service: String
    var tag: String?
    var scheme: String?

    /// Nil for label lists that are no service name (too many labels, a lone `_proto` label).
    init?(labels: [[UInt8]]) {
        var rest = labels.map { String(decoding: $0, as: UTF8.self) }
        if rest.count >= 4, rest[0].hasPrefix("_"), ["_tcp", "_udp"].contains(rest[1].lowercased()) {
            scheme = String(rest[0].dropFirst()).lowercased()
            rest.removeFirst(2)
        }
        guard rest.count == 2 || rest.count == 3 else { return nil }
        if rest.count == 3 { tag = rest.removeFirst().lowercased() }
        service = rest[0]
        namespace = rest[1]
    }

    func matches(_ instance: ServiceInstance) -> Bool {
        if let tag {
            let tags = (instance.metadata["tags"] ?? "").split(separator: ",")
                .map { $0.trimmingCharacters(in: " \t").lowercased() }
            guard tags.contains(tag) else { return false }
        }
        if scheme != nil { return !endpoints(of: instance).isEmpty }
        return true
    }

    func endpoints(of instance: ServiceInstance) -> [EndpointAddress] {
        instance.endpoints.compactMap(EndpointAddress.init).filter { scheme == nil || $0.scheme == scheme }
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        guard let start = firstIndex(where: { !characters.contains($0) }),
              let end = lastIndex(where: { !characters.contains($0) }) else { return "" }
        return String(self[start...end])
    }
}
