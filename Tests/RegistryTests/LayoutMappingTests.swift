// Goal: the pure mapping between the frameworks' registry JSON and `ServiceInstance`, both ways, and the layout
// configuration syntax.
// Method: documents as go-kratos and kitex write them (Go's encoding/json: struct field order, map keys sorted,
// nil maps as null), Go's decoding quirks (case-insensitive field names, last duplicate wins, null is the zero
// value), documents that are not the framework's (they must give nil, never a crash), and seeded garbage.
import Testing

@testable import Registry

@Suite("Framework layouts: JSON ↔ instance")
struct LayoutMappingTests {
    let kratos = FrameworkLayout(framework: .kratos, prefix: "/microservices")
    let kitex = FrameworkLayout(framework: .kitex, prefix: "kitex/registry-etcd")

    // MARK: - kratos

    @Test("a kratos ServiceInstance document becomes an instance in the layout's namespace")
    func kratosDocument() throws {
        let json = #"{"id":"i1","name":"payments","version":"v1.0.0","metadata":{"zone":"a"},"endpoints":["grpc://10.0.0.5:9000?isSecure=false","http://10.0.0.5:8000"]}"#
        let instance = try #require(kratos.instance(key: bytes("/microservices/payments/i1"), value: bytes(json), limits: .standard))
        #expect(instance == ServiceInstance(
            namespace: "default", service: "payments", id: "i1", version: "v1.0.0",
            endpoints: ["grpc://10.0.0.5:9000?isSecure=false", "http://10.0.0.5:8000"], metadata: ["zone": "a"]))
    }

    @Test("Go's decoding rules: field names ignore case, the last duplicate wins, null and absent are zero values")
    func kratosGoDecoding() throws {
        let json = #"{"ID":"i1","Name":"payments","version":"old","VERSION":"v2","metadata":null,"extra":[1,{"a":true}]}"#
        let instance = try #require(kratos.instance(key: bytes("/microservices/payments/i1"), value: bytes(json), limits: .standard))
        #expect(instance.version == "v2")
        #expect(instance.metadata.isEmpty)
        #expect(instance.endpoints.isEmpty)
    }

    @Test("a kratos rendering is what Go's json.Marshal writes, and reads back as the same instance")
    func kratosRendering() throws {
        let instance = ServiceInstance(
            namespace: "default", service: "payments", id: "i1", version: "v1", endpoints: ["grpc://10.0.0.5:9000"],
            metadata: ["zone": "a", "env": "<prod>"], weight: 7, status: .draining)
        let (key, value) = try #require(kratos.rendering(of: instance))
        #expect(key == bytes("/microservices/payments/i1"))
        #expect(String(decoding: value, as: UTF8.self)
            == #"{"id":"i1","name":"payments","version":"v1","metadata":{"env":"\u003cprod\u003e","zone":"a"},"endpoints":["grpc://10.0.0.5:9000"]}"#)
        let back = try #require(kratos.instance(key: key, value: value, limits: .standard))
        #expect(back.endpoints == instance.endpoints && back.metadata == instance.metadata && back.version == "v1")
        #expect(back.weight == 100 && back.status == .up, "kratos has no weight or status: defaults come back")
    }

    @Test("documents that do not name the key's instance, or have fields of the wrong type, are not instances",
          arguments: [
            #"{"id":"i2","name":"payments"}"#,              // id differs from the key
            #"{"id":"i1","name":"orders"}"#,                // name differs from the key
            #"{"id":1,"name":"payments"}"#,                  // wrong type
            #"{"id":"i1","name":"payments","metadata":{"a":1}}"#,
            #"{"id":"i1","name":"payments","endpoints":"grpc://h:1"}"#,
            #"{"id":"i1","name":"payments","endpoints":["not a url"]}"#,   // fails native validation
            #"["id","i1"]"#, #"null"#, #"{"id":"i1","name":"payments"} trailing"#, "", "{", #"{"id":"i1\ud800"}"#,
          ])
    func kratosForeign(json: String) {
        #expect(kratos.instance(key: bytes("/microservices/payments/i1"), value: bytes(json), limits: .standard) == nil)
    }

    @Test("keys that are not <prefix>/<service>/<id> are outside the layout",
          arguments: ["/microservices/payments", "/microservices/payments/", "/microservices//i1",
                      "/microservices/payments/i1/extra", "/microservicesX/payments/i1", "microservices/payments/i1"])
    func kratosKeys(key: String) {
        let json = #"{"id":"i1","name":"payments"}"#
        #expect(kratos.instance(key: bytes(key), value: bytes(json), limits: .standard) == nil)
    }

    @Test("rendered strings escape as Go's encoder does and read back unchanged")
    func stringEscapes() {
        let tricky = "a\"b\\c\n\t\u{01}<>&\u{2028}\u{2029}é😀"
        var writer = LayoutJSONWriter()
        writer.string(tricky)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #""a\"b\\c\n\t\u0001\u003c\u003e\u0026\u2028\u2029é😀""#)
        #expect(LayoutJSON.parse(writer.bytes) == .string(tricky))
    }

    // MARK: - kitex

    @Test("a kitex instanceInfo document becomes an instance whose ID is its address")
    func kitexDocument() throws {
        let json = #"{"network":"tcp","address":"10.0.1.1:8888","weight":10,"tags":{"cluster":"c1"}}"#
        let instance = try #require(kitex.instance(key: bytes("kitex/registry-etcd/echo/10.0.1.1:8888"), value: bytes(json), limits: .standard))
        #expect(instance == ServiceInstance(
            namespace: "default", service: "echo", id: "10.0.1.1:8888", endpoints: ["tcp://10.0.1.1:8888"],
            metadata: ["cluster": "c1"], weight: 10))
    }

    @Test("kitex documents with a bad weight, another address or a wrong type are not instances",
          arguments: [
            #"{"network":"tcp","address":"10.0.1.1:8888","weight":-1}"#,
            #"{"network":"tcp","address":"10.0.1.1:8888","weight":1.5}"#,
            #"{"network":"tcp","address":"10.0.1.1:8888","weight":4294967296}"#,
            #"{"network":"tcp","address":"10.0.1.2:8888","weight":10}"#,
            #"{"network":"tcp","address":"10.0.1.1:8888","tags":["a"]}"#,
          ])
    func kitexForeign(json: String) {
        #expect(kitex.instance(key: bytes("kitex/registry-etcd/echo/10.0.1.1:8888"), value: bytes(json), limits: .standard) == nil)
    }

    @Test("a native instance renders at kitex from its first endpoint with a host:port")
    func kitexRendering() throws {
        let instance = ServiceInstance(
            namespace: "default", service: "echo", id: "i1",
            endpoints: ["unix:///run/echo.sock", "grpc://user@10.0.0.5:9000/path"], metadata: ["a": "b"], weight: 5)
        let (key, value) = try #require(kitex.rendering(of: instance))
        #expect(key == bytes("kitex/registry-etcd/echo/10.0.0.5:9000"))
        #expect(String(decoding: value, as: UTF8.self) == #"{"network":"tcp","address":"10.0.0.5:9000","weight":5,"tags":{"a":"b"}}"#)
        let tcp = ServiceInstance(namespace: "default", service: "echo", id: "i2", endpoints: ["tcp6://[::1]:1"])
        #expect(try #require(kitex.rendering(of: tcp)).value == bytes(#"{"network":"tcp6","address":"[::1]:1","weight":100,"tags":{}}"#))
    }

    @Test("instances a layout cannot show are not rendered: another namespace, no host:port for kitex")
    func notRendered() {
        let other = ServiceInstance(namespace: "prod", service: "echo", id: "i1", endpoints: ["grpc://h:1"])
        #expect(kratos.rendering(of: other) == nil)
        let pathOnly = ServiceInstance(namespace: "default", service: "echo", id: "i1", endpoints: ["unix:///s.sock"])
        #expect(kitex.rendering(of: pathOnly) == nil)
        #expect(kratos.rendering(of: pathOnly) != nil)
    }

    // MARK: - Configuration

    @Test("FRAMEWORK[@NAMESPACE]=PREFIX parses, and prints back the same way")
    func parseLayouts() throws {
        let layout = try FrameworkLayout.parse("kratos@prod=/services/")
        #expect(layout == FrameworkLayout(framework: .kratos, prefix: "/services", namespace: "prod"))
        #expect(layout.description == "kratos@prod=/services")
        #expect(try FrameworkLayout.parse("kitex=kitex/registry-etcd").description == "kitex=kitex/registry-etcd")
    }

    @Test("bad layout settings are refused with what to change",
          arguments: ["kratos", "spring=/x", "kratos=", "kratos=/", "kratos=microservices", "kratos@bad ns=/m", "kratos=/a//b"])
    func badLayouts(text: String) {
        #expect(throws: LayoutConfigurationError.self) { try FrameworkLayout.parse(text) }
    }

    @Test("overlapping prefixes are refused; the standard layouts are valid")
    func overlapping() throws {
        try FrameworkLayout.validate(FrameworkLayout.standard)
        let nested = [FrameworkLayout(framework: .kratos, prefix: "/m"), FrameworkLayout(framework: .kitex, prefix: "/m/kitex")]
        #expect(throws: LayoutConfigurationError.overlappingPrefixes("/m", "/m/kitex")) { try FrameworkLayout.validate(nested) }
        let siblings = [FrameworkLayout(framework: .kratos, prefix: "/m"), FrameworkLayout(framework: .kitex, prefix: "/mk")]
        try FrameworkLayout.validate(siblings)
    }

    // MARK: - Fuzzing

    @Test("seeded garbage and mutated documents never crash the reader", arguments: [1, 2, 3, 4] as [UInt64])
    func fuzz(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let documents = [
            #"{"id":"i1","name":"payments","version":"v1","metadata":{"a":"b"},"endpoints":["grpc://h:1"]}"#,
            #"{"network":"tcp","address":"10.0.1.1:8888","weight":10,"tags":{"x":"\u00e9\ud83d\ude00"}}"#,
        ].map(bytes)
        let alphabet = Array(#"{}[]":,\0123456789.eE+-tfnul "#.utf8) + [0x00, 0x7F, 0xC3, 0xFF]
        for round in 0..<2_000 {
            var document = documents[round % 2]
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let position = Int.random(in: 0..<document.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: document[position] = alphabet.randomElement(using: &random)!
                case 1: document.remove(at: position)
                default: document.insert(alphabet.randomElement(using: &random)!, at: position)
                }
            }
            _ = LayoutJSON.parse(document)
            _ = kratos.instance(key: bytes("/microservices/payments/i1"), value: document, limits: .standard)
            _ = kitex.instance(key: bytes("kitex/registry-etcd/echo/10.0.1.1:8888"), value: document, limits: .standard)
            let noise = (0..<Int.random(in: 0...64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            _ = LayoutJSON.parse(noise)
        }
        let deep = Array(repeating: UInt8(ascii: "["), count: 100_000)
        #expect(LayoutJSON.parse(deep) == nil, "nesting is bounded, not recursed into until the stack ends")
    }

    @Test("the reader agrees with a strict JSON grammar on small cases")
    func grammar() {
        for valid in ["0", "-0.5e+3", "\"\\u00e9\\/\"", "[]", "{}", " [1 , {\"a\":null}] ", "true", "\"\\ud83d\\ude00\""] {
            #expect(LayoutJSON.parse(bytes(valid)) != nil, "\(valid)")
        }
        for invalid in ["01", "1.", "-", "+1", "[1,]", "{\"a\"}", "{\"a\":1,}", "\"\t\"", "\"\\x\"", "tru", "\"\\udc00\"", "[1]]"] {
            #expect(LayoutJSON.parse(bytes(invalid)) == nil, "\(invalid)")
        }
    }
}

@Suite("Framework layouts: large documents")
struct LayoutLargeDocumentTests {
    @Test("a 1 MiB object of many members is read in one pass and judged, not refused or crashed on")
    func manyMembers() {
        var text = #"{"id":"i1","name":"payments""#
        var member = 0
        while text.utf8.count < 1_000_000 {
            text += #","m\#(member)":"x""#
            member += 1
        }
        text += "}"
        let layout = FrameworkLayout(framework: .kratos, prefix: "/microservices")
        let instance = layout.instance(key: bytes("/microservices/payments/i1"), value: bytes(text), limits: .standard)
        #expect(instance?.id == "i1", "unknown members are ignored, as Go ignores them")
    }
}
