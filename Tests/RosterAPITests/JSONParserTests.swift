// Goal: the request-body parser accepts exactly RFC 8259 JSON and keeps what strict validation needs (number
// text, member order, duplicate detection, a depth bound). Method: tables of valid documents compared with
// Foundation's JSONSerialization as an independent oracle, tables of invalid documents that must be refused,
// and targeted checks of strings, escapes and numbers.
import Foundation
import Raft
import Testing

@testable import RosterAPI

/// Converts our tree to Foundation's shapes, to compare with JSONSerialization.
private func foundationShape(_ value: JSONValue) -> NSObject {
    switch value {
    case .null: return NSNull()
    case .bool(let flag): return NSNumber(value: flag)
    case .number(let number): return NSNumber(value: Double(number.text) ?? .nan)
    case .string(let text): return text as NSString
    case .array(let elements): return elements.map(foundationShape) as NSArray
    case .object(let members):
        return Dictionary(uniqueKeysWithValues: members.map { ($0.name, foundationShape($0.value)) }) as NSDictionary
    }
}

@Suite("JSON parser")
struct JSONParserTests {
    @Test(
        "valid documents parse to the same tree as JSONSerialization's",
        arguments: [
            #"{}"#, #"[]"#, #" {"a" : [1, -2, 3.5, 1e3, -0.25E-2, true, false, null]} "#,
            #"{"s":"\u00e9\ud83d\ude00\n\t\"\\\/"}"#, #"[[[[{"deep":[]}]]]]"#, #""just a string""#, "0", "-0", "[1,2]",
            #"{"a":{"b":{"c":"d"}},"e":""}"#,
        ])
    func agreesWithFoundation(_ text: String) throws {
        let ours = try JSONParser.parse(Array(text.utf8))
        let theirs = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) as? NSObject
        #expect(foundationShape(ours) == theirs)
    }

    @Test(
        "invalid documents are refused",
        arguments: [
            "", " ", "{", "}", "[1,]", "[,1]", #"{"a":1,}"#, #"{"a" 1}"#, #"{a:1}"#, "'a'", "01", "1.", ".5", "-", "+1",
            "1e", "tru", "nul", "NaN", "Infinity", #""abc"#, #""\x""#, #""\u12""#, #""\udc00""#, "[1] [2]",
            "\u{FEFF}{}",
            "{\"a\":\"\u{01}\"}", #"{"a":1 // comment"#, "[1,2",
        ])
    func refusesInvalid(_ text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test("duplicate names are refused, even when the values are equal")
    func duplicates() {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(#"{"a":1,"a":1}"#.utf8)) }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(#"{"x":{"b":1,"b":2}}"#.utf8)) }
    }

    @Test("duplicate names are refused in large objects too, wherever the repeat falls", arguments: [0, 3, 14, 15, 16, 17, 29])
    func duplicatesInLargeObjects(repeated: Int) throws {
        let names = (0..<30).map { "k\($0)" }
        let distinct = "{" + names.map { "\"\($0)\":1" }.joined(separator: ",") + "}"
        guard case .object(let members) = try JSONParser.parse(Array(distinct.utf8)) else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.name) == names)
        let repeatedText = "{" + (names + [names[repeated]]).map { "\"\($0)\":1" }.joined(separator: ",") + "}"
        let failure = try #require(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(repeatedText.utf8)) }
        #expect(failure.reason == "duplicate field \"\(names[repeated])\"")
    }

    @Test("strings without escapes and strings with them read the same as before")
    func stringPaths() throws {
        #expect(try JSONParser.parse(Array(#""plain text""#.utf8)) == .string("plain text"))
        #expect(try JSONParser.parse(Array(#""a\"b\\c\u00e9\n""#.utf8)) == .string("a\"b\\cé\n"))
        #expect(try JSONParser.parse(Array("\"ünï ✓\"".utf8)) == .string("ünï ✓"))
        let invalid = try #require(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0x41, 0xC0, 0x80, 0x22]) }
        #expect(invalid.reason == "string is not valid UTF-8" && invalid.offset == 0)
        let control = try #require(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0x41, 0x01, 0x22]) }
        #expect(control.offset == 2)
        let unterminated = try #require(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0x41, 0x42]) }
        #expect(unterminated.reason == "unterminated string")
    }

    @Test("numbers keep their text and know whether they are integers")
    func numbers() throws {
        #expect(
            try JSONParser.parse(Array("18446744073709551615".utf8))
                == .number(JSONNumber(text: "18446744073709551615", isIntegral: true)))
        #expect(try JSONParser.parse(Array("2.0".utf8)) == .number(JSONNumber(text: "2.0", isIntegral: false)))
        #expect(try JSONParser.parse(Array("2E0".utf8)) == .number(JSONNumber(text: "2E0", isIntegral: false)))
    }

    @Test("nesting is bounded at the documented depth")
    func depth() throws {
        let ok =
            String(repeating: "[", count: JSONParser.maximumDepth)
            + String(repeating: "]", count: JSONParser.maximumDepth)
        _ = try JSONParser.parse(Array(ok.utf8))
        let deep = "[" + ok + "]"
        let failure = try #require(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(deep.utf8)) }
        #expect(failure.isTooDeep)
    }

    @Test(
        "overlong UTF-8 and encoded surrogates inside strings are refused",
        arguments: [[0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xFF], [0x80]] as [[UInt8]])
    func badUTF8(_ bytes: [UInt8]) {
        let document = [UInt8(ascii: "\"")] + bytes + [UInt8(ascii: "\"")]
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(document) }
    }

    @Test("base64 round-trips every length and refuses non-canonical text")
    func base64() {
        var generator = SplitMix64(seed: 7)
        for length in 0..<40 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            var encoded: [UInt8] = []
            Base64.encode(bytes, into: &encoded)
            let text = String(decoding: encoded, as: UTF8.self)
            #expect(Base64.decode(text) == bytes)
            #expect(text == Data(bytes).base64EncodedString(), "agrees with Foundation")
        }
        for bad in ["A", "AA", "AAA", "AA=A", "A===", "====", "AB==", "AAB=", "AA==AA==", "AA AA", "AA\n=="] {
            #expect(Base64.decode(bad) == nil, "\(bad)")
        }
    }

    @Test(
        "durations accept one whole number and one unit",
        arguments: [
            ("15s", 15_000), ("500ms", 500), ("2m", 120_000), ("1h", 3_600_000), ("30", 30_000),
        ] as [(String, Int64)])
    func durations(_ text: String, _ milliseconds: Int64) {
        #expect(DurationText.milliseconds(text) == milliseconds)
    }

    @Test(
        "durations refuse fractions, signs, compounds and overflow",
        arguments: ["", "s", "1.5s", "-1s", "+1s", "1m30s", "1 s", "1S", "1d", "99999999999999999h", "0x10s"])
    func badDurations(_ text: String) {
        #expect(DurationText.milliseconds(text) == nil)
    }
}
