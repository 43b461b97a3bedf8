// Goal: the 17 status codes carry gRPC's numbers and names, and grpc-status values parse strictly.
// Method: a table of (code, number, name) from gRPC's status-code document, plus parse edge cases.
import GRPC
import Testing

@Suite("GRPCStatus")
struct GRPCStatusTests {
    static let table: [(GRPCStatusCode, UInt8, String)] = [
        (.ok, 0, "OK"), (.cancelled, 1, "CANCELLED"), (.unknown, 2, "UNKNOWN"),
        (.invalidArgument, 3, "INVALID_ARGUMENT"), (.deadlineExceeded, 4, "DEADLINE_EXCEEDED"),
        (.notFound, 5, "NOT_FOUND"), (.alreadyExists, 6, "ALREADY_EXISTS"),
        (.permissionDenied, 7, "PERMISSION_DENIED"), (.resourceExhausted, 8, "RESOURCE_EXHAUSTED"),
        (.failedPrecondition, 9, "FAILED_PRECONDITION"), (.aborted, 10, "ABORTED"),
        (.outOfRange, 11, "OUT_OF_RANGE"), (.unimplemented, 12, "UNIMPLEMENTED"), (.internal, 13, "INTERNAL"),
        (.unavailable, 14, "UNAVAILABLE"), (.dataLoss, 15, "DATA_LOSS"), (.unauthenticated, 16, "UNAUTHENTICATED"),
    ]

    @Test("each code has gRPC's number and name", arguments: table)
    func numbers(code: GRPCStatusCode, number: UInt8, name: String) {
        #expect(code.rawValue == number)
        #expect(code.description == name)
        #expect(GRPCStatusCode(headerValue: String(number)) == code)
        #expect(code.headerValue == String(number))
    }

    @Test("there are exactly 17 codes")
    func count() {
        #expect(GRPCStatusCode.allCases.count == 17)
    }

    @Test("grpc-status values outside the 17 codes or not decimal are refused", arguments: ["", "17", "-1", "1a", " 1", "007", "99"])
    func badHeader(value: String) {
        #expect(GRPCStatusCode(headerValue: value) == nil)
    }

    @Test("a status renders its code and message and percent-encodes the message")
    func status() {
        let status = GRPCStatus(code: .notFound, message: "etcdserver: requested lease not found")
        #expect(status.description == "NOT_FOUND: etcdserver: requested lease not found")
        #expect(GRPCStatus.ok.description == "OK")
        #expect(GRPCStatus(code: .internal, message: "100%").encodedMessage == "100%25")
    }
}
