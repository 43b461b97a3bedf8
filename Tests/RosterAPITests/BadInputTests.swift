// Goal: every bad input from reliability.md §9 that reaches the HTTP API is refused before the node sees it,
// with the documented status and a stable code, and a message that names what was wrong. Method: a table of
// raw requests, each routed through the real parser and router; each row asserts status and code, and that the
// message mentions the field or parameter at fault. Inputs the HTTP parser itself refuses (bad percent escapes,
// invalid UTF-8 or NUL in the path) are checked through `APIError(parseError:)`.
import HTTP
import Registry
import Testing

@testable import RosterAPI

struct BadCase: Sendable, CustomTestStringConvertible {
    var name: String
    var method: String
    var target: String
    var body: String = ""
    var headers: [String] = []
    var status: Int
    var code: String
    /// A fragment the message must contain (usually the field name).
    var mentions: String
    var testDescription: String { name }
}

private let instancePath = "/v1/services/web/instances/w-1"
private func register(_ fields: String) -> String { #"{"endpoints":["grpc://10.0.0.5:9000"]"# + fields + "}" }

let badCases: [BadCase] = [
    // Encoding.
    BadCase(
        name: "malformed JSON", method: "PUT", target: instancePath, body: #"{"endpoints": [}"#, status: 400,
        code: "malformed_json", mentions: "byte"),
    BadCase(
        name: "trailing garbage after JSON", method: "POST", target: "/v1/compact", body: #"{"revision":1} x"#,
        status: 400, code: "malformed_json", mentions: "after"),
    BadCase(
        name: "body is not an object", method: "POST", target: "/v1/compact", body: "[1]", status: 400,
        code: "malformed_json", mentions: "object"),
    BadCase(
        name: "empty body where one is required", method: "POST", target: "/v1/leases", status: 400,
        code: "malformed_json", mentions: "empty"),
    BadCase(
        name: "duplicate field", method: "POST", target: "/v1/leases", body: #"{"ttl":"10s","ttl":"20s"}"#, status: 400,
        code: "malformed_json", mentions: "duplicate field \"ttl\""),
    BadCase(
        name: "unknown field", method: "PUT", target: instancePath, body: register(#","wieght":3"#), status: 400,
        code: "unknown_field", mentions: "wieght"),
    BadCase(
        name: "unknown nested field", method: "POST", target: "/v1/txn",
        body: #"{"success":[{"put":{"key":"k","value":"v","ttl":1}}]}"#, status: 400, code: "unknown_field",
        mentions: "success[0].put.ttl"),
    BadCase(
        name: "wrong type: weight as string", method: "PUT", target: instancePath, body: register(#","weight":"7""#),
        status: 400, code: "invalid_field", mentions: "weight"),
    BadCase(
        name: "wrong type: endpoints as string", method: "PUT", target: instancePath,
        body: #"{"endpoints":"grpc://a:1"}"#, status: 400, code: "invalid_field", mentions: "endpoints"),
    BadCase(
        name: "wrong type: metadata value as number", method: "PUT", target: instancePath,
        body: register(#","metadata":{"a":1}"#), status: 400, code: "invalid_field", mentions: "metadata.a"),
    BadCase(
        name: "huge number", method: "PUT", target: instancePath,
        body: register(#","incarnation":123456789012345678901234567890"#), status: 400, code: "invalid_field",
        mentions: "incarnation"),
    BadCase(
        name: "float where an int belongs", method: "PUT", target: instancePath, body: register(#","weight":1.5"#),
        status: 400, code: "invalid_field", mentions: "weight"),
    BadCase(
        name: "exponent where an int belongs", method: "POST", target: "/v1/compact", body: #"{"revision":1e3}"#,
        status: 400, code: "invalid_field", mentions: "revision"),
    BadCase(
        name: "weight above Int32", method: "PUT", target: instancePath, body: register(#","weight":2147483648"#),
        status: 400, code: "invalid_field", mentions: "weight"),
    BadCase(
        name: "negative weight", method: "PUT", target: instancePath, body: register(#","weight":-1"#), status: 400,
        code: "invalid_field", mentions: "weight"),
    BadCase(
        name: "negative incarnation", method: "PATCH", target: instancePath, body: #"{"incarnation":-1,"weight":1}"#,
        status: 400, code: "invalid_field", mentions: "incarnation"),
    BadCase(
        name: "bad status value", method: "PUT", target: instancePath, body: register(#","status":"down""#),
        status: 400, code: "invalid_field", mentions: "status"),
    BadCase(
        name: "base64 with bad padding", method: "PUT", target: "/v1/kv/a", body: #"{"value_base64":"AAE"}"#,
        status: 400, code: "invalid_field", mentions: "value_base64"),
    BadCase(
        name: "base64 with non-zero trailing bits", method: "PUT", target: "/v1/kv/a",
        body: #"{"value_base64":"AB=="}"#, status: 400, code: "invalid_field", mentions: "value_base64"),
    BadCase(
        name: "value and value_base64 together", method: "PUT", target: "/v1/kv/a",
        body: #"{"value":"x","value_base64":"AA=="}"#, status: 400, code: "invalid_field", mentions: "value"),
    BadCase(
        name: "NUL byte in a JSON name", method: "PUT", target: instancePath,
        body: #"{"namespace":"a\u0000b","endpoints":[]}"#, status: 400, code: "invalid_name", mentions: "namespace"),
    BadCase(
        name: "lone surrogate in a JSON string", method: "PUT", target: "/v1/kv/a", body: #"{"value":"\ud800"}"#,
        status: 400, code: "malformed_json", mentions: "surrogate"),
    // Keys and instances.
    BadCase(
        name: "empty instance id (trailing slash)", method: "PUT", target: "/v1/services/web/instances/",
        body: register(""), status: 400, code: "invalid_name", mentions: "id"),
    BadCase(
        name: "empty service name", method: "GET", target: "/v1/services//instances/x", status: 400,
        code: "invalid_name", mentions: "service"),
    BadCase(
        name: "forbidden character in service", method: "GET", target: "/v1/services/we%20b", status: 400,
        code: "invalid_name", mentions: "service"),
    BadCase(
        name: "non-ASCII service name", method: "GET", target: "/v1/services/caf%C3%A9", status: 400,
        code: "invalid_name", mentions: "service"),
    BadCase(
        name: "instance id too long", method: "GET",
        target: "/v1/services/web/instances/" + String(repeating: "x", count: 129), status: 400, code: "invalid_name",
        mentions: "id"),
    BadCase(
        name: "service named by dots only", method: "PUT", target: "/v1/services/../instances/i",
        body: register(""), status: 400, code: "invalid_name", mentions: "service"),
    BadCase(
        name: "instance id of one dot", method: "GET", target: "/v1/services/web/instances/.", status: 400,
        code: "invalid_name", mentions: "id"),
    BadCase(
        name: "namespace of three dots", method: "GET", target: "/v1/services?namespace=...", status: 400,
        code: "invalid_name", mentions: "namespace"),
    BadCase(
        name: "invalid namespace in query", method: "GET", target: "/v1/services?namespace=a/b", status: 400,
        code: "invalid_name", mentions: "namespace"),
    BadCase(
        name: "conflicting namespaces", method: "PUT", target: instancePath + "?namespace=a",
        body: register(#","namespace":"b""#), status: 400, code: "invalid_field", mentions: "namespace"),
    BadCase(
        name: "endpoint port above 65535", method: "PUT", target: instancePath,
        body: #"{"endpoints":["grpc://10.0.0.5:70000"]}"#, status: 400, code: "invalid_endpoint", mentions: "65535"),
    BadCase(
        name: "endpoint port zero", method: "PUT", target: instancePath, body: #"{"endpoints":["grpc://10.0.0.5:0"]}"#,
        status: 400, code: "invalid_endpoint", mentions: "port"),
    BadCase(
        name: "endpoint with a bad host", method: "PUT", target: instancePath,
        body: #"{"endpoints":["grpc://exa$mple:80"]}"#, status: 400, code: "invalid_endpoint", mentions: "host"),
    BadCase(
        name: "endpoint without scheme", method: "PUT", target: instancePath, body: #"{"endpoints":["10.0.0.5:80"]}"#,
        status: 400, code: "invalid_endpoint", mentions: "scheme"),
    BadCase(
        name: "too many endpoints", method: "PUT", target: instancePath,
        body: #"{"endpoints":["#
            + Array(repeating: #""h://a:1""#, count: 17).joined(separator: ",") + "]}", status: 400,
        code: "too_many_endpoints", mentions: "17"),
    BadCase(
        name: "metadata over the entry limit", method: "PUT", target: instancePath,
        body: register(
            #","metadata":{"#
                + (0..<65).map { #""k\#($0)":"v""# }.joined(separator: ",") + "}"), status: 400,
        code: "too_many_metadata_entries", mentions: "65"),
    BadCase(
        name: "metadata with an empty key", method: "PUT", target: instancePath,
        body: register(#","metadata":{"":"v"}"#), status: 400, code: "invalid_metadata", mentions: "empty key"),
    BadCase(
        name: "missing endpoints", method: "PUT", target: instancePath, body: "{}", status: 400, code: "missing_field",
        mentions: "endpoints"),
    BadCase(
        name: "patch with nothing to change", method: "PATCH", target: instancePath, body: #"{"incarnation":1}"#,
        status: 400, code: "missing_field", mentions: "status"),
    BadCase(
        name: "empty key", method: "PUT", target: "/v1/kv/", body: #"{"value":"v"}"#, status: 400, code: "empty_key",
        mentions: "key"),
    BadCase(
        name: "empty key in a read", method: "GET", target: "/v1/kv", status: 400, code: "empty_key", mentions: "key"),
    BadCase(
        name: "key over the size limit", method: "GET", target: "/v1/kv/" + String(repeating: "k", count: 4097),
        status: 400, code: "key_too_long", mentions: "4097"),
    BadCase(
        name: "unknown query parameter", method: "GET", target: "/v1/kv/a?prefx=true", status: 400,
        code: "unknown_parameter", mentions: "prefx"),
    BadCase(
        name: "parameter given twice", method: "GET", target: "/v1/kv/a?limit=1&limit=5", status: 400,
        code: "invalid_parameter", mentions: "limit"),
    BadCase(
        name: "bad boolean parameter", method: "GET", target: "/v1/kv/a?prefix=yes", status: 400,
        code: "invalid_parameter", mentions: "prefix"),
    BadCase(
        name: "bad consistency", method: "GET", target: "/v1/services?consistency=eventual", status: 400,
        code: "invalid_parameter", mentions: "consistency"),
    BadCase(
        name: "body on a GET", method: "GET", target: "/v1/services", body: "{}", status: 400, code: "unexpected_body",
        mentions: "no request body"),
    // Ranges and revisions.
    BadCase(
        name: "range_end before key", method: "GET", target: "/v1/kv/b?range_end=a", status: 400, code: "invalid_range",
        mentions: "range_end"),
    BadCase(
        name: "range_end before key in a txn", method: "POST", target: "/v1/txn",
        body: #"{"success":[{"delete":{"key":"b","range_end":"a"}}]}"#, status: 400, code: "invalid_range",
        mentions: "range_end"),
    BadCase(
        name: "prefix and range_end together", method: "GET", target: "/v1/kv/a?prefix=true&range_end=b", status: 400,
        code: "invalid_parameter", mentions: "exclusive"),
    BadCase(
        name: "negative limit", method: "GET", target: "/v1/kv/a?prefix=true&limit=-1", status: 400,
        code: "invalid_limit", mentions: "limit"),
    BadCase(
        name: "read at revision -1", method: "GET", target: "/v1/services?min_revision=-1", status: 400,
        code: "negative_revision", mentions: "min_revision"),
    BadCase(
        name: "revision beyond Int64", method: "GET", target: "/v1/cluster/hash?revision=9223372036854775808",
        status: 400, code: "invalid_parameter", mentions: "revision"),
    BadCase(
        name: "watch from revision -1", method: "GET", target: "/v1/watch?service=web&from_revision=-1", status: 400,
        code: "negative_revision", mentions: "from_revision"),
    BadCase(
        name: "compact at a negative revision", method: "POST", target: "/v1/compact", body: #"{"revision":-5}"#,
        status: 400, code: "negative_revision", mentions: "revision"),
    BadCase(
        name: "watch without a filter", method: "GET", target: "/v1/watch", status: 400, code: "invalid_parameter",
        mentions: "required"),
    BadCase(
        name: "watch with two filters", method: "GET", target: "/v1/watch?service=a&prefix=b", status: 400,
        code: "invalid_parameter", mentions: "exclusive"),
    BadCase(
        name: "long-poll wait without index", method: "GET", target: "/v1/watch?key=a&wait=5s", status: 400,
        code: "invalid_parameter", mentions: "wait"),
    BadCase(
        name: "long-poll wait too long", method: "GET", target: "/v1/watch?key=a&index=1&wait=1h", status: 400,
        code: "invalid_parameter", mentions: "wait"),
    // Transactions.
    BadCase(
        name: "more than the maximum operations", method: "POST", target: "/v1/txn",
        body: #"{"success":["#
            + Array(repeating: #"{"range":{"key":"k"}}"#, count: 129).joined(separator: ",") + "]}", status: 400,
        code: "too_many_operations", mentions: "129"),
    BadCase(
        name: "compare without a target", method: "POST", target: "/v1/txn",
        body: #"{"compare":[{"key":"k","result":"equal"}]}"#, status: 400, code: "invalid_field", mentions: "compare[0]"
    ),
    BadCase(
        name: "compare with two targets", method: "POST", target: "/v1/txn",
        body: #"{"compare":[{"key":"k","result":"equal","version":1,"lease":2}]}"#, status: 400, code: "invalid_field",
        mentions: "compare[0]"),
    BadCase(
        name: "operation with two kinds", method: "POST", target: "/v1/txn",
        body: #"{"success":[{"put":{"key":"k","value":"v"},"delete":{"key":"k"}}]}"#, status: 400,
        code: "invalid_field", mentions: "success[0]"),
    BadCase(
        name: "bad compare result", method: "POST", target: "/v1/txn",
        body: #"{"compare":[{"key":"k","result":"eq","version":1}]}"#, status: 400, code: "invalid_field",
        mentions: "result"),
    // Leases.
    BadCase(
        name: "TTL 0", method: "POST", target: "/v1/leases", body: #"{"ttl":0}"#, status: 400, code: "ttl_out_of_range",
        mentions: "ttl"),
    BadCase(
        name: "negative TTL", method: "POST", target: "/v1/leases", body: #"{"ttl":-5}"#, status: 400,
        code: "ttl_out_of_range", mentions: "ttl"),
    BadCase(
        name: "negative TTL as text", method: "POST", target: "/v1/leases", body: #"{"ttl":"-5s"}"#, status: 400,
        code: "invalid_field", mentions: "ttl"),
    BadCase(
        name: "TTL below the minimum", method: "POST", target: "/v1/leases", body: #"{"ttl":"500ms"}"#, status: 400,
        code: "ttl_out_of_range", mentions: "ttl"),
    BadCase(
        name: "TTL above 9e9 s", method: "POST", target: "/v1/leases", body: #"{"ttl":9000000001}"#, status: 400,
        code: "ttl_out_of_range", mentions: "ttl"),
    BadCase(
        name: "TTL that overflows milliseconds", method: "POST", target: "/v1/leases",
        body: #"{"ttl":9223372036854775807}"#, status: 400, code: "invalid_field", mentions: "ttl"),
    BadCase(
        name: "TTL as a float", method: "POST", target: "/v1/leases", body: #"{"ttl":1.5}"#, status: 400,
        code: "invalid_field", mentions: "ttl"),
    BadCase(
        name: "TTL with a fraction in text", method: "POST", target: "/v1/leases", body: #"{"ttl":"1.5s"}"#,
        status: 400, code: "invalid_field", mentions: "ttl"),
    BadCase(
        name: "ttl and lease together", method: "PUT", target: instancePath, body: register(#","ttl":"10s","lease":3"#),
        status: 400, code: "invalid_field", mentions: "ttl"),
    BadCase(
        name: "lease 0 on register", method: "PUT", target: instancePath, body: register(#","lease":0"#), status: 400,
        code: "invalid_lease_id", mentions: "lease"),
    BadCase(
        name: "lease 0 in the path", method: "POST", target: "/v1/leases/0/keepalive", status: 400,
        code: "invalid_lease_id", mentions: "lease id"),
    BadCase(
        name: "lease id not a number", method: "GET", target: "/v1/leases/abc", status: 400, code: "invalid_parameter",
        mentions: "lease id"),
    BadCase(
        name: "lease id with a plus sign", method: "GET", target: "/v1/leases/+5", status: 400,
        code: "invalid_parameter", mentions: "lease id"),
    BadCase(
        name: "limit with a plus sign", method: "GET", target: "/v1/kv/a?prefix=true&limit=+1", status: 400,
        code: "invalid_parameter", mentions: "limit"),
    BadCase(
        name: "incarnation not a number", method: "DELETE", target: instancePath + "?incarnation=x1", status: 400,
        code: "invalid_parameter", mentions: "incarnation"),
    BadCase(
        name: "lease id negative", method: "DELETE", target: "/v1/leases/-3", status: 400, code: "invalid_parameter",
        mentions: "lease id"),
    // Cluster.
    BadCase(
        name: "peer address with port above 65535", method: "POST", target: "/v1/cluster/members",
        body: #"{"name":"n4","peer_address":"h:65536"}"#, status: 400, code: "invalid_field", mentions: "peer_address"),
    BadCase(
        name: "peer address without port", method: "POST", target: "/v1/cluster/members",
        body: #"{"name":"n4","peer_address":"h"}"#, status: 400, code: "invalid_field", mentions: "peer_address"),
    BadCase(
        name: "empty member name", method: "POST", target: "/v1/cluster/members",
        body: #"{"name":"","peer_address":"h:1"}"#, status: 400, code: "invalid_name", mentions: "name"),
    // Media type.
    BadCase(
        name: "a body declared as text that is not JSON", method: "POST", target: "/v1/compact", body: "revision=1",
        headers: ["Content-Type: text/plain"], status: 415, code: "unsupported_media_type", mentions: "text/plain"),
]

@Suite("Bad input is refused with a typed error")
struct BadInputTests {
    @Test("each bad input gets its documented status and code, and the message names the culprit", arguments: badCases)
    func refused(_ row: BadCase) throws {
        let headers = row.headers.map { line -> (String, String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), String(parts[1].drop { $0 == " " }))
        }
        let error = try #require(try routingError(row.method, row.target, row.body, headers: headers))
        #expect(error.status.code == row.status)
        #expect(error.code == row.code)
        #expect(error.message.contains(row.mentions), "message: \(error.message)")
    }

    @Test("writes to Roster's own keys (first byte 0x01) are refused; reading them is allowed")
    func systemKeysAreReadOnly() throws {
        #expect(try routingError("PUT", "/v1/kv/%01roster/members/n9", #"{"value":"x"}"#)?.code == "invalid_parameter")
        #expect(try routingError("DELETE", "/v1/kv/%01roster?prefix=true")?.code == "invalid_parameter")
        let txnPut = #"{"success":[{"put":{"key":"\u0001roster/members/n9","value":"x"}}]}"#
        #expect(try routingError("POST", "/v1/txn", txnPut)?.code == "invalid_parameter")
        let txnDelete = #"{"success":[{"delete":{"key":"\u0001","prefix":true}}]}"#
        #expect(try routingError("POST", "/v1/txn", txnDelete)?.code == "invalid_parameter")
        #expect(try routingError("GET", "/v1/kv/%01roster?prefix=true") == nil)
        #expect(try routingError("DELETE", "/v1/kv/?prefix=true") == nil, "deleting everything is allowed; it spares system keys")
    }

    @Test("nesting 10^4 levels deep is refused without recursing that deep")
    func deepNesting() throws {
        let body = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let error = try #require(try routingError("POST", "/v1/txn", body))
        #expect(error.status.code == 400)
        #expect(error.code == "nesting_too_deep")
        let objects = String(repeating: #"{"a":"#, count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        #expect(try routingError("POST", "/v1/txn", objects)?.code == "nesting_too_deep")
    }

    @Test("invalid UTF-8 in a body string is malformed JSON")
    func invalidUTF8InBody() throws {
        let body = Array(#"{"namespace":""#.utf8) + [0xC0, 0xAF] + Array(#"","endpoints":[]}"#.utf8)
        let error = try #require(try routingError("PUT", instancePath, bytes: body))
        #expect(error.status.code == 400)
        #expect(error.code == "malformed_json")
    }

    @Test("a raw NUL byte inside a body string is malformed JSON")
    func rawNulInBody() throws {
        let body = Array(#"{"value":"a"#.utf8) + [0] + Array(#""}"#.utf8)
        #expect(try routingError("PUT", "/v1/kv/a", bytes: body)?.code == "malformed_json")
    }

    @Test("a body over the registry's request limit is 413 before parsing")
    func bodyTooLarge() throws {
        var limits = RegistryLimits()
        limits.requestBytes = 64
        let body = #"{"value":""# + String(repeating: "x", count: 100) + #""}"#
        let error = try #require(try routingError("PUT", "/v1/kv/a", body, limits: limits))
        #expect(error.status.code == 413)
        #expect(error.code == "request_too_large")
    }

    @Test("a value over the value limit is 413 value_too_long")
    func valueTooLong() throws {
        var limits = RegistryLimits()
        limits.valueBytes = 8
        let error = try #require(try routingError("PUT", "/v1/kv/a", #"{"value":"123456789"}"#, limits: limits))
        #expect(error.status.code == 413)
        #expect(error.code == "value_too_long")
    }

    @Test(
        "targets the HTTP parser refuses map to JSON errors with its status",
        arguments: ["/v1/kv/%zz", "/v1/kv/%4", "/v1/services/%FF", "/v1/services/a%00b"])
    func parserRefusals(_ target: String) throws {
        var parser = HTTPRequestParser()
        parser.append(Array("GET \(target) HTTP/1.1\r\nHost: h\r\n\r\n".utf8))
        let parseError = try #require(throws: HTTPParseError.self) { try parser.nextRequest() }
        let error = APIError(parseError: parseError)
        #expect(error.status.code == 400)
        #expect(["invalid_percent_encoding", "invalid_utf8"].contains(error.code))
    }
}
