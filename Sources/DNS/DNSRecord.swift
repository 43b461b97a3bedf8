/// A record type (RFC 1035 §3.2.2 and later RFCs); an open set, so a struct over the 16-bit code.
public struct DNSRecordType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = DNSRecordType(rawValue: 1)
    public static let ns = DNSRecordType(rawValue: 2)
    public static let cname = DNSRecordType(rawValue: 5)
    public static let soa = DNSRecordType(rawValue: 6)
    public static let ptr = DNSRecordType(rawValue: 12)
    public static let txt = DNSRecordType(rawValue: 16)
    public static let aaaa = DNSRecordType(rawValue: 28)
    public static let srv = DNSRecordType(rawValue: 33)
    /// EDNS0's pseudo-record (RFC 6891 §6.1).
    public static let opt = DNSRecordType(rawValue: 41)
    public static let ixfr = DNSRecordType(rawValue: 251)
    public static let axfr = DNSRecordType(rawValue: 252)
    /// The `ANY` query type (RFC 1035 §3.2.3, `*`).
    public static let any = DNSRecordType(rawValue: 255)

    public var description: String {
        switch self {
        case .a: "A"
        case .ns: "NS"
        case .cname: "CNAME"
        case .soa: "SOA"
        case .ptr: "PTR"
        case .txt: "TXT"
        case .aaaa: "AAAA"
        case .srv: "SRV"
        case .opt: "OPT"
        case .ixfr: "IXFR"
        case .axfr: "AXFR"
        case .any: "ANY"
        default: "TYPE\(rawValue)"
        }
    }
}

/// The class of a question or record; only IN (1) is served.
public struct DNSClass: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let internet = DNSClass(rawValue: 1)
    public static let any = DNSClass(rawValue: 255)
}

/// An SOA record's fields (RFC 1035 §3.3.13); Roster sends one in the authority section of negative
/// answers, whose `minimum` is the TTL resolvers cache the negative answer for (RFC 2308 §4).
public struct SOAData: Hashable, Sendable {
    public var primary: DNSName
    public var mailbox: DNSName
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    public var minimum: UInt32

    public init(primary: DNSName, mailbox: DNSName, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32,
                minimum: UInt32) {
        self.primary = primary
        self.mailbox = mailbox
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
    }
}

/// An SRV record's fields (RFC 2782).
public struct SRVData: Hashable, Sendable {
    public var priority: UInt16
    public var weight: UInt16
    public var port: UInt16
    public var target: DNSName

    public init(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName) {
        self.priority = priority
        self.weight = weight
        self.port = port
        self.target = target
    }
}

/// One EDNS0 option (RFC 6891 §6.1.2), kept as bytes: none changes what Roster answers.
public struct EDNSOption: Hashable, Sendable {
    public var code: UInt16
    public var data: [UInt8]

    public init(code: UInt16, data: [UInt8]) {
        self.code = code
        self.data = data
    }
}

/// The data of a record, typed for the types Roster reads or writes, raw for the rest.
public enum DNSRecordData: Hashable, Sendable {
    case a([UInt8])
    case aaaa([UInt8])
    case srv(SRVData)
    /// Character strings, each at most 255 bytes.
    case txt([[UInt8]])
    case soa(SOAData)
    /// A name: CNAME, NS, PTR.
    case name(DNSName)
    case opt([EDNSOption])
    case other([UInt8])
}

/// A resource record. For OPT the class field carries the UDP payload size and the TTL field the extended
/// RCODE, version and flags (RFC 6891 §6.1.3); `DNSMessage.edns` reads them back as such.
public struct DNSRecord: Hashable, Sendable {
    public var name: DNSName
    public var type: DNSRecordType
    public var rawClass: UInt16
    public var ttl: UInt32
    public var data: DNSRecordData

    public init(name: DNSName, type: DNSRecordType, rawClass: UInt16 = DNSClass.internet.rawValue, ttl: UInt32,
                data: DNSRecordData) {
        self.name = name
        self.type = type
        self.rawClass = rawClass
        self.ttl = ttl
        self.data = data
    }
}

/// One question (RFC 1035 §4.1.2).
public struct DNSQuestion: Hashable, Sendable {
    public var name: DNSName
    public var type: DNSRecordType
    public var rawClass: UInt16

    public init(name: DNSName, type: DNSRecordType, rawClass: UInt16 = DNSClass.internet.rawValue) {
        self.name = name
        self.type = type
        self.rawClass = rawClass
    }
}
