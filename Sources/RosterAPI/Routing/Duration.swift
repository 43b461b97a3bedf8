/// Durations in requests: `"500ms"`, `"15s"`, `"2m"`, `"1h"`, or a bare whole number of seconds.
///
/// Only whole numbers with one unit are accepted. Fractions (`"1.5s"`) and compound forms (`"1m30s"`) are
/// refused rather than approximated: a TTL is a promise about time, and a typo should fail loudly.
enum DurationText {
    /// Milliseconds for `text`, or nil if it is not a duration or overflows.
    static func milliseconds(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        let digitCount = bytes.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }.count
        guard digitCount > 0, digitCount <= 18 else { return nil }
        guard let amount = Int64(String(decoding: bytes[0..<digitCount], as: UTF8.self)) else { return nil }
        let unit = String(decoding: bytes[digitCount...], as: UTF8.self)
        let scale: Int64
        switch unit {
        case "ms": scale = 1
        case "s", "": scale = 1_000
        case "m": scale = 60_000
        case "h": scale = 3_600_000
        default: return nil
        }
        let (product, overflow) = amount.multipliedReportingOverflow(by: scale)
        return overflow ? nil : product
    }

    /// Milliseconds for a JSON duration: a string as above or an integer number of seconds.
    static func milliseconds(_ value: JSONValue, field: String) throws(APIError) -> Int64 {
        let problem = "must be a duration such as \"15s\", \"500ms\" or a whole number of seconds"
        switch value {
        case .string(let text):
            guard let milliseconds = milliseconds(text) else {
                throw .invalidField(field, "\(problem), got \"\(text)\"")
            }
            return milliseconds
        case .number:
            let seconds = try value.int64(field, in: Int64.min...Int64.max)
            let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000)
            guard !overflow else { throw .invalidField(field, "is too large, got \(seconds) s") }
            return product
        default:
            throw .invalidField(field, "\(problem), got \(value.typeDescription)")
        }
    }
}
