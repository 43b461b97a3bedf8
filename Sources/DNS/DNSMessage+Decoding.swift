extension DNSMessage {
    /// Most compression pointers followed within one name. A backward-only pointer chain already ends, but
    /// a long chain of short hops costs a quadratic walk; 64 hops is more than any real message uses.
    static let pointerHopsLimit = 64

    /// Decodes a message, refusing anything RFC 1035 does not allow: labels over 63 bytes, names over 255,
    /// compression pointers that do not point strictly backward (which is what rules out loops), records
    /// whose data does not fit their type, counts the bytes cannot hold, and trailing bytes.
    /// - Throws: `DNSWireError`, naming the offset where the message stopped making sense.
    public init(decoding bytes: [UInt8]) throws(DNSWireError) {
        guard bytes.count <= 65_535 else { throw .messageTooLong(bytes: bytes.count) }
        var reader = DNSReader(bytes: bytes)
        let id = try reader.readUInt16("header")
        let flags = try reader.readUInt16("header")
        let counts = [
            try reader.readUInt16("header"), try reader.readUInt16("header"),
            try reader.readUInt16("header"), try reader.readUInt16("header"),
        ]
        // A question takes at least 5 bytes and a record at least 11: refuse counts that cannot fit before
        // reserving anything for them.
        let left = bytes.count - reader.offset
        if Int(counts[0]) * 5 > left { throw .countTooLarge(section: "question", count: Int(counts[0])) }
        let recordCount = Int(counts[1]) + Int(counts[2]) + Int(counts[3])
        if recordCount * 11 > left { throw .countTooLarge(section: "record", count: recordCount) }
        var questions: [DNSQuestion] = []
        questions.reserveCapacity(Int(counts[0]))
        for _ in 0..<counts[0] {
            let name = try reader.readName()
            let type = DNSRecordType(rawValue: try reader.readUInt16("question type"))
            let rawClass = try reader.readUInt16("question class")
            questions.append(DNSQuestion(name: name, type: type, rawClass: rawClass))
        }
        var sections: [[DNSRecord]] = []
        for count in counts[1...] {
            var records: [DNSRecord] = []
            records.reserveCapacity(Int(count))
            for _ in 0..<count { records.append(try reader.readRecord()) }
            sections.append(records)
        }
        guard reader.offset == bytes.count else { throw .trailingBytes(count: bytes.count - reader.offset) }
        self.init(header: DNSHeader(id: id, flags: flags), questions: questions, answers: sections[0],
                  authorities: sections[1], additionals: sections[2])
    }

    /// The header of a message too broken to decode whole, so that a FORMERR answer can carry its ID;
    /// nil when even the 12 header bytes are missing (such a packet is dropped).
    public static func header(of bytes: [UInt8]) -> DNSHeader? {
        guard bytes.count >= 12 else { return nil }
        return DNSHeader(id: UInt16(bytes[0]) << 8 | UInt16(bytes[1]), flags: UInt16(bytes[2]) << 8 | UInt16(bytes[3]))
    }
}

/// A cursor over a message's bytes; every read checks the bounds first.
struct DNSReader {
    let bytes: [UInt8]
    var offset = 0

    mutating func readUInt8(_ field: String) throws(DNSWireError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(field: field, offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt16(_ field: String) throws(DNSWireError) -> UInt16 {
        guard offset + 2 <= bytes.count else { throw .truncated(field: field, offset: offset) }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func readUInt32(_ field: String) throws(DNSWireError) -> UInt32 {
        let high = try readUInt16(field)
        return UInt32(high) << 16 | UInt32(try readUInt16(field))
    }

    mutating func readBytes(_ count: Int, _ field: String) throws(DNSWireError) -> [UInt8] {
        guard count >= 0, offset + count <= bytes.count else { throw .truncated(field: field, offset: offset) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// Reads a possibly compressed name. Each pointer must point before the start of the label run that
    /// contains it, so the walk only ever moves backward and must end; the hop limit bounds its cost.
    mutating func readName() throws(DNSWireError) -> DNSName {
        var labels: [[UInt8]] = []
        var wireLength = 1
        var position = offset
        var runStart = offset
        var resumeAt: Int? = nil
        var hops = 0
        while true {
            guard position < bytes.count else { throw .truncated(field: "name", offset: position) }
            let length = bytes[position]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    offset = resumeAt ?? position + 1
                    return DNSName(checkedLabels: labels)
                }
                guard position + 1 + Int(length) <= bytes.count else { throw .truncated(field: "label", offset: position) }
                wireLength += 1 + Int(length)
                guard wireLength <= DNSName.wireBytesLimit else { throw .nameTooLong(offset: offset) }
                labels.append(Array(bytes[position + 1..<position + 1 + Int(length)]))
                position += 1 + Int(length)
            case 0xC0:
                guard position + 2 <= bytes.count else { throw .truncated(field: "pointer", offset: position) }
                let target = Int(length & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < runStart, hops < DNSMessage.pointerHopsLimit else {
                    throw .pointerNotBackward(offset: position, target: target)
                }
                hops += 1
                if resumeAt == nil { resumeAt = position + 2 }
                position = target
                runStart = target
            default:
                throw .unsupportedLabelType(byte: length, offset: position)
            }
        }
    }

    mutating func readRecord() throws(DNSWireError) -> DNSRecord {
        let name = try readName()
        let type = DNSRecordType(rawValue: try readUInt16("record type"))
        let rawClass = try readUInt16("record class")
        let ttl = try readUInt32("record TTL")
        let length = Int(try readUInt16("record data length"))
        let start = offset
        guard start + length <= bytes.count else { throw .truncated(field: "record data", offset: start) }
        let data = try readData(type: type, length: length)
        guard offset == start + length else {
            throw .badRecordData(type: type.rawValue, offset: start, reason: "\(offset - start) bytes used of \(length)")
        }
        return DNSRecord(name: name, type: type, rawClass: rawClass, ttl: ttl, data: data)
    }

    private mutating func readData(type: DNSRecordType, length: Int) throws(DNSWireError) -> DNSRecordData {
        let start = offset
        let end = start + length
        switch type {
        case .a, .aaaa:
            let expected = type == .a ? 4 : 16
            guard length == expected else {
                throw .badRecordData(type: type.rawValue, offset: start, reason: "\(length) bytes, expected \(expected)")
            }
            let address = try readBytes(length, "address")
            return type == .a ? .a(address) : .aaaa(address)
        case .srv:
            let priority = try readUInt16("SRV priority")
            let weight = try readUInt16("SRV weight")
            let port = try readUInt16("SRV port")
            let target = try readBoundedName(end: end, type: type)
            return .srv(SRVData(priority: priority, weight: weight, port: port, target: target))
        case .txt:
            var strings: [[UInt8]] = []
            while offset < end {
                let count = Int(try readUInt8("TXT string length"))
                guard offset + count <= end else {
                    throw .badRecordData(type: type.rawValue, offset: offset, reason: "string runs past the record")
                }
                strings.append(try readBytes(count, "TXT string"))
            }
            return .txt(strings)
        case .soa:
            let primary = try readBoundedName(end: end, type: type)
            let mailbox = try readBoundedName(end: end, type: type)
            guard end - offset == 20 else {
                throw .badRecordData(type: type.rawValue, offset: offset, reason: "expected 20 bytes of counters")
            }
            return .soa(SOAData(
                primary: primary, mailbox: mailbox, serial: try readUInt32("SOA serial"),
                refresh: try readUInt32("SOA refresh"), retry: try readUInt32("SOA retry"),
                expire: try readUInt32("SOA expire"), minimum: try readUInt32("SOA minimum")))
        case .cname, .ns, .ptr:
            return .name(try readBoundedName(end: end, type: type))
        case .opt:
            var options: [EDNSOption] = []
            while offset < end {
                let code = try readUInt16("EDNS option code")
                let count = Int(try readUInt16("EDNS option length"))
                guard offset + count <= end else {
                    throw .badRecordData(type: type.rawValue, offset: offset, reason: "option runs past the record")
                }
                options.append(EDNSOption(code: code, data: try readBytes(count, "EDNS option")))
            }
            return .opt(options)
        default:
            return .other(try readBytes(length, "record data"))
        }
    }

    /// A name inside RDATA, which must end within the record.
    private mutating func readBoundedName(end: Int, type: DNSRecordType) throws(DNSWireError) -> DNSName {
        let start = offset
        let name = try readName()
        guard offset <= end else { throw .badRecordData(type: type.rawValue, offset: start, reason: "name runs past the record") }
        return name
    }
}
