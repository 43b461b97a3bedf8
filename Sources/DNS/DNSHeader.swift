/// The kind of a message (RFC 1035 §4.1.1 OPCODE); only standard queries are answered.
public struct DNSOpcode: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }

    public static let query = DNSOpcode(rawValue: 0)
    public static let notify = DNSOpcode(rawValue: 4)
    public static let update = DNSOpcode(rawValue: 5)
}

/// A response code: the 4 header bits, extended to 12 with the OPT record's upper 8 (RFC 6891 §6.1.3).
public struct DNSResponseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue & 0x0FFF }

    public static let noError = DNSResponseCode(rawValue: 0)
    public static let formatError = DNSResponseCode(rawValue: 1)
    public static let serverFailure = DNSResponseCode(rawValue: 2)
    public static let nameError = DNSResponseCode(rawValue: 3)
    public static let notImplemented = DNSResponseCode(rawValue: 4)
    public static let refused = DNSResponseCode(rawValue: 5)
    /// The query's EDNS version is not supported (RFC 6891 §6.1.3); needs an OPT record to be expressed.
    public static let badVersion = DNSResponseCode(rawValue: 16)

    public var description: String {
        switch self {
        case .noError: "NOERROR"
        case .formatError: "FORMERR"
        case .serverFailure: "SERVFAIL"
        case .nameError: "NXDOMAIN"
        case .notImplemented: "NOTIMP"
        case .refused: "REFUSED"
        case .badVersion: "BADVERS"
        default: "RCODE\(rawValue)"
        }
    }
}

/// The fixed 12-byte header without its four counts, which the encoder derives from the sections.
public struct DNSHeader: Hashable, Sendable {
    public var id: UInt16
    public var isResponse: Bool
    public var opcode: DNSOpcode
    public var isAuthoritative: Bool
    public var isTruncated: Bool
    public var recursionDesired: Bool
    public var recursionAvailable: Bool
    /// The Z bit, which must be zero (RFC 1035); kept so a decoded message encodes back the same.
    public var zero: Bool
    public var authenticData: Bool
    public var checkingDisabled: Bool
    /// The low 4 bits of the response code; see `DNSMessage.responseCode` for the full one.
    public var rcodeLow: UInt8

    public init(id: UInt16 = 0, isResponse: Bool = false, opcode: DNSOpcode = .query, isAuthoritative: Bool = false,
                isTruncated: Bool = false, recursionDesired: Bool = false, recursionAvailable: Bool = false,
                zero: Bool = false, authenticData: Bool = false, checkingDisabled: Bool = false, rcodeLow: UInt8 = 0) {
        self.id = id
        self.isResponse = isResponse
        self.opcode = opcode
        self.isAuthoritative = isAuthoritative
        self.isTruncated = isTruncated
        self.recursionDesired = recursionDesired
        self.recursionAvailable = recursionAvailable
        self.zero = zero
        self.authenticData = authenticData
        self.checkingDisabled = checkingDisabled
        self.rcodeLow = rcodeLow & 0x0F
    }

    /// The 16 flag bits as on the wire.
    var flags: UInt16 {
        var bits = UInt16(opcode.rawValue) << 11 | UInt16(rcodeLow & 0x0F)
        if isResponse { bits |= 0x8000 }
        if isAuthoritative { bits |= 0x0400 }
        if isTruncated { bits |= 0x0200 }
        if recursionDesired { bits |= 0x0100 }
        if recursionAvailable { bits |= 0x0080 }
        if zero { bits |= 0x0040 }
        if authenticData { bits |= 0x0020 }
        if checkingDisabled { bits |= 0x0010 }
        return bits
    }

    init(id: UInt16, flags: UInt16) {
        self.init(
            id: id, isResponse: flags & 0x8000 != 0, opcode: DNSOpcode(rawValue: UInt8(flags >> 11 & 0x0F)),
            isAuthoritative: flags & 0x0400 != 0, isTruncated: flags & 0x0200 != 0,
            recursionDesired: flags & 0x0100 != 0, recursionAvailable: flags & 0x0080 != 0, zero: flags & 0x0040 != 0,
            authenticData: flags & 0x0020 != 0, checkingDisabled: flags & 0x0010 != 0, rcodeLow: UInt8(flags & 0x0F))
    }
}
