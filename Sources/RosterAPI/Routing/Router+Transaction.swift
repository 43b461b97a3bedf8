import Registry
import RosterNode

/// `POST /v1/txn` and `POST /v1/compact`.
///
/// A transaction body mirrors `TransactionRequest`:
/// ```json
/// {"compare": [{"key": "k", "result": "equal", "version": 3}],
///  "success": [{"put": {"key": "k", "value": "v"}}],
///  "failure": [{"range": {"key": "k"}}]}
/// ```
/// A compare names its target by the one field it carries: `value`/`value_base64`, `version`,
/// `create_revision`, `mod_revision` or `lease` (0 meaning "no lease"); `result` is `equal`, `not_equal`,
/// `less` or `greater`. Each operation is an object with exactly one of `range`, `put`, `delete`.
extension Router {
    func routeTransaction() throws(APIError) -> RoutedRequest {
        try allow(["POST"])
        let query = try QueryReader(request.query)
        try query.finish()
        var fields = try JSONFields(try jsonBody(), path: "", allowed: ["compare", "success", "failure"])
        let compares = try list(fields.take("compare"), field: "compare") { (value, path) throws(APIError) in
            try TransactionBody.compare(value, path: path, limits: limits)
        }
        let success = try list(fields.take("success"), field: "success") { (value, path) throws(APIError) in
            try TransactionBody.operation(value, path: path, limits: limits)
        }
        let failure = try list(fields.take("failure"), field: "failure") { (value, path) throws(APIError) in
            try TransactionBody.operation(value, path: path, limits: limits)
        }
        try fields.finish()
        return .node(.write(.transaction(TransactionRequest(compares: compares, success: success, failure: failure))))
    }

    /// Decodes a list, refusing one longer than a transaction may be before decoding its elements.
    private func list<Element>(
        _ value: JSONValue?, field: String, _ decode: (JSONValue, String) throws(APIError) -> Element
    ) throws(APIError) -> [Element] {
        guard let value else { return [] }
        let elements = try value.array(field)
        if elements.count > limits.transactionOperations {
            try checked(.tooManyOperations(count: elements.count, limit: limits.transactionOperations))
        }
        var result: [Element] = []
        for (position, element) in elements.enumerated() { result.append(try decode(element, "\(field)[\(position)]")) }
        return result
    }

    func routeCompact() throws(APIError) -> RoutedRequest {
        try allow(["POST"])
        let query = try QueryReader(request.query)
        try query.finish()
        var fields = try JSONFields(try jsonBody(), path: "", allowed: ["revision"])
        let value = try fields.require("revision", hint: "the revision to compact up to")
        try fields.finish()
        let raw = try value.int64("revision", in: Int64.min...Int64.max)
        if raw < 0 { try checked(.negativeRevision(Revision(raw)), field: "revision") }
        return .node(.write(.compact(Revision(raw))))
    }
}

/// Decoders for the parts of a transaction body.
enum TransactionBody {
    private static let compareTargets = [
        "value", "value_base64", "version", "create_revision", "mod_revision", "lease",
    ]

    static func compare(_ value: JSONValue, path: String, limits: RegistryLimits) throws(APIError) -> Compare {
        var fields = try JSONFields(value, path: path, allowed: ["key", "result"] + compareTargets)
        let key = Array(try fields.require("key", hint: "the key to compare").string(fields.name("key")).utf8)
        try checkKey(key, field: fields.name("key"), limits: limits)
        let relation = try self.relation(
            try fields.require("result", hint: "equal, not_equal, less or greater"), fields.name("result"))
        var targets: [Compare.Target] = []
        if let bytes = try KeyValueBody.bytes(&fields, field: "value", required: false, limits: limits) {
            targets.append(.value(bytes))
        }
        if let version = fields.take("version") {
            targets.append(.version(try version.int64(fields.name("version"), in: 0...Int64.max)))
        }
        if let revision = fields.take("create_revision") {
            targets.append(
                .createRevision(Revision(try revision.int64(fields.name("create_revision"), in: 0...Int64.max))))
        }
        if let revision = fields.take("mod_revision") {
            targets.append(.modRevision(Revision(try revision.int64(fields.name("mod_revision"), in: 0...Int64.max))))
        }
        if let lease = fields.take("lease") {
            let raw = try lease.uint64(fields.name("lease"))
            targets.append(.lease(raw == 0 ? nil : LeaseID(raw)))
        }
        try fields.finish()
        guard targets.count == 1, let target = targets.first else {
            throw .invalidField(
                path, "needs exactly one of value, value_base64, version, create_revision, mod_revision, lease")
        }
        return Compare(key: key, target, relation)
    }

    private static func relation(_ value: JSONValue, _ field: String) throws(APIError) -> Compare.Relation {
        switch try value.string(field) {
        case "equal": return .equal
        case "not_equal": return .notEqual
        case "less": return .less
        case "greater": return .greater
        case let other:
            throw .invalidField(field, "must be equal, not_equal, less or greater, got \(printable(Array(other.utf8)))")
        }
    }

    static func operation(_ value: JSONValue, path: String, limits: RegistryLimits) throws(APIError)
        -> TransactionOperation
    {
        var fields = try JSONFields(value, path: path, allowed: ["range", "put", "delete"])
        let range = fields.take("range")
        let put = fields.take("put")
        let delete = fields.take("delete")
        try fields.finish()
        switch (range, put, delete) {
        case (.some(let body), nil, nil):
            var fields = try JSONFields(
                body, path: "\(path).range", allowed: rangeFields + ["limit", "keys_only", "count_only"])
            var request = RangeRequest(try keyRange(&fields, limits: limits))
            if let limit = fields.take("limit") {
                let raw = try limit.int64(fields.name("limit"), in: Int64.min...Int64.max)
                if raw < 0 { try checked(.invalidLimit(Int(raw)), field: fields.name("limit")) }
                request.limit = Int(raw)
            }
            request.keysOnly = try fields.take("keys_only")?.bool(fields.name("keys_only")) ?? false
            request.countOnly = try fields.take("count_only")?.bool(fields.name("count_only")) ?? false
            try fields.finish()
            return .range(request)
        case (nil, .some(let body), nil):
            var fields = try JSONFields(
                body, path: "\(path).put", allowed: ["key", "value", "value_base64", "lease", "prev"])
            let key = Array(try fields.require("key", hint: "the key to write").string(fields.name("key")).utf8)
            try checkKey(key, field: fields.name("key"), limits: limits)
            try refuseSystemKeys(.key(key), field: fields.name("key"))
            let request = try KeyValueBody.put(&fields, key: key, limits: limits)
            try fields.finish()
            return .put(request)
        case (nil, nil, .some(let body)):
            var fields = try JSONFields(body, path: "\(path).delete", allowed: rangeFields + ["prev"])
            let range = try keyRange(&fields, limits: limits)
            try refuseSystemKeys(range, field: fields.name("key"))
            let previous = try fields.take("prev")?.bool(fields.name("prev")) ?? false
            try fields.finish()
            return .deleteRange(DeleteRangeRequest(range, returnPrevious: previous))
        default:
            throw .invalidField(path, "needs exactly one of range, put, delete")
        }
    }

    private static let rangeFields = ["key", "range_end", "prefix", "from_key"]

    private static func keyRange(_ fields: inout JSONFields, limits: RegistryLimits) throws(APIError) -> KeyRange {
        let key = Array(
            try fields.require("key", hint: "the key or start of the range").string(fields.name("key")).utf8)
        let rangeEnd = try fields.take("range_end")?.string(fields.name("range_end")).utf8.map { $0 }
        let prefix = try fields.take("prefix")?.bool(fields.name("prefix")) ?? false
        let fromKey = try fields.take("from_key")?.bool(fields.name("from_key")) ?? false
        return try KeyRangeParameters.make(
            key: key, prefix: prefix, rangeEnd: rangeEnd, fromKey: fromKey, limits: limits,
            path: fields.path + ".")
    }
}
