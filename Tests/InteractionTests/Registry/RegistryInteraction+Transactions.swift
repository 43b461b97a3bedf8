// The `txn` command: an etcd transaction, nested ones and range compares included, written on one line.
//
//   txn [value a eq 1, version p* gt 0] then [put b 2, txn [mod c eq 0] then [put c x] else [del c]] else [get a..z]
//
// A compare is TARGET KEY RELATION VALUE (targets value, version, create, mod; relations eq, ne, lt, gt); a
// key `p*` is every key with prefix p, `a..b` every key from a up to b, `a..` every key from a on. An
// operation is `put KEY VALUE`, `get KEY`, `del KEY` or a nested `txn`. The command prints the transaction
// in this syntax, which branch ran at each level, and the events.
import Registry

extension RegistryInteraction {
    mutating func transaction(_ command: ScriptCommand) throws(ScriptError) -> [String] {
        guard command.options.isEmpty else { throw ScriptError("txn: no key=value options; relations are eq, ne, lt, gt") }
        var parser = TransactionParser(command.positional.joined(separator: " "))
        let request = try parser.transaction()
        try parser.expectEnd()
        return commit(.transaction(request))
    }

    func format(_ request: TransactionRequest) -> String {
        let compares = request.compares.map { compare -> String in
            let key = compare.range.map(format) ?? text(compare.key)
            switch compare.target {
            case .value(let value): return "value \(key) \(format(compare.relation)) \(text(value))"
            case .version(let version): return "version \(key) \(format(compare.relation)) \(version)"
            case .createRevision(let revision): return "create \(key) \(format(compare.relation)) \(revision.rawValue)"
            case .modRevision(let revision): return "mod \(key) \(format(compare.relation)) \(revision.rawValue)"
            case .lease(let lease): return "lease \(key) \(format(compare.relation)) \(lease?.rawValue ?? 0)"
            }
        }
        var line = "txn [\(compares.joined(separator: ", "))] then [\(format(request.success))]"
        if !request.failure.isEmpty { line += " else [\(format(request.failure))]" }
        return line
    }

    func format(_ operations: [TransactionOperation]) -> String {
        operations.map { operation -> String in
            switch operation {
            case .put(let put): "put \(text(put.key)) \(text(put.value))"
            case .range(let range): "get \(format(range.range))"
            case .deleteRange(let delete): "del \(format(delete.range))"
            case .transaction(let nested): format(nested)
            }
        }.joined(separator: ", ")
    }

    func format(_ range: KeyRange) -> String {
        switch range {
        case .key(let key): text(key)
        case .prefix(let prefix): text(prefix) + "*"
        case .interval(let start, let end): "\(text(start))..\(text(end))"
        case .fromKey(let key): text(key) + ".."
        }
    }

    func format(_ relation: Compare.Relation) -> String {
        switch relation {
        case .equal: "eq"
        case .notEqual: "ne"
        case .less: "lt"
        case .greater: "gt"
        }
    }

    /// Which branch ran, and what each operation answered, nested transactions included.
    func format(transactionResponse succeeded: Bool, _ responses: [OperationResponse]) -> String {
        let answers = responses.map { response -> String in
            switch response {
            case .range(let result): "got \(result.keyValues.map { "\(text($0.key))=\(text($0.value))" }.joined(separator: " "))"
            case .put: "stored"
            case .deleteRange(let deleted, _): "deleted \(deleted)"
            case .transaction(let nested, let inner): format(transactionResponse: nested, inner)
            }
        }
        return (succeeded ? "then" : "else") + " [" + answers.joined(separator: ", ") + "]"
    }
}

/// A recursive-descent parser of the `txn` syntax.
struct TransactionParser {
    var tokens: [String]
    var position = 0

    init(_ line: String) {
        var tokens: [String] = []
        var word = ""
        for character in line {
            if character == " " || "[],".contains(character) {
                if !word.isEmpty { tokens.append(word) }
                word = ""
                if character != " " { tokens.append(String(character)) }
            } else {
                word.append(character)
            }
        }
        if !word.isEmpty { tokens.append(word) }
        self.tokens = tokens
    }

    mutating func next(_ what: String) throws(ScriptError) -> String {
        guard position < tokens.count else { throw ScriptError("txn: expected \(what) at the end") }
        defer { position += 1 }
        return tokens[position]
    }

    mutating func expect(_ token: String) throws(ScriptError) {
        let found = try next("'\(token)'")
        guard found == token else { throw ScriptError("txn: expected '\(token)', found '\(found)'") }
    }

    func expectEnd() throws(ScriptError) {
        guard position == tokens.count else { throw ScriptError("txn: unexpected '\(tokens[position])'") }
    }

    var peek: String? { position < tokens.count ? tokens[position] : nil }

    /// `[compares] then [ops] (else [ops])?`
    mutating func transaction() throws(ScriptError) -> TransactionRequest {
        let compares = try list { (parser: inout TransactionParser) throws(ScriptError) in try parser.compare() }
        try expect("then")
        let success = try list { (parser: inout TransactionParser) throws(ScriptError) in try parser.operation() }
        var failure: [TransactionOperation] = []
        if peek == "else" {
            position += 1
            failure = try list { (parser: inout TransactionParser) throws(ScriptError) in try parser.operation() }
        }
        return TransactionRequest(compares: compares, success: success, failure: failure)
    }

    mutating func list<Item>(_ item: (inout TransactionParser) throws(ScriptError) -> Item) throws(ScriptError) -> [Item] {
        try expect("[")
        var items: [Item] = []
        while peek != "]" {
            if !items.isEmpty { try expect(",") }
            items.append(try item(&self))
        }
        try expect("]")
        return items
    }

    mutating func compare() throws(ScriptError) -> Compare {
        let target = try next("a compare target")
        let key = try range(try next("a key"))
        let relationName = try next("a relation")
        let relations: [String: Compare.Relation] = ["eq": .equal, "ne": .notEqual, "lt": .less, "gt": .greater]
        guard let relation = relations[relationName] else { throw ScriptError("txn: unknown relation \(relationName)") }
        let value = try next("a value")
        let mapped: Compare.Target
        switch target {
        case "value": mapped = .value(Array(value.utf8))
        case "version", "create", "mod":
            guard let number = Int64(value) else { throw ScriptError("txn: \(target) needs a number, not \(value)") }
            mapped = target == "version" ? .version(number) : target == "create" ? .createRevision(Revision(number)) : .modRevision(Revision(number))
        default: throw ScriptError("txn: unknown compare target \(target)")
        }
        if case .key(let single) = key { return Compare(key: single, mapped, relation) }
        return Compare(range: key, mapped, relation)
    }

    mutating func operation() throws(ScriptError) -> TransactionOperation {
        let verb = try next("an operation")
        switch verb {
        case "put":
            let key = try next("a key")
            return .put(PutRequest(key: Array(key.utf8), value: Array(try next("a value").utf8)))
        case "get": return .range(RangeRequest(try range(try next("a key"))))
        case "del": return .deleteRange(DeleteRangeRequest(try range(try next("a key"))))
        case "txn": return .transaction(try transaction())
        default: throw ScriptError("txn: unknown operation \(verb)")
        }
    }

    func range(_ text: String) throws(ScriptError) -> KeyRange {
        if text.hasSuffix("*") { return .prefix(Array(text.dropLast().utf8)) }
        if let dots = text.firstRange(of: "..") {
            let start = Array(text[..<dots.lowerBound].utf8)
            let end = Array(text[dots.upperBound...].utf8)
            return end.isEmpty ? .fromKey(start) : .interval(start: start, end: end)
        }
        return .key(Array(text.utf8))
    }
}
