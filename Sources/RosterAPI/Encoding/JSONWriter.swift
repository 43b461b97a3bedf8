import HTTP

/// Appends JSON to a byte buffer in the order fields are written, with commas placed automatically.
///
/// Responses are written by hand rather than through a general encoder so that key order is fixed (the
/// same response is the same bytes, which tests and caches rely on) and so that the hot paths (watch
/// events, listings) build no intermediate dictionaries or strings.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    /// One entry per open object or array: whether nothing has been written in it yet.
    private var isFirst: [Bool] = []
    /// Whether a key was just written, so the next value needs no comma.
    private var afterKey = false

    init(reservingCapacity capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    /// A writer for the next elements of an array whose `[` (and, when `hasElements`, earlier elements) were
    /// written elsewhere, appending after `start`: the first value gets a comma exactly when one is due.
    /// Why: a streamed answer encodes a long array piece by piece, each piece in a fresh buffer.
    init(continuingArray hasElements: Bool, after start: [UInt8], reservingCapacity capacity: Int) {
        bytes = start
        bytes.reserveCapacity(capacity)
        isFirst = [!hasElements]
    }

    mutating func beginObject() { separate(); bytes.append(UInt8(ascii: "{")); isFirst.append(true) }
    mutating func endObject() {
        precondition(!isFirst.isEmpty, "unbalanced endObject"); isFirst.removeLast(); bytes.append(UInt8(ascii: "}"))
    }
    mutating func beginArray() { separate(); bytes.append(UInt8(ascii: "[")); isFirst.append(true) }
    mutating func endArray() {
        precondition(!isFirst.isEmpty, "unbalanced endArray"); isFirst.removeLast(); bytes.append(UInt8(ascii: "]"))
    }

    /// Writes `"name":`; the next call writes its value.
    mutating func key(_ name: String) {
        separate()
        JSONText.appendQuoted(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    /// Writes `"name":` for a name fixed in the source, which must need no escaping (letters, digits, `_`):
    /// copied as it is, without the scan `key(_:)` does.
    mutating func key(static name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    mutating func string(_ value: String) { separate(); JSONText.appendQuoted(value, to: &bytes) }
    mutating func integer<Value: BinaryInteger>(_ value: Value) {
        separate()
        if let small = Int64(exactly: value) {
            JSONWriter.appendDecimal(small, to: &bytes)
        } else {
            bytes.append(contentsOf: String(value).utf8)
        }
    }

    /// Appends the decimal digits of `value` without building a string (the same text as `String(value)`).
    static func appendDecimal(_ value: Int64, to output: inout [UInt8]) {
        if value < 0 { output.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        if magnitude < 10 {
            output.append(UInt8(ascii: "0") + UInt8(magnitude))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes hold the 20 digits of UInt64.max
        withUnsafeMutableBytes(of: &digits) { buffer in
            var position = buffer.count
            while magnitude > 0 {
                position -= 1
                buffer[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            }
            output.append(contentsOf: buffer[position...])
        }
    }
    mutating func bool(_ value: Bool) { separate(); bytes.append(contentsOf: (value ? "true" : "false").utf8) }
    mutating func null() { separate(); bytes.append(contentsOf: "null".utf8) }

    /// Writes `json`, which must be one complete JSON value, as the next value.
    mutating func raw(_ json: [UInt8]) { separate(); bytes.append(contentsOf: json) }

    /// Writes `bytes` as standard padded base64 in a JSON string.
    mutating func base64(_ value: [UInt8]) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        Base64.encode(value, into: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    // Convenience for `"name": value` pairs.
    mutating func field(_ name: String, _ value: String) { key(name); string(value) }
    mutating func field<Value: BinaryInteger>(_ name: String, _ value: Value) { key(name); integer(value) }
    mutating func field(_ name: String, _ value: Bool) { key(name); bool(value) }
    mutating func field(static name: StaticString, _ value: String) { key(static: name); string(value) }
    mutating func field<Value: BinaryInteger>(static name: StaticString, _ value: Value) { key(static: name); integer(value) }

    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        guard let first = isFirst.last else { return }
        if !first { bytes.append(UInt8(ascii: ",")) }
        isFirst[isFirst.count - 1] = false
    }
}
