/// Reads the fields of one JSON object by name, then refuses whatever was not read.
///
/// Every decoder follows the same shape: `take` each known field, convert it with a typed accessor that
/// names the field in its error, then `finish()`, which reports the first unknown field in the order the
/// client wrote them. An explicit `null` reads as absent, so clients that serialize unset optionals as
/// `null` need no special care; a required field that is `null` is reported as missing.
struct JSONFields {
    /// The dotted path of this object in the body, used as the prefix of field names in messages.
    let path: String
    private var members: [JSONMember]
    /// Names read so far; a few per object, so a list is cheaper than a set.
    private var taken: [String] = []
    private let allowed: [String]

    /// Starts reading `value`, which must be an object.
    /// - Parameters:
    ///   - path: How messages name this object ("" for the body itself, "compare[0]" inside a list).
    ///   - allowed: Every field this object may have, listed in messages about unknown fields.
    init(_ value: JSONValue, path: String, allowed: [String]) throws(APIError) {
        guard case .object(let members) = value else {
            let what = path.isEmpty ? "request body" : "field \(path)"
            throw APIError(
                status: .badRequest, code: path.isEmpty ? "malformed_json" : "invalid_field",
                message: "\(what) must be a JSON object, got \(value.typeDescription)")
        }
        self.path = path
        self.members = members
        self.allowed = allowed
    }

    /// The full name of a field of this object, as messages print it.
    func name(_ field: String) -> String { path.isEmpty ? field : "\(path).\(field)" }

    /// The value of `field`, or nil if it is absent or `null`.
    mutating func take(_ field: String) -> JSONValue? {
        precondition(allowed.contains(field), "field \(field) read but not declared")
        taken.append(field)
        guard let member = members.first(where: { $0.name == field }) else { return nil }
        if case .null = member.value { return nil }
        return member.value
    }

    /// The value of a required `field`.
    mutating func require(_ field: String, hint: String) throws(APIError) -> JSONValue {
        guard let value = take(field) else { throw .missingField(name(field), hint) }
        return value
    }

    /// Refuses the first field that was never taken.
    func finish() throws(APIError) {
        if let unknown = members.first(where: { !taken.contains($0.name) }) {
            throw .unknownField(name(unknown.name), allowed: allowed)
        }
    }
}

// MARK: - Typed accessors

extension JSONValue {
    /// The value as a string.
    func string(_ field: String) throws(APIError) -> String {
        guard case .string(let text) = self else {
            throw .invalidField(field, "must be a string, got \(typeDescription)")
        }
        return text
    }

    /// The value as a boolean.
    func bool(_ field: String) throws(APIError) -> Bool {
        guard case .bool(let flag) = self else {
            throw .invalidField(field, "must be true or false, got \(typeDescription)")
        }
        return flag
    }

    /// The value as an array.
    func array(_ field: String) throws(APIError) -> [JSONValue] {
        guard case .array(let elements) = self else {
            throw .invalidField(field, "must be an array, got \(typeDescription)")
        }
        return elements
    }

    /// The value as a signed integer within `range`; fractions, exponents and overflow are refused.
    func int64(_ field: String, in range: ClosedRange<Int64>) throws(APIError) -> Int64 {
        let number = try integerText(field)
        guard let value = Int64(number), range.contains(value) else {
            throw .invalidField(field, "must be an integer in \(range.lowerBound)...\(range.upperBound), got \(number)")
        }
        return value
    }

    /// The value as an unsigned integer within `range`.
    func uint64(_ field: String, in range: ClosedRange<UInt64> = 0...UInt64.max) throws(APIError) -> UInt64 {
        let number = try integerText(field)
        guard let value = UInt64(number), range.contains(value) else {
            throw .invalidField(field, "must be an integer in \(range.lowerBound)...\(range.upperBound), got \(number)")
        }
        return value
    }

    private func integerText(_ field: String) throws(APIError) -> String {
        guard case .number(let number) = self else {
            throw .invalidField(field, "must be an integer, got \(typeDescription)")
        }
        guard number.isIntegral else {
            throw .invalidField(field, "must be an integer without fraction or exponent, got \(number.text)")
        }
        return number.text
    }
}
