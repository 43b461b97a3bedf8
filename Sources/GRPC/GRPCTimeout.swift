/// A parsed `grpc-timeout` request header: at most eight ASCII digits followed by one unit letter.
///
/// PROTOCOL-HTTP2 defines the units H (hours), M (minutes), S (seconds), m (milliseconds), u (microseconds)
/// and n (nanoseconds) and caps the value at eight digits, so the largest timeout (99 999 999 hours) is
/// about 11 000 years: more than `Int64` nanoseconds hold, hence `nanoseconds` saturates while `duration`
/// is exact. A value of 0 is accepted (grpc-go does too); it means the deadline has already passed.
public struct GRPCTimeout: Sendable, Hashable, CustomStringConvertible {
    /// The unit letter of a timeout.
    public enum Unit: UInt8, Sendable, Hashable, CaseIterable {
        case hours = 0x48  // "H"
        case minutes = 0x4D  // "M"
        case seconds = 0x53  // "S"
        case milliseconds = 0x6D  // "m"
        case microseconds = 0x75  // "u"
        case nanoseconds = 0x6E  // "n"

        /// Nanoseconds in one of this unit.
        public var nanosecondsPerUnit: Int64 {
            switch self {
            case .hours: 3_600_000_000_000
            case .minutes: 60_000_000_000
            case .seconds: 1_000_000_000
            case .milliseconds: 1_000_000
            case .microseconds: 1_000
            case .nanoseconds: 1
            }
        }
    }

    /// The largest amount the header can carry (eight digits).
    public static let maxAmount = 99_999_999

    /// The number before the unit, 0...99 999 999.
    public let amount: Int
    /// The unit.
    public let unit: Unit

    /// Creates a timeout from its parts.
    /// - Precondition: `amount` is in 0...99 999 999.
    public init(amount: Int, unit: Unit) {
        precondition(amount >= 0 && amount <= Self.maxAmount, "grpc-timeout amount \(amount) outside 0...\(Self.maxAmount)")
        self.amount = amount
        self.unit = unit
    }

    /// Parses a `grpc-timeout` header value such as `"100m"` or `"5S"`.
    /// - Throws: `GRPCTimeoutError` when the value is not 1 to 8 ASCII digits followed by H, M, S, m, u or n.
    public init(parsing value: String) throws(GRPCTimeoutError) {
        let bytes = Array(value.utf8)
        guard let last = bytes.last, let unit = Unit(rawValue: last) else { throw .invalidUnit(value: value) }
        let digits = bytes.dropLast()
        guard !digits.isEmpty, digits.count <= 8 else { throw .invalidDigitCount(value: value) }
        var amount = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0") && digit <= UInt8(ascii: "9") else { throw .invalidDigit(value: value) }
            amount = amount * 10 + Int(digit - UInt8(ascii: "0"))
        }
        self.init(amount: amount, unit: unit)
    }

    /// The smallest timeout at least `nanoseconds` long that the header can express (for clients sending
    /// a deadline: rounding up never makes a deadline shorter than asked).
    /// - Precondition: `nanoseconds` is not negative.
    public init(roundingUp nanoseconds: Int64) {
        precondition(nanoseconds >= 0, "a timeout cannot be negative, got \(nanoseconds) ns")
        let units: [Unit] = [.nanoseconds, .microseconds, .milliseconds, .seconds, .minutes, .hours]
        for unit in units {
            let perUnit = unit.nanosecondsPerUnit
            let (quotient, remainder) = nanoseconds.quotientAndRemainder(dividingBy: perUnit)
            let amount = quotient + (remainder > 0 ? 1 : 0)
            if amount <= Int64(Self.maxAmount) {
                self.init(amount: Int(amount), unit: unit)
                return
            }
        }
        preconditionFailure("Int64 nanoseconds always fit in eight digits of hours")
    }

    /// The timeout in nanoseconds, saturating at `Int64.max` (about 292 years).
    public var nanoseconds: Int64 {
        let (product, overflow) = Int64(amount).multipliedReportingOverflow(by: unit.nanosecondsPerUnit)
        return overflow ? Int64.max : product
    }

    /// The exact timeout.
    public var duration: Duration {
        switch unit {
        case .hours: .seconds(Int64(amount) * 3_600)
        case .minutes: .seconds(Int64(amount) * 60)
        case .seconds: .seconds(amount)
        case .milliseconds: .milliseconds(amount)
        case .microseconds: .microseconds(amount)
        case .nanoseconds: .nanoseconds(amount)
        }
    }

    /// The header value, for example `"100m"`.
    public var headerValue: String { String(amount) + String(decoding: [unit.rawValue], as: UTF8.self) }

    /// The header value, for logs.
    public var description: String { headerValue }
}

/// Why a `grpc-timeout` value was refused; the server ends such a call with `status` (grpc-go answers a
/// malformed timeout with INTERNAL).
public enum GRPCTimeoutError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The value is empty or does not end in H, M, S, m, u or n.
    case invalidUnit(value: String)
    /// The value has no digits or more than eight.
    case invalidDigitCount(value: String)
    /// A character before the unit is not an ASCII digit.
    case invalidDigit(value: String)

    /// The status to end the call with.
    public var status: GRPCStatus { GRPCStatus(code: .internal, message: description) }

    /// A sentence quoting the value and the rule it breaks.
    public var description: String {
        switch self {
        case .invalidUnit(let value):
            "malformed grpc-timeout \"\(value)\": it must end in one of H, M, S, m, u, n"
        case .invalidDigitCount(let value):
            "malformed grpc-timeout \"\(value)\": it must have 1 to 8 digits before the unit"
        case .invalidDigit(let value):
            "malformed grpc-timeout \"\(value)\": only ASCII digits may precede the unit"
        }
    }
}
