// Goal: grpc-timeout values parse for every unit, malformed values are refused with a typed error, and
// the conversions (nanoseconds, Duration, header value) are exact or saturate as documented.
// Method: tables of valid and invalid header values, boundary amounts, and round-up encoding checks.
import GRPC
import Testing

@Suite("GRPCTimeout")
struct GRPCTimeoutTests {
    @Test(
        "each unit converts to nanoseconds",
        arguments: [
            ("1H", 3_600_000_000_000), ("2M", 120_000_000_000), ("5S", 5_000_000_000), ("100m", 100_000_000),
            ("7u", 7_000), ("9n", 9), ("0S", 0), ("99999999n", 99_999_999), ("00000001S", 1_000_000_000),
        ] as [(String, Int64)])
    func units(value: String, nanoseconds: Int64) throws {
        let timeout = try GRPCTimeout(parsing: value)
        #expect(timeout.nanoseconds == nanoseconds)
        #expect(timeout.duration == .nanoseconds(nanoseconds))
    }

    @Test("the header value of a parsed timeout is its canonical form")
    func headerValue() throws {
        #expect(try GRPCTimeout(parsing: "100m").headerValue == "100m")
        #expect(try GRPCTimeout(parsing: "007S").headerValue == "7S")
    }

    @Test("the largest hour value saturates nanoseconds but keeps Duration exact")
    func saturation() throws {
        let timeout = try GRPCTimeout(parsing: "99999999H")
        #expect(timeout.nanoseconds == Int64.max)
        #expect(timeout.duration == .seconds(Int64(99_999_999) * 3_600))
    }

    @Test(
        "malformed values are refused",
        arguments: [
            ("", GRPCTimeoutError.invalidUnit(value: "")), ("S", .invalidDigitCount(value: "S")),
            ("123456789S", .invalidDigitCount(value: "123456789S")), ("10", .invalidUnit(value: "10")),
            ("10s", .invalidUnit(value: "10s")), ("10h", .invalidUnit(value: "10h")), ("10 S", .invalidDigit(value: "10 S")),
            ("-1S", .invalidDigit(value: "-1S")), ("+1S", .invalidDigit(value: "+1S")), ("1.5S", .invalidDigit(value: "1.5S")),
            ("١S", .invalidDigit(value: "١S")), ("1SS", .invalidDigit(value: "1SS")), ("1S ", .invalidUnit(value: "1S ")),
        ])
    func malformed(value: String, expected: GRPCTimeoutError) {
        #expect(throws: expected) { try GRPCTimeout(parsing: value) }
        #expect(expected.status.code == .internal)
    }

    @Test(
        "rounding up picks the finest unit that fits eight digits and never shortens the deadline",
        arguments: [
            (0, "0n"), (99_999_999, "99999999n"), (100_000_000, "100000u"), (100_000_001, "100001u"),
            (Int64.max, "2562048H"),
        ] as [(Int64, String)])
    func roundingUp(nanoseconds: Int64, header: String) {
        let timeout = GRPCTimeout(roundingUp: nanoseconds)
        #expect(timeout.headerValue == header)
        #expect(timeout.nanoseconds >= nanoseconds)
    }
}
