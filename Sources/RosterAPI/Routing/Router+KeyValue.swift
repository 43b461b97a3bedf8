import Registry
import RosterNode

/// `/v1/kv/{key}`: read, write and delete keys of the revisioned key space.
///
/// The key is the rest of the path after `/v1/kv/`, percent-decoded as a whole, so keys may contain `/`
/// (`/v1/kv/config/app` is the key `config/app`; `%2F` works too). Keys in paths are UTF-8 without NUL,
/// because the HTTP parser refuses other bytes in paths.
extension Router {
    func routeKeyValue() throws(APIError) -> RoutedRequest {
        try allow(["GET", "PUT", "DELETE"])
        let raw = rawSegments.dropFirst(2).joined(separator: "/")
        guard let key = PathDecoding.decode(Substring(raw)) else {
            throw .invalidParameter("key", "has a malformed percent escape in the path")
        }
        var query = try QueryReader(request.query)
        switch method {
        case "GET":
            let range = try KeyRangeParameters.fromQuery(&query, key: key, limits: limits)
            let limit = try query.int64("limit", in: Int64.min...Int64.max) ?? 0
            if limit < 0 { try checked(.invalidLimit(Int(limit)), field: "limit") }
            var read = RangeRequest(range, limit: Int(limit))
            read.keysOnly = try query.bool("keys_only")
            read.countOnly = try query.bool("count_only")
            let options = try query.readOptions()
            try query.finish()
            try expectNoBody()
            return .node(.read(.range(read), options))
        case "DELETE":
            let range = try KeyRangeParameters.fromQuery(&query, key: key, limits: limits)
            try refuseSystemKeys(range, field: "key")
            let previous = try query.bool("prev")
            try query.finish()
            try expectNoBody()
            return .node(.write(.deleteRange(DeleteRangeRequest(range, returnPrevious: previous))))
        default:
            try query.finish()
            try checkKey(key, field: "key", limits: limits)
            try refuseSystemKeys(.key(key), field: "key")
            var fields = try JSONFields(try jsonBody(), path: "", allowed: ["value", "value_base64", "lease", "prev"])
            let put = try KeyValueBody.put(&fields, key: key, limits: limits)
            try fields.finish()
            return .node(.write(.put(put)))
        }
    }
}

/// Refuses a write to Roster's own keys (first byte 0x01, the member directory): members are changed through
/// `/v1/cluster/members`, which keeps the directory and the Raft configuration in step. Reading them is fine.
func refuseSystemKeys(_ range: KeyRange, field: String) throws(APIError) {
    let start: [UInt8]
    switch range {
    case .key(let key), .prefix(let key), .fromKey(let key): start = key
    case .interval(let key, _): start = key
    }
    if KeyRange.isSystemKey(start) {
        throw .invalidParameter(
            field, "keys starting with byte 0x01 are reserved for Roster's member directory; use /v1/cluster/members")
    }
}

/// Refuses an empty or over-long single key, with the registry's codes.
func checkKey(_ key: [UInt8], field: String, limits: RegistryLimits) throws(APIError) {
    if key.isEmpty { try checked(.emptyKey, field: field) }
    if key.count > limits.keyBytes { try checked(.keyTooLong(bytes: key.count, limit: limits.keyBytes), field: field) }
}

/// Builds and checks a `KeyRange` from a key plus at most one of `prefix`, `range_end`, `from_key`.
enum KeyRangeParameters {
    static func fromQuery(_ query: inout QueryReader, key: [UInt8], limits: RegistryLimits) throws(APIError) -> KeyRange
    {
        let prefix = try query.bool("prefix")
        let rangeEnd = query.string("range_end").map { Array($0.utf8) }
        let fromKey = try query.bool("from_key")
        return try make(key: key, prefix: prefix, rangeEnd: rangeEnd, fromKey: fromKey, limits: limits)
    }

    static func make(
        key: [UInt8], prefix: Bool, rangeEnd: [UInt8]?, fromKey: Bool, limits: RegistryLimits, path: String = ""
    ) throws(APIError) -> KeyRange {
        let chosen = [prefix, rangeEnd != nil, fromKey].filter { $0 }.count
        if chosen > 1 {
            throw .invalidParameter("\(path)prefix", "range_end and from_key are exclusive; give at most one")
        }
        if key.count > limits.keyBytes {
            try checked(.keyTooLong(bytes: key.count, limit: limits.keyBytes), field: "\(path)key")
        }
        if prefix { return .prefix(key) }
        if fromKey { return .fromKey(key) }
        if let rangeEnd {
            if rangeEnd.count > limits.keyBytes {
                try checked(.keyTooLong(bytes: rangeEnd.count, limit: limits.keyBytes), field: "\(path)range_end")
            }
            if rangeEnd.lexicographicallyPrecedes(key) { try checked(.invalidRange(start: key, end: rangeEnd)) }
            return .interval(start: key, end: rangeEnd)
        }
        if key.isEmpty { try checked(.emptyKey, field: "\(path)key") }
        return .key(key)
    }
}

/// The fields of a put, shared by `PUT /v1/kv/{key}` and a transaction's `put` operation.
enum KeyValueBody {
    /// Reads `value` (UTF-8 text) or `value_base64` (any bytes), `lease` and `prev` from `fields`.
    static func put(_ fields: inout JSONFields, key: [UInt8], limits: RegistryLimits) throws(APIError) -> PutRequest {
        let value = try bytes(&fields, field: "value", required: true, limits: limits) ?? []
        if value.count > limits.valueBytes {
            try checked(.valueTooLong(bytes: value.count, limit: limits.valueBytes), field: fields.name("value"))
        }
        var put = PutRequest(key: key, value: value)
        put.lease = try fields.take("lease").map { (lease) throws(APIError) in
            try leaseID(lease, field: fields.name("lease"))
        }
        put.returnPrevious = try fields.take("prev")?.bool(fields.name("prev")) ?? false
        return put
    }

    /// Bytes given as `<field>` (a UTF-8 string) or `<field>_base64` (standard padded base64); at most one.
    static func bytes(_ fields: inout JSONFields, field: String, required: Bool, limits: RegistryLimits)
        throws(APIError)
        -> [UInt8]?
    {
        let text = fields.take(field)
        let encoded = fields.take("\(field)_base64")
        switch (text, encoded) {
        case (.some, .some):
            throw .invalidField(fields.name(field), "and \(field)_base64 are exclusive; give one")
        case (.some(let text), nil):
            return Array(try text.string(fields.name(field)).utf8)
        case (nil, .some(let encoded)):
            let name = fields.name("\(field)_base64")
            guard let bytes = Base64.decode(try encoded.string(name)) else {
                throw .invalidField(name, "is not canonical padded base64 (RFC 4648 alphabet, '=' padding)")
            }
            return bytes
        case (nil, nil):
            if required { throw .missingField(fields.name(field), "a string, or \(field)_base64 for binary data") }
            return nil
        }
    }
}
