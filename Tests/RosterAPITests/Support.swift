// Goal: shared helpers for the RosterAPI tests. Method: every request is built as raw HTTP/1.1 text and put
// through the real `HTTPRequestParser`, so routing is tested on exactly what a server would hand it; every
// response body is read back with Foundation's `JSONSerialization`, an independent JSON implementation.
import Foundation
import HTTP
import Raft
import Registry
import RosterNode
import Testing

@testable import RosterAPI

/// Parses one request from its parts; fails the test (and returns nil) if the parser refuses it.
func makeRequest(
    _ method: String, _ target: String, body: [UInt8] = [], headers: [(String, String)] = []
) throws -> HTTPRequest {
    var raw = Array("\(method) \(target) HTTP/1.1\r\nHost: roster\r\n".utf8)
    for (name, value) in headers { raw += Array("\(name): \(value)\r\n".utf8) }
    if !body.isEmpty || ["PUT", "POST", "PATCH"].contains(method) {
        raw += Array("Content-Length: \(body.count)\r\n".utf8)
    }
    raw += Array("\r\n".utf8) + body
    var parser = HTTPRequestParser(limits: HTTPParserLimits(bodyBytes: 4 << 20))
    parser.append(raw)
    return try #require(try parser.nextRequest())
}

/// Routes a request given as text.
func routed(
    _ method: String, _ target: String, _ body: String = "", headers: [(String, String)] = [],
    limits: RegistryLimits = .standard
) throws -> RoutedRequest {
    route(try makeRequest(method, target, body: Array(body.utf8), headers: headers), limits: limits)
}

/// The error a request routes to, or nil if it routed successfully.
func routingError(
    _ method: String, _ target: String, _ body: String = "", headers: [(String, String)] = [],
    limits: RegistryLimits = .standard
) throws -> APIError? {
    if case .error(let error) = try routed(method, target, body, headers: headers, limits: limits) { return error }
    return nil
}

/// The error for a request with a raw byte body.
func routingError(_ method: String, _ target: String, bytes: [UInt8]) throws -> APIError? {
    if case .error(let error) = route(try makeRequest(method, target, body: bytes), limits: .standard) { return error }
    return nil
}

/// A response body parsed by Foundation, as a dictionary.
func jsonObject(_ body: [UInt8]) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(body))
    return try #require(value as? [String: Any])
}

/// The `error` object of an error body.
func errorObject(_ response: EncodedResponse) throws -> (code: String, message: String) {
    let object = try jsonObject(response.body)
    let error = try #require(object["error"] as? [String: Any])
    return (try #require(error["code"] as? String), try #require(error["message"] as? String))
}

let testContext = ResponseContext(revision: Revision(41), leader: "n1", term: Term(7))

/// A sample instance with every field set.
func sampleInstance(lease: LeaseID? = LeaseID(9)) -> ServiceInstance {
    ServiceInstance(
        namespace: "prod", service: "web", id: "w-1", version: "1.2.3",
        endpoints: ["grpc://10.0.0.5:9000", "http://[::1]:8080/health"], metadata: ["zone": "b", "az": "a"],
        weight: 50, status: .draining, lease: lease, incarnation: 1_700_000_000_000)
}
