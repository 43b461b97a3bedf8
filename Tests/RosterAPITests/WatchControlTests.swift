// Goal: a watch stream's control lines (`POST /v1/watch`) are parsed strictly, with the same rules as
// `GET /v1/watch`'s query, and every refusal names the watch it refuses and says whether the stream survives;
// the tagged lines the server writes are the untagged ones plus the watch id. Method: tables of good and bad
// lines; a parity table that routes a GET and parses the equivalent create and expects the same filter or the
// same error code; seeded random bytes and byte-mutated valid lines that must never trap and must always get
// a clear answer; encoded lines read back with Foundation's JSONSerialization.
import Foundation
import HTTP
import Raft
import Registry
import RosterNode
import Testing

@testable import RosterAPI

private func parse(_ line: String, limits: RegistryLimits = .standard) throws(WatchControlError) -> WatchControl? {
    try WatchControl.parse(ArraySlice(Array(line.utf8)), limits: limits)
}

private func refusal(_ line: String) -> WatchControlError? {
    do {
        _ = try parse(line)
        return nil
    } catch {
        return error
    }
}

@Suite("Watch stream control lines")
struct WatchControlTests {
    @Test("a create by service defaults the namespace and copies the stream's progress interval")
    func createByService() throws {
        let control = try WatchControl.parse(
            ArraySlice(Array(#"{"create":{"id":7,"service":"payments"}}"#.utf8)), limits: .standard,
            progressIntervalMilliseconds: 2_000)
        let spec = WatchSpec(filter: .service(namespace: "default", service: "payments"), progressIntervalMilliseconds: 2_000)
        #expect(control == .create(id: 7, spec: spec))
    }

    @Test(
        "creates by prefix, key and key_base64, from a revision, with previous values",
        arguments: [
            (#"{"create":{"id":1,"prefix":"/cfg/"}}"#, WatchSpec(filter: .prefix(Array("/cfg/".utf8)))),
            (#"{"create":{"id":1,"prefix":""}}"#, WatchSpec(filter: .prefix([]))),
            (#"{"create":{"id":1,"key":"k","from_revision":5}}"#, WatchSpec(filter: .key(Array("k".utf8)), fromRevision: Revision(5))),
            (#"{"create":{"id":1,"key_base64":"AP8=","prev_value":true}}"#, WatchSpec(filter: .key([0, 255]), includePrevious: true)),
            (#"{"create":{"id":1,"service":"s","namespace":"prod","from_revision":0}}"#, WatchSpec(filter: .service(namespace: "prod", service: "s"))),
            (#"{"create":{"id":1,"service":"s","namespace":null,"from_revision":null}}"#, WatchSpec(filter: .service(namespace: "default", service: "s"))),
        ])
    func creates(line: String, spec: WatchSpec) throws {
        #expect(try parse(line) == .create(id: 1, spec: spec))
    }

    @Test("a cancel names its watch; blank lines and CRLF endings are accepted")
    func cancelAndBlank() throws {
        #expect(try parse(#"{"cancel":{"id":9223372036854775807}}"#) == .cancel(id: 9_223_372_036_854_775_807))
        #expect(try parse("{\"cancel\":{\"id\":3}}\r") == .cancel(id: 3))
        #expect(try parse("") == nil)
        #expect(try parse(" \t\r") == nil)
    }

    @Test(
        "a bad line refuses its own watch (named when its id is readable) and ends the stream only when it is not JSON",
        arguments: [
            (#"{"create":{"id":7,"servic":"s"}}"#, UInt64?(7), "unknown_field", false),
            (#"{"create":{"id":7}}"#, 7, "invalid_field", false),
            (#"{"create":{"id":7,"prefix":"a","key":"b"}}"#, 7, "invalid_field", false),
            (#"{"create":{"id":7,"key":""}}"#, 7, "empty_key", false),
            (#"{"create":{"id":7,"key":"a","namespace":"n"}}"#, 7, "invalid_field", false),
            (#"{"create":{"id":7,"service":"Bad Name"}}"#, 7, "invalid_name", false),
            (#"{"create":{"id":7,"service":"s","from_revision":-1}}"#, 7, "negative_revision", false),
            (#"{"create":{"id":7,"service":"s","from_revision":1.5}}"#, 7, "invalid_field", false),
            (#"{"create":{"id":7,"service":"s","prev_value":"yes"}}"#, 7, "invalid_field", false),
            (#"{"create":{"id":7,"key":"k","key_base64":"aw=="}}"#, 7, "invalid_field", false),
            (#"{"create":{"id":7,"key_base64":"not base64"}}"#, 7, "invalid_field", false),
            (#"{"create":{"id":0,"service":"s"}}"#, nil, "invalid_field", false),
            (#"{"create":{"id":-3,"service":"s"}}"#, nil, "invalid_field", false),
            (#"{"create":{"id":"7","service":"s"}}"#, nil, "invalid_field", false),
            (#"{"create":{"service":"s"}}"#, nil, "missing_field", false),
            (#"{"create":[1]}"#, nil, "invalid_field", false),
            (#"{"cancel":{"id":4,"x":1}}"#, 4, "unknown_field", false),
            (#"{"cancel":{}}"#, nil, "missing_field", false),
            (#"{"create":{"id":1,"service":"s"},"cancel":{"id":1}}"#, nil, "invalid_field", false),
            (#"{"watch":{"id":1}}"#, nil, "unknown_field", false),
            (#"{}"#, nil, "missing_field", false),
            (#"[1,2]"#, nil, "malformed_json", false),
            (#"{"create":{"id":1,"id":2}}"#, nil, "malformed_json", true),
            (#"{"create":"#, nil, "malformed_json", true),
            ("create payments", nil, "malformed_json", true),
        ])
    func refusals(line: String, watchID: UInt64?, code: String, endsStream: Bool) throws {
        let error = try #require(refusal(line))
        #expect(error.watchID == watchID)
        #expect(error.error.code == code)
        #expect(error.endsStream == endsStream)
        #expect(!error.error.message.isEmpty)
    }

    @Test("a line over the limit ends the stream with control_line_too_long")
    func tooLong() throws {
        let line = #"{"create":{"id":1,"prefix":""# + String(repeating: "a", count: WatchControl.maximumLineBytes) + #""}}"#
        let error = try #require(refusal(line))
        #expect(error.error.code == "control_line_too_long")
        #expect(error.endsStream)
    }

    @Test(
        "a create accepts exactly what GET /v1/watch accepts, and refuses the rest with the same code",
        arguments: [
            ("service=payments", #""service":"payments""#),
            ("service=payments&namespace=prod", #""service":"payments","namespace":"prod""#),
            ("prefix=a%2Fb", #""prefix":"a/b""#),
            ("key=k&from_revision=3&prev_value=true", #""key":"k","from_revision":3,"prev_value":true"#),
            ("service=Bad", #""service":"Bad""#),
            ("service=a&namespace=-x", #""service":"a","namespace":"-x""#),
            ("key=", #""key":"""#),
            ("key=" + String(repeating: "k", count: 4_097), #""key":""# + String(repeating: "k", count: 4_097) + "\""),
            ("prefix=a&namespace=b", #""prefix":"a","namespace":"b""#),
            ("service=a&key=b", #""service":"a","key":"b""#),
            ("from_revision=-2&service=a", #""from_revision":-2,"service":"a""#),
            ("namespace=a", #""namespace":"a""#),
        ])
    func parity(query: String, fields: String) throws {
        let viaQuery = try routed("GET", "/v1/watch?" + query)
        let viaLine: Result<WatchControl?, WatchControlError> = Result { () throws(WatchControlError) in
            try parse(#"{"create":{"id":1,"# + fields + "}}")
        }
        switch (viaQuery, viaLine) {
        case (.watch(let spec), .success(.create(_, let created)?)):
            #expect(created == spec)
        case (.error(let error), .failure(let refusal)):
            let expected = error.code == "invalid_parameter" ? "invalid_field" : error.code
            #expect(refusal.error.code == expected)
        default:
            Issue.record("GET routed to \(viaQuery) but the create line gave \(viaLine)")
        }
    }

    @Test("random bytes and mutated lines never trap and always get an answer with a code and a message")
    func fuzz() {
        var random = SplitMix64(seed: 0x5EED_CAFE)
        let seeds = [
            #"{"create":{"id":7,"service":"payments","namespace":"prod","from_revision":3,"prev_value":true}}"#,
            #"{"cancel":{"id":7}}"#, #"{"create":{"id":1,"key_base64":"AP8=","prefix":"x"}}"#,
        ].map { Array($0.utf8) }
        for round in 0..<20_000 {
            var line: [UInt8]
            if round % 2 == 0 {
                line = (0..<Int(random.next() % 80)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            } else {
                line = seeds[Int(random.next() % UInt64(seeds.count))]
                for _ in 0..<(1 + Int(random.next() % 4)) where !line.isEmpty {
                    let position = Int(random.next() % UInt64(line.count))
                    switch random.next() % 3 {
                    case 0: line[position] = UInt8(truncatingIfNeeded: random.next())
                    case 1: line.remove(at: position)
                    default: line.insert(line[position], at: position)
                    }
                }
            }
            do {
                switch try WatchControl.parse(ArraySlice(line), limits: .standard) {
                case .create(let id, let spec)?:
                    #expect(id >= 1 && id <= UInt64(Int64.max))
                    #expect(spec.mode == .stream)
                case .cancel(let id)?:
                    #expect(id >= 1)
                case nil:
                    #expect(line.allSatisfy { [0x20, 0x09, 0x0D].contains($0) })
                }
            } catch {
                #expect(!error.error.code.isEmpty && !error.error.message.isEmpty)
                #expect(!error.endsStream || error.error.code == "malformed_json" || error.error.code == "nesting_too_deep")
            }
        }
    }

    // MARK: - Routing

    @Test("POST /v1/watch opens a stream; it takes only progress_interval and no body")
    func routing() throws {
        #expect(try routed("POST", "/v1/watch") == .watchStream(WatchStreamOptions()))
        #expect(try routed("POST", "/v1/watch?progress_interval=2s") == .watchStream(WatchStreamOptions(progressIntervalMilliseconds: 2_000)))
        #expect(try routingError("POST", "/v1/watch?service=a")?.code == "unknown_parameter")
        #expect(try routingError("POST", "/v1/watch?progress_interval=1ms")?.code == "invalid_parameter")
        #expect(try routingError("POST", "/v1/watch", #"{"create":{"id":1,"service":"a"}}"#)?.code == "unexpected_body")
        #expect(try routingError("DELETE", "/v1/watch")?.code == "method_not_allowed")
    }

    // MARK: - Lines the server writes

    @Test("a tagged event line is the untagged line with the watch id first")
    func taggedEvent() throws {
        let event = RegistryEvent(
            revision: Revision(12), kind: .put, cause: .put, key: Array("k".utf8),
            current: KeyValue(key: Array("k".utf8), value: Array("v".utf8), createRevision: Revision(12), modRevision: Revision(12), version: 1),
            previous: nil)
        let untagged = WatchLines.event(event, includePrevious: false)
        var tagged: [UInt8] = []
        WatchStreamLines.appendEvent(untagged, prefix: WatchStreamLines.eventPrefix(watch: 42), to: &tagged)
        #expect(tagged.last == 0x0A)
        var expected = try jsonObject(Array(untagged.dropLast()))
        expected["watch"] = 42
        let object = try jsonObject(Array(tagged.dropLast()))
        #expect(NSDictionary(dictionary: object) == NSDictionary(dictionary: expected))
        #expect(String(decoding: tagged, as: UTF8.self).hasPrefix(#"{"watch":42,"revision":12,"#))
    }

    @Test("created, canceled and resync lines carry the watch id")
    func streamLines() throws {
        let created = try jsonObject(WatchStreamLines.created(watch: 7, revision: Revision(30)))
        #expect((created["created"] as? [String: Any])?["id"] as? Int == 7)
        #expect((created["created"] as? [String: Any])?["revision"] as? Int == 30)
        let canceled = try jsonObject(WatchStreamLines.canceled(watch: 7, error: nil))
        #expect(NSDictionary(dictionary: canceled) == NSDictionary(dictionary: ["canceled": ["id": 7]]))
        let refused = try jsonObject(WatchStreamLines.canceled(watch: nil, error: .watchNotFound(3)))
        let error = (refused["canceled"] as? [String: Any])?["error"] as? [String: Any]
        #expect(error?["code"] as? String == "watch_not_found")
        #expect((refused["canceled"] as? [String: Any])?["id"] == nil)
        let resync = try jsonObject(WatchStreamLines.resync(watch: 5, items: [], revision: Revision(9)))
        #expect((resync["resync"] as? [String: Any])?["watch"] as? Int == 5)
    }
}
